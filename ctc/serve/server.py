"""The local server of ``ctc serve``: the API (``/api/...`` and the bare paths) and the
built dashboard (``ctc/serve/static``) on one stdlib ``ThreadingHTTPServer``.

One store object is shared by the request threads (the SQLite store serialises its
connection behind a lock; a DynamoDB store is thread-safe). HTTP/1.1 keep-alive.
"""

from __future__ import annotations

import gzip
import mimetypes
import sys
from functools import lru_cache
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from ctc.serve.handler import BASE_HEADERS, DEFAULT_APP, dumps, handle, is_api_path
from ctc.sinks.stores.base import AlertStore

#: The built dashboard (scripts/build-dashboard.sh writes it).
STATIC_DIR = Path(__file__).with_name("static")
_MISSING_DASHBOARD = (
    b"<!doctype html><title>ctc</title><p>The dashboard is not built: run "
    b"<code>scripts/build-dashboard.sh</code>. The API is at <a href='/api/alerts'>"
    b"/api/alerts</a> (<a href='/api/openapi.json'>OpenAPI</a>).</p>"
)


class ApiServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer holding the store, the static folder and the app name."""

    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        store: AlertStore,
        *,
        static_dir: Path | None = STATIC_DIR,
        app: str = DEFAULT_APP,
        quiet: bool = False,
    ) -> None:
        """Listen on ``address`` and answer from ``store``; ``static_dir`` None serves no
        dashboard."""
        super().__init__(address, RequestHandler)
        self.store = store
        self.static_dir = static_dir.resolve() if static_dir is not None else None
        self.app = app
        self.quiet = quiet


class RequestHandler(BaseHTTPRequestHandler):
    """Dispatches every method to the API handler or the static files."""

    server: ApiServer
    protocol_version = "HTTP/1.1"
    # headers and body go out in two writes: without TCP_NODELAY, Nagle's algorithm and
    # the client's delayed ACK add ~40 ms to every small keep-alive answer
    disable_nagle_algorithm = True
    server_version = "ctc-serve"

    def __getattr__(self, name: str) -> Any:
        # BaseHTTPRequestHandler answers 501 for a method without do_<METHOD>; every
        # method goes through _dispatch instead (the handler answers 405).
        if name.startswith("do_"):
            return self._dispatch
        raise AttributeError(name)

    def log_message(self, format: str, *args: Any) -> None:
        """Access log on stderr unless the server is quiet."""
        if not self.server.quiet:
            sys.stderr.write(f"ctc serve: {self.address_string()} {format % args}\n")

    def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and status not in (204, 304):
            self.wfile.write(body)

    def _dispatch(self) -> None:
        self._drain_body()
        parts = urlsplit(self.path)
        path = parts.path or "/"
        if is_api_path(path):
            query = dict(parse_qsl(parts.query, keep_blank_values=True, errors="replace"))
            status, headers, body = handle(
                self.command, path, query, self.server.store, app=self.server.app
            )
            self._send(status, headers, b"" if body is None else dumps(body))
            return
        self._static(path)

    def _drain_body(self) -> None:
        """Read (and ignore) a request body so keep-alive stays in step."""
        length = self.headers.get("Content-Length")
        if length and length.isdigit():
            remaining = min(int(length), 1 << 20)
            while remaining > 0:
                chunk = self.rfile.read(min(remaining, 65536))
                if not chunk:
                    break
                remaining -= len(chunk)

    def _static(self, path: str) -> None:
        if self.command not in ("GET", "HEAD"):
            self._send(
                HTTPStatus.METHOD_NOT_ALLOWED,
                {**BASE_HEADERS, "Allow": "GET, HEAD"},
                dumps({"error": f"method {self.command[:20]} not allowed", "status": 405}),
            )
            return
        root = self.server.static_dir
        if root is None or not (root / "index.html").is_file():
            if path in ("/", "/index.html"):
                self._send(200, {"Content-Type": "text/html; charset=utf-8"}, _MISSING_DASHBOARD)
            else:
                self._not_found(path)
            return
        rel = unquote(path, errors="replace").lstrip("/") or "index.html"
        try:
            target = (root / rel).resolve()
        except (OSError, ValueError):
            self._not_found(path)
            return
        if target.is_dir():
            target = target / "index.html"
        if not target.is_relative_to(root) or not target.is_file():
            self._not_found(path)
            return
        ctype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if ctype.startswith("text/") or ctype in ("application/javascript", "image/svg+xml"):
            ctype += "; charset=utf-8"
        cache = (
            "public, max-age=31536000, immutable" if target.parent.name == "assets" else "no-cache"
        )
        headers = {"Content-Type": ctype, "Cache-Control": cache, "Vary": "Accept-Encoding"}
        body = target.read_bytes()
        if len(body) > 1024 and "gzip" in self.headers.get("Accept-Encoding", ""):
            body = _gzipped(str(target), target.stat().st_mtime_ns)
            headers["Content-Encoding"] = "gzip"
        self._send(200, headers, body)

    def _not_found(self, path: str) -> None:
        self._send(
            404, dict(BASE_HEADERS), dumps({"error": f"not found: {path[:200]}", "status": 404})
        )


@lru_cache(maxsize=64)
def _gzipped(path: str, mtime_ns: int) -> bytes:
    """The gzip of a static file, cached per (path, mtime)."""
    return gzip.compress(Path(path).read_bytes(), compresslevel=6, mtime=0)


def make_server(
    store: AlertStore,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    static_dir: Path | None = STATIC_DIR,
    app: str = DEFAULT_APP,
    quiet: bool = False,
) -> ApiServer:
    """A bound (not yet serving) server; port 0 picks a free one (``server.server_port``)."""
    return ApiServer((host, port), store, static_dir=static_dir, app=app, quiet=quiet)
