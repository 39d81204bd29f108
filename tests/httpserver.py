"""A real HTTP server on 127.0.0.1 serving a folder, for tests that download.

Use the context manager anywhere::

    from tests.httpserver import serve_folder

    with serve_folder(folder) as server:
        url = f"{server.url}/relations-data-1.0.0.zip"
        ...
        server.stop()  # later requests fail to connect, as when offline

or the pytest fixture ``http_folder`` (import it into the test module): it serves an empty
folder ``http_folder.root`` into which the test copies files.
``server.requests`` lists the paths requested so far and ``server.headers`` their
request headers; set ``server.cut_after = n`` to announce each file's full length but send
only its first ``n`` bytes (a dropped connection). Hostile servers: ``announce_length``
sends that Content-Length instead of the real one, ``stream_bytes = n`` answers every
request with ``n`` zero bytes and no Content-Length (an endless stream, bounded so that a
test cannot run forever), and ``gzip_bytes = n`` answers with ``n`` zero bytes
gzip-compressed (``Content-Encoding: gzip``) whatever the client asked for.
"""

from __future__ import annotations

import contextlib
import gzip
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest


class FolderServer:
    """A running server: its ``url`` (no trailing slash), ``root`` folder and controls."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.requests: list[str] = []
        self.headers: list[dict[str, str]] = []
        self.cut_after: int | None = None
        self.announce_length: int | None = None
        self.stream_bytes: int | None = None
        self.gzip_bytes: int | None = None
        handler = partial(_Handler, directory=str(root), server_state=self)
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        host, port = self._httpd.server_address[:2]
        self.url = f"http://{host!s}:{port}"
        serve = partial(self._httpd.serve_forever, poll_interval=0.02)  # stop() waits one poll
        self._thread = threading.Thread(target=serve, daemon=True)
        self._thread.start()
        self._running = True

    def stop(self) -> None:
        """Stop serving and free the port; safe to call twice."""
        if self._running:
            self._running = False
            self._httpd.shutdown()
            self._httpd.server_close()
            self._thread.join(timeout=5)


class _Handler(SimpleHTTPRequestHandler):
    def __init__(self, *args: Any, server_state: FolderServer, **kwargs: Any) -> None:
        self._state = server_state
        super().__init__(*args, **kwargs)

    def do_GET(self) -> None:
        state = self._state
        state.requests.append(self.path)
        state.headers.append(dict(self.headers.items()))
        if state.stream_bytes is not None or state.gzip_bytes is not None:
            self._hostile()
            return
        if state.announce_length is not None:
            self.send_response(200)
            self.send_header("Content-Length", str(state.announce_length))
            self.end_headers()
            self.wfile.write(b"\0" * 1024)
            self.close_connection = True
            return
        if self._state.cut_after is None:
            super().do_GET()
            return
        source = self.send_head()  # headers, with the full Content-Length
        if source is not None:
            with source:
                self.wfile.write(source.read(self._state.cut_after))
            self.close_connection = True

    def _hostile(self) -> None:
        state = self._state
        self.send_response(200)
        if state.gzip_bytes is not None:
            body = gzip.compress(b"\0" * state.gzip_bytes)
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            with contextlib.suppress(OSError):
                self.wfile.write(body)
        else:
            self.end_headers()  # no Content-Length: the body ends when the connection does
            chunk = b"\0" * 65536
            with contextlib.suppress(OSError):  # the client hung up
                for _ in range((state.stream_bytes or 0) // len(chunk)):
                    self.wfile.write(chunk)
        self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean


@contextlib.contextmanager
def serve_folder(root: Path) -> Iterator[FolderServer]:
    """Serve ``root`` over HTTP on 127.0.0.1 at an ephemeral port until the block ends."""
    server = FolderServer(root)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def http_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FolderServer]:
    """A server on 127.0.0.1 serving the empty folder ``http_folder.root``."""
    # A proxy configured in the environment must not intercept the local server.
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    root = tmp_path / "served"
    root.mkdir()
    with serve_folder(root) as server:
        yield server
