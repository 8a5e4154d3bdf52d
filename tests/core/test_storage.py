"""Storage backends: local paths, file:// and http(s):// URLs, unknown schemes."""

from __future__ import annotations

import functools
import http.server
import os
import threading
from pathlib import Path

import pytest
import torch

from flambe.compile import Component, yaml
from flambe.compile.serialization import load, save
from flambe.plugins.manager import PluginHost, create_plugin_manager, set_host
from flambe.storage import (
    HTTPBackend,
    LocalBackend,
    StorageError,
    exists,
    get_backend,
    open_local,
    scheme_of,
    upload,
)


class StoNet(Component, torch.nn.Module):
    def __init__(self, n: int = 3) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(n, 2)


@pytest.fixture
def http_root(tmp_path):
    """A real HTTP server on 127.0.0.1 serving ``tmp_path / 'www'``."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def test_scheme_of():
    assert scheme_of("/a/b") == ""
    assert scheme_of("relative/path") == ""
    assert scheme_of("C:\\models\\x") == ""
    assert scheme_of("S3://bucket/key") == "s3"
    assert scheme_of("file:///tmp/x") == "file"


def test_local_paths_and_file_urls(tmp_path):
    file = tmp_path / "a.txt"
    file.write_text("hello")
    with open_local(str(file)) as local:
        assert local == str(file)
    with open_local(file.as_uri()) as local:
        assert Path(local).read_text() == "hello"
    assert exists(file.as_uri()) and not exists(str(tmp_path / "nope"))
    with pytest.raises(StorageError, match="does not exist locally"):
        with open_local(str(tmp_path / "nope")):
            pass


def test_local_upload_copies_files_and_folders(tmp_path):
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "sub" / "f").write_text("1")
    upload(str(src), (tmp_path / "dst" / "copy").as_uri())
    assert (tmp_path / "dst" / "copy" / "sub" / "f").read_text() == "1"
    LocalBackend().download(str(src / "sub" / "f"), str(tmp_path / "g"))
    assert (tmp_path / "g").read_text() == "1"


def test_http_download_to_a_temporary_folder(http_root):
    root, base = http_root
    (root / "data.bin").write_bytes(b"\x00\x01payload")
    assert exists(f"{base}/data.bin")
    assert not exists(f"{base}/missing.bin")
    with open_local(f"{base}/data.bin") as local:
        assert os.path.basename(local) == "data.bin"
        assert Path(local).read_bytes() == b"\x00\x01payload"
    assert not os.path.exists(local)  # removed after the block


def test_http_errors_are_clear(http_root, tmp_path):
    _, base = http_root
    with pytest.raises(StorageError, match="404"):
        with open_local(f"{base}/missing.tar.gz"):
            pass
    with pytest.raises(StorageError, match="cannot be reached"):
        HTTPBackend().download("http://127.0.0.1:9/x", str(tmp_path / "x"))
    assert not (tmp_path / "x").exists()
    with pytest.raises(StorageError, match="read-only"):
        upload(__file__, f"{base}/up")


def test_load_a_compressed_save_over_http(http_root, tmp_path):
    root, base = http_root
    net = yaml.load("!StoNet {n: 4}")()
    save(net, root / "net", compress=True)
    loaded = load(f"{base}/net.tar.gz")
    assert type(loaded) is StoNet
    assert torch.equal(loaded.linear.weight, net.linear.weight)


@pytest.fixture
def core_only_host():
    """A plugin host with core's built-in plugin only (as if flambe-cluster were absent)."""
    previous = set_host(PluginHost(*create_plugin_manager(autoload=False)))
    yield
    set_host(previous)


def test_unknown_scheme_names_the_distribution(core_only_host):
    with pytest.raises(StorageError) as info:
        get_backend("s3")
    assert "s3://" in str(info.value)
    assert "flambe-cluster" in str(info.value)
    with pytest.raises(StorageError, match="gopher://"):
        with open_local("gopher://host/x"):
            pass


def test_builtin_backends_come_from_the_plugin_host():
    assert isinstance(get_backend("http"), HTTPBackend)
    assert isinstance(get_backend("https"), HTTPBackend)
    assert isinstance(get_backend("file"), LocalBackend)
