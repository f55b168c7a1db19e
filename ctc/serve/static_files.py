"""The built dashboard (``ctc/serve/static``) as answers: ``static_answer`` maps a request
path to a file of the folder, gzipped when the client takes it, and never to a file
outside the folder. Assets (hashed names) are immutable; other files are revalidated."""

from __future__ import annotations

import gzip
import mimetypes
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote

from ctc.serve.handler import BASE_HEADERS, Headers, dumps

#: The built dashboard (scripts/build-dashboard.sh writes it).
STATIC_DIR = Path(__file__).with_name("static")
MISSING_DASHBOARD = (
    b"<!doctype html><title>ctc</title><p>The dashboard is not built: run "
    b"<code>scripts/build-dashboard.sh</code>. The API is at <a href='/api/alerts'>"
    b"/api/alerts</a> (<a href='/api/openapi.json'>OpenAPI</a>).</p>"
)
#: Smallest file worth gzipping.
GZIP_MIN_BYTES = 1024

Answer = tuple[int, Headers, bytes]


def static_answer(method: str, path: str, accept_encoding: str, root: Path | None) -> Answer:
    """The answer to ``method path`` from the folder ``root`` (None: no dashboard): 200 with
    the file, 404 for anything missing or outside the folder, 405 for a method other than
    GET and HEAD; ``path`` is the request's, still percent-encoded."""
    if method not in ("GET", "HEAD"):
        error = {"error": f"method {method[:20]} not allowed", "status": 405}
        return 405, {**BASE_HEADERS, "Allow": "GET, HEAD"}, dumps(error)
    if root is None or not (root / "index.html").is_file():
        if path in ("/", "/index.html"):
            return 200, {"Content-Type": "text/html; charset=utf-8"}, MISSING_DASHBOARD
        return _not_found(path)
    rel = unquote(path, errors="replace").lstrip("/") or "index.html"
    try:
        target = (root / rel).resolve()
        if target.is_dir():
            target = target / "index.html"
        if not target.is_relative_to(root) or not target.is_file():
            return _not_found(path)
    except (OSError, ValueError):
        return _not_found(path)
    ctype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    if ctype.startswith("text/") or ctype in ("application/javascript", "image/svg+xml"):
        ctype += "; charset=utf-8"
    cache = "public, max-age=31536000, immutable" if target.parent.name == "assets" else "no-cache"
    headers = {"Content-Type": ctype, "Cache-Control": cache, "Vary": "Accept-Encoding"}
    body = target.read_bytes()
    if len(body) > GZIP_MIN_BYTES and "gzip" in accept_encoding:
        body = _gzipped(str(target), target.stat().st_mtime_ns)
        headers["Content-Encoding"] = "gzip"
    return 200, headers, body


def _not_found(path: str) -> Answer:
    return 404, dict(BASE_HEADERS), dumps({"error": f"not found: {path[:200]}", "status": 404})


@lru_cache(maxsize=64)
def _gzipped(path: str, mtime_ns: int) -> bytes:
    """The gzip of a static file, cached per (path, mtime)."""
    return gzip.compress(Path(path).read_bytes(), compresslevel=6, mtime=0)
