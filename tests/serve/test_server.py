"""The local HTTP server: API at /api and bare paths, static dashboard, methods, keep-alive."""

from __future__ import annotations

import gzip
import http.client
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from ctc.serve.server import ApiServer, make_server
from ctc.sinks.stores.sqlite_store import SqliteAlertStore


@pytest.fixture
def server(store: SqliteAlertStore, tmp_path: Path) -> Iterator[ApiServer]:
    """A server on a free port in a thread, serving a tiny static folder."""
    static = tmp_path / "static"
    (static / "assets").mkdir(parents=True)
    (static / "index.html").write_text("<!doctype html><title>ctc</title>" + "x" * 2000)
    (static / "assets" / "app.js").write_text("console.log('ctc');\n" * 200)
    (tmp_path / "secret.txt").write_text("secret")
    srv = make_server(store, "127.0.0.1", 0, static_dir=static, quiet=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def request(
    srv: ApiServer, method: str, path: str, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", srv.server_port, timeout=10)
    try:
        conn.request(method, path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


def test_api_paths_with_and_without_prefix(server: ApiServer) -> None:
    a = request(server, "GET", "/api/alerts?limit=2&type=whale_trade")
    b = request(server, "GET", "/alerts?type=whale_trade&limit=2")
    assert a[0] == b[0] == 200 and a[2] == b[2]
    assert json.loads(a[2])["count"] == 2
    assert a[1]["Access-Control-Allow-Origin"] == "*"
    status, _, body = request(server, "GET", "/api/metrics/BTC%2DUSDT")
    assert status == 200 and json.loads(body)["symbol"] == "BTC-USDT"
    assert request(server, "GET", "/api/alerts?limit=%FF")[0] == 400
    assert request(server, "GET", "/api/alerts?limit=1&limit=2")[0] == 200


def test_static_files_and_gzip(server: ApiServer) -> None:
    status, headers, body = request(server, "GET", "/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert body.startswith(b"<!doctype html>") and headers["Cache-Control"] == "no-cache"
    status, headers, body = request(
        server, "GET", "/assets/app.js", {"Accept-Encoding": "gzip, br"}
    )
    assert status == 200 and headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(body).startswith(b"console.log")
    assert "immutable" in headers["Cache-Control"]
    for bad in ("/../secret.txt", "/%2e%2e/secret.txt", "/assets/../../secret.txt", "/nope.js"):
        assert request(server, "GET", bad)[0] == 404, bad


def test_methods(server: ApiServer) -> None:
    for method in ("POST", "PUT", "DELETE", "PATCH", "BREW"):
        status, headers, _ = request(server, method, "/api/alerts")
        assert status == 405, method
        assert headers["Allow"] == "GET, HEAD, OPTIONS"
        assert request(server, method, "/")[0] == 405
    status, headers, body = request(server, "HEAD", "/api/health")
    assert status == 200 and body == b"" and int(headers["Content-Length"]) > 0
    status, headers, _ = request(server, "OPTIONS", "/api/alerts")
    assert status == 204 and headers["Access-Control-Allow-Origin"] == "*"


def test_keep_alive_serves_several_requests_on_one_connection(server: ApiServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
    try:
        for path in ("/api/health", "/api/alerts?limit=1", "/api/series/spread/ETH-USDT"):
            conn.request("GET", path)
            resp = conn.getresponse()
            assert resp.status == 200
            json.loads(resp.read())
    finally:
        conn.close()


def test_missing_dashboard_build_still_serves_the_api(
    store: SqliteAlertStore, tmp_path: Path
) -> None:
    srv = make_server(store, "127.0.0.1", 0, static_dir=tmp_path / "none", quiet=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        status, _, body = request(srv, "GET", "/")
        assert status == 200 and b"build-dashboard.sh" in body
        assert request(srv, "GET", "/api/health")[0] == 200
    finally:
        srv.shutdown()
        srv.server_close()
