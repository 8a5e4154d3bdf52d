"""Who may read the site: the token check and the headers every response carries.

On the loopback interface and without a token, anyone on this machine may
read the site, under a loopback name only (``localhost``, ``127.0.0.1``,
``[::1]``): a request naming another host is refused, so a web page that
rebinds its own name to 127.0.0.1 cannot read it. With a token (required
when binding any other address), a request must carry it: ``?token=...``
once (a cookie then keeps it for the session), an ``Authorization: Bearer
...`` header, or the cookie.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from typing import Any

COOKIE = "flambe_site_token"
TOKEN_ENV = "FLAMBE_SITE_TOKEN"

# Scripts come from the site alone; 'unsafe-eval' because plotly.js's WebGL traces (the
# parallel-coordinates plot) compile their shaders' drivers with Function().
CSP = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self' 'unsafe-eval'; connect-src 'self'; worker-src 'self' blob:; "
    "frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'"
)


def is_loopback(host: str) -> bool:
    """Whether ``host`` names only this machine (``127.0.0.1``, ``::1``, ``localhost``)."""
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def host_name(host: str) -> str:
    """Return the name of a ``Host`` header without its port (``[::1]:80`` -> ``::1``)."""
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def new_token() -> str:
    """Make a fresh random token (32 bytes, URL-safe)."""
    return secrets.token_urlsafe(32)


def token_matches(expected: str, given: str | None) -> bool:
    """Constant-time comparison of a presented token with the site's."""
    if not given:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))


def presented_token(request: Any) -> str | None:
    """Return the token a request carries: query, ``Authorization: Bearer`` header, or cookie."""
    args = request.args
    headers = request.headers
    cookies = request.cookies
    token = args.get("token")
    if token:
        return str(token)
    auth = headers.get("Authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return cookies.get(COOKIE)
