"""Serve a fake platform's request handler on 127.0.0.1 for end-to-end runs of real processes."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

Handler = Callable[[httpx.Request], httpx.Response]
HOP_BY_HOP = {"content-length", "transfer-encoding", "connection", "content-encoding"}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: Handler


class _Bridge(BaseHTTPRequestHandler):
    """Turns one HTTP request into an httpx.Request for the fake, and its answer back.

    A fake that raises a transport error (a connect error, a timeout or a drop after the
    write) makes the server close the connection without answering: over a socket every
    such fault reaches the client as "disconnected without a response". Stop the server to
    test refused connections end to end.
    """

    protocol_version = "HTTP/1.1"
    server: _Server

    def _bridge(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        content = self.rfile.read(length) if length else b""
        host, port = self.server.server_address[:2]
        request = httpx.Request(
            self.command,
            f"http://{host!s}:{port}{self.path}",
            headers=[(k, v) for k, v in self.headers.items() if k.lower() != "host"],
            content=content,
        )
        try:
            response = self.server.fake(request)
        except httpx.TransportError:
            self.close_connection = True
            return
        body = response.read()
        self.send_response(response.status_code)
        for name, value in response.headers.multi_items():
            if name.lower() not in HOP_BY_HOP:
                self.send_header(name, value)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = _bridge

    def log_message(self, fmt: str, *args: object) -> None:
        """Quiet: the fake keeps its own request log."""


@contextmanager
def serve(fake: Handler) -> Iterator[str]:
    """Serve `fake` on a free port of 127.0.0.1; yields the base URL."""
    server = _Server(("127.0.0.1", 0), _Bridge)
    server.fake = fake
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name="fake-platform",
        daemon=True,
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
