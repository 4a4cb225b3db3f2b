"""Serve an emulator over real loopback HTTP, for end-to-end CLI tests and `neon-sync demo`."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

App = Callable[[httpx.Request], httpx.Response]


def _handler_for(app: App) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes; with Nagle on, each response would wait
        # for the client's delayed ACK (~40 ms).
        disable_nagle_algorithm = True

        def _serve(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            host = self.headers.get("host", "127.0.0.1")
            request = httpx.Request(
                self.command,
                f"http://{host}{self.path}",
                headers=list(self.headers.items()),
                content=body,
            )
            try:
                response = app(request)
            except httpx.RemoteProtocolError:
                self.close_connection = True  # a dropped connection: close without answering
                return
            payload = response.read()
            self.send_response(response.status_code)
            for name, value in response.headers.multi_items():
                if name.lower() not in {"content-length", "transfer-encoding", "connection"}:
                    self.send_header(name, value)
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet: tests and the demo print their own output

    return Handler


@contextmanager
def serve(app: App, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Run `app` on a loopback port in a thread; yield its base URL (http://127.0.0.1:PORT)."""
    server = ThreadingHTTPServer((host, port), _handler_for(app))
    server.daemon_threads = True
    # A short poll interval: shutdown() waits up to one interval, once per test.
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="emulator", daemon=True
    )
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
