"""The report site: a Flask app that reads one experiment's output folder and never writes to it.

Pages (``/``, ``/stages/<stage>``, ``/variants/<id>``, ``/logs``) are thin
HTML shells; their data comes from the JSON API (``/api/...``), which a
notebook or a script can read as well. Archives are streamed. Every route
answers GET (and HEAD) only. Errors never show a traceback: the exception is
logged on the server and the browser gets a one-line message.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import threading
import time
from collections.abc import Iterator
from typing import Any

from flask import Flask, Response, abort, jsonify, render_template, request, send_file
from werkzeug.exceptions import HTTPException

from flambe.report import security
from flambe.report import tensorboard as tb
from flambe.report.archive import members, stream_tar
from flambe.report.folder import VARIANT_LOG, OutputFolder
from flambe.report.paths import confine
from flambe.report.views import Views

logger = logging.getLogger(__name__)

LOG_CHUNK = 256 * 1024
STREAM_POLL_S = 0.5
STREAM_IDLE_END_S = 2.0
STREAM_MAX_S = 6 * 3600
HEARTBEAT_S = 15.0


def plotly_js_path() -> str | None:
    """``plotly.min.js`` as shipped inside the ``plotly`` Python package (no import of plotly)."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        path = os.path.join(location, "package_data", "plotly.min.js")
        if os.path.isfile(path):
            return path
    return None


def create_app(
    output_folder: str,
    token: str | None = None,
    tensorboard_url: str | None = None,
    console_log: str | None = None,
    tensorboard_running: bool = False,
    warm_cache: bool = False,
) -> Flask:
    """Build the site for one output folder.

    Parameters
    ----------
    output_folder : str
        The experiment's output folder (or its ``progress.json``). It may not
        exist yet: the pages then say they wait for the experiment.
    token : str, optional
        When given, every request must present it (see :mod:`flambe.report.security`).
    tensorboard_url : str, optional
        Where TensorBoard serves this folder; links to it are then shown.
    console_log : str, optional
        The experiment's console log (default ``<folder>/console.log``).
    tensorboard_running : bool
        Whether the site started TensorBoard itself (``--tensorboard``).
    warm_cache : bool
        Read every event file once in a background thread, so that the
        first stage page of a large experiment plots at once.

    Returns
    -------
    Flask
        The application (serve it with :func:`flambe.report.server.serve`).

    """
    app = Flask(__name__, static_folder="static", template_folder="templates")
    app.config.update(
        DEBUG=False,
        TESTING=False,
        PROPAGATE_EXCEPTIONS=False,
        TRAP_HTTP_EXCEPTIONS=False,
        JSON_SORT_KEYS=False,
        SEND_FILE_MAX_AGE_DEFAULT=3600,
        STREAM_IDLE_END_S=STREAM_IDLE_END_S,
    )
    # "//etc/passwd" stays an absolute path (refused with 404), not a redirect to a new URL
    app.url_map.merge_slashes = False
    folder = OutputFolder(output_folder, console_log=console_log)
    views = Views(folder)
    app.extensions["flambe_report"] = {"folder": folder, "views": views}
    if warm_cache:
        threading.Thread(
            target=_warm, args=(views,), name="flambe-report-warm", daemon=True
        ).start()

    def tensorboard_info() -> dict[str, Any]:
        return {
            "url": tensorboard_url,
            "installed": tb.installed(),
            "started_here": tensorboard_running,
            "install_hint": tb.INSTALL_HINT,
            "command": f"flambe site {folder.root} --tensorboard",
        }

    # -- security ---------------------------------------------------------------------------
    @app.before_request
    def check_token() -> Response | None:
        if token is None:
            # without a token the site is bound to loopback: a page of another site that
            # renamed itself to 127.0.0.1 (DNS rebinding) still sends its own name
            if not security.is_loopback(security.host_name(request.host)):
                return Response(
                    "403 Forbidden: this report site answers to localhost only\n",
                    status=403,
                    mimetype="text/plain",
                )
            return None
        if security.token_matches(token, security.presented_token(request)):
            return None
        return Response(
            "401 Unauthorized: this report site needs its token: open the URL "
            "printed by 'flambe site' (it ends with ?token=...)\n",
            status=401,
            mimetype="text/plain",
            headers={"WWW-Authenticate": "Bearer"},
        )

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Content-Security-Policy", security.CSP)
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if token is not None and request.args.get("token") and response.status_code < 400:
            response.set_cookie(security.COOKIE, token, httponly=True, samesite="Strict")
        if request.path.startswith("/api/") and "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        if request.path.startswith("/api/"):
            return jsonify(error=exc.name, status=exc.code), exc.code
        return Response(f"{exc.code} {exc.name}\n", status=exc.code, mimetype="text/plain")

    @app.errorhandler(Exception)
    def internal_error(exc: Exception) -> Any:
        logger.exception("report site: %s failed", request.path)
        message = "internal error: the server log has the details"
        if request.path.startswith("/api/"):
            return jsonify(error=message, status=500), 500
        return Response(f"500 {message}\n", status=500, mimetype="text/plain")

    # -- pages --------------------------------------------------------------------------------
    @app.get("/")
    def overview() -> str:
        return render_template(
            "overview.html", title="Experiment", root=folder.root, tensorboard=tensorboard_info()
        )

    @app.get("/stages/<stage>")
    def stage_page(stage: str) -> str:
        if views.stage(stage, limit=1) is None:
            abort(404)
        return render_template(
            "stage.html",
            title=f"Stage {stage}",
            stage=stage,
            tensorboard=tensorboard_info(),
            tensorboard_link=tensorboard_url and tb.filtered_url(tensorboard_url, stage),
        )

    @app.get("/variants/<vid>")
    def variant_page(vid: str) -> str:
        found = folder.find_variant(vid)
        if found is None:
            abort(404)
        stage, vid, entry = found
        return render_template(
            "variant.html",
            title=f"{stage}/{entry.get('name')}",
            stage=stage,
            vid=vid,
            name=entry.get("name"),
            tensorboard=tensorboard_info(),
            tensorboard_link=tensorboard_url
            and tb.filtered_url(tensorboard_url, stage, str(entry.get("name"))),
        )

    @app.get("/logs")
    def logs_page() -> str:
        return render_template("logs.html", title="Console", log_path=folder.console_log_path)

    @app.get("/vendor/plotly.min.js")
    def plotly_js() -> Response:
        path = plotly_js_path()
        if path is None:
            abort(404)
        return send_file(path, mimetype="text/javascript", max_age=86400)

    # -- JSON API -------------------------------------------------------------------------------
    @app.get("/api/experiment")
    def api_experiment() -> Any:
        data = views.experiment()
        data["tensorboard"] = tensorboard_info()
        if tensorboard_url:
            data["tensorboard"]["stages"] = {
                s["name"]: tb.filtered_url(tensorboard_url, s["name"]) for s in data["stages"]
            }
        return jsonify(data)

    @app.get("/api/stages/<stage>")
    def api_stage(stage: str) -> Any:
        args = request.args
        data = views.stage(
            stage,
            sort=args.get("sort", "name"),
            descending=args.get("desc", "0") in ("1", "true"),
            query=args.get("q", ""),
            status=args.get("status", ""),
            offset=_int_arg("offset", 0),
            limit=_int_arg("limit", 50),
        )
        if data is None:
            abort(404)
        return jsonify(data)

    @app.get("/api/stages/<stage>/curves")
    def api_curves(stage: str) -> Any:
        data = views.curves(stage)
        if data is None:
            abort(404)
        return jsonify(data)

    @app.get("/api/variants/<vid>")
    def api_variant(vid: str) -> Any:
        data = views.variant(vid)
        if data is None:
            abort(404)
        if tensorboard_url:
            data["tensorboard_url"] = tb.filtered_url(
                tensorboard_url, data["stage"], str(data["name"])
            )
        return jsonify(data)

    @app.get("/api/variants/<vid>/scalars")
    def api_scalars(vid: str) -> Any:
        data = views.variant_scalars(vid)
        if data is None:
            abort(404)
        return jsonify(data)

    @app.get("/api/logs")
    def api_log() -> Any:
        return jsonify(_read_chunk(folder.console_log_path, _int_arg("offset", 0)))

    @app.get("/api/logs/stream")
    def api_log_stream() -> Response:
        return _sse(
            _follow(
                folder,
                folder.console_log_path,
                _int_arg("offset", 0),
                app.config["STREAM_IDLE_END_S"],
            )
        )

    @app.get("/api/variants/<vid>/log")
    def api_variant_log(vid: str) -> Any:
        return jsonify(_read_chunk(_variant_log(folder, vid), _int_arg("offset", 0)))

    @app.get("/api/variants/<vid>/log/stream")
    def api_variant_log_stream(vid: str) -> Response:
        return _sse(
            _follow(
                folder,
                _variant_log(folder, vid),
                _int_arg("offset", 0),
                app.config["STREAM_IDLE_END_S"],
            )
        )

    # -- files and archives ---------------------------------------------------------------------
    @app.get("/files/<path:relative>")
    def file(relative: str) -> Response:
        path = confine(folder.root, relative)
        if path is None or not os.path.isfile(path):
            abort(404)
        return send_file(path, as_attachment=True, download_name=os.path.basename(path))

    def archive(logs_only: bool, stage: str | None = None, variant: str | None = None) -> Response:
        target: str | None = folder.root
        name = "experiment"
        if stage is not None:
            if stage not in ((folder.progress() or {}).get("stages") or {}):
                abort(404)
            target, name = folder.stage_dir(stage), f"experiment-{stage}"
            if variant is not None:
                entry = _variant_in_stage(folder, stage, variant)
                if entry is None:
                    abort(404)
                target = folder.variant_dir(stage, entry)
                name = f"experiment-{stage}-{entry.get('name')}"
        if target is None or not os.path.isdir(target):
            abort(404)
        name += "-logs.tar" if logs_only else ".tar"
        arc_root = name[:-4]
        response = Response(
            stream_tar(members(target, arc_root, logs_only)),
            mimetype="application/x-tar",
            direct_passthrough=True,
        )
        response.headers["Content-Disposition"] = _attachment(name)
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.get("/download")
    def download_all() -> Response:
        return archive(False)

    @app.get("/download/<stage>")
    def download_stage(stage: str) -> Response:
        return archive(False, stage)

    @app.get("/download/<stage>/<variant>")
    def download_variant(stage: str, variant: str) -> Response:
        return archive(False, stage, variant)

    @app.get("/download_logs")
    def download_logs() -> Response:
        return archive(True)

    @app.get("/download_logs/<stage>")
    def download_stage_logs(stage: str) -> Response:
        return archive(True, stage)

    @app.get("/download_logs/<stage>/<variant>")
    def download_variant_logs(stage: str, variant: str) -> Response:
        return archive(True, stage, variant)

    # the original site's endpoint for the progress document
    @app.get("/state")
    def state() -> Any:
        data = folder.progress()
        if data is None:
            abort(404)
        return jsonify(data)

    return app


def _warm(views: Views) -> None:
    try:
        views.warm()
    except Exception:  # only a head start: pages read the files themselves anyway
        logger.debug("warming the event cache failed", exc_info=True)


def _int_arg(name: str, default: int) -> int:
    try:
        return int(request.args.get(name, default))
    except (TypeError, ValueError):
        abort(400)


def _attachment(name: str) -> str:
    from urllib.parse import quote

    ascii_name = name.encode("ascii", "replace").decode().replace('"', "_").replace("\\", "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def _variant_in_stage(folder: OutputFolder, stage: str, key: str) -> dict[str, Any] | None:
    """Find a stage's variant by id, folder name, or the first folder name starting with ``key``."""
    variants = (((folder.progress() or {}).get("stages") or {}).get(stage) or {}).get(
        "variants"
    ) or {}
    if key in variants:
        return variants[key]
    for entry in variants.values():
        if entry.get("name") == key:
            return entry
    for entry in variants.values():
        if str(entry.get("name", "")).startswith(key):
            return entry
    return None


def _variant_log(folder: OutputFolder, vid: str) -> str:
    found = folder.find_variant(vid)
    if found is None:
        abort(404)
    stage, _, entry = found
    path = folder.variant_dir(stage, entry)
    if path is None:
        abort(404)
    return os.path.join(path, VARIANT_LOG)


def _read_chunk(path: str, offset: int) -> dict[str, Any]:
    """Up to LOG_CHUNK bytes of a log from ``offset`` (from 0 again when it was truncated)."""
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if offset > size or offset < 0:
                offset = 0
            handle.seek(offset)
            raw = handle.read(LOG_CHUNK)
    except OSError:
        return {"exists": False, "text": "", "offset": 0, "size": 0, "more": False}
    if len(raw) == LOG_CHUNK:  # never cut a UTF-8 character in two
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start >= len(raw) - 3:
                raw = raw[: exc.start]
    return {
        "exists": True,
        "text": raw.decode("utf-8", "replace"),
        "offset": offset + len(raw),
        "size": size,
        "more": offset + len(raw) < size,
    }


def _follow(
    folder: OutputFolder, path: str, offset: int, idle_end_s: float = STREAM_IDLE_END_S
) -> Iterator[str]:
    """Server-sent events following a log file like ``tail -f``.

    Ends when the experiment is no longer running and nothing new came for
    ``idle_end_s`` (a finished experiment stops updating: the lines logged
    just after its end still arrive), or after STREAM_MAX_S.
    """
    started = last_data = last_beat = time.monotonic()
    while True:
        chunk = _read_chunk(path, offset)
        now = time.monotonic()
        if chunk["text"]:
            offset = chunk["offset"]
            last_data = last_beat = now
            yield f"data: {json.dumps({'text': chunk['text'], 'offset': offset})}\n\n"
            if chunk["more"]:
                continue
        running = (folder.progress() or {}).get("status") in ("running", None)
        if (not running and now - last_data > idle_end_s) or now - started > STREAM_MAX_S:
            yield f"event: end\ndata: {json.dumps({'offset': offset})}\n\n"
            return
        if now - last_beat > HEARTBEAT_S:
            last_beat = now
            yield ": still here\n\n"
        time.sleep(STREAM_POLL_S)


def _sse(events: Iterator[str]) -> Response:
    return Response(
        events,
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
