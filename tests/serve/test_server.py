"""`ctc serve` over HTTP (a real gunicorn subprocess): API at /api and bare paths, static
dashboard, methods, keep-alive, conditional GETs, the listen backlog, many clients."""

from __future__ import annotations

import concurrent.futures
import gzip
import http.client
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from servekit import END, Server, start_server, stop_server

from ctc.sinks.stores.sqlite_store import SqliteAlertStore


@pytest.fixture
def server(store: SqliteAlertStore, tmp_path: Path) -> Iterator[Server]:
    """`ctc serve` on a free port over the sample store, serving a tiny static folder."""
    static = tmp_path / "static"
    (static / "assets").mkdir(parents=True)
    (static / "index.html").write_text("<!doctype html><title>ctc</title>" + "x" * 2000)
    (static / "assets" / "app.js").write_text("console.log('ctc');\n" * 200)
    (tmp_path / "secret.txt").write_text("secret")
    srv = start_server(Path(store.path), tmp_path / "serve.log", "--static", str(static))
    yield srv
    stop_server(srv)


def _port(srv: Server) -> int:
    return int(urlsplit(srv.url).port or 0)


def request(
    srv: Server, method: str, path: str, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", _port(srv), timeout=10)
    try:
        conn.request(method, path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


def test_api_paths_with_and_without_prefix(server: Server) -> None:
    a = request(server, "GET", "/api/alerts?limit=2&type=whale_trade")
    b = request(server, "GET", "/alerts?type=whale_trade&limit=2")
    assert a[0] == b[0] == 200 and a[2] == b[2]
    assert json.loads(a[2])["count"] == 2
    assert a[1]["Access-Control-Allow-Origin"] == "*"
    status, _, body = request(server, "GET", "/api/metrics/BTC%2DUSDT")
    assert status == 200 and json.loads(body)["symbol"] == "BTC-USDT"
    assert request(server, "GET", "/api/alerts?limit=%FF")[0] == 400
    assert request(server, "GET", "/api/alerts?limit=1&limit=2")[0] == 200
    status, _, body = request(server, "GET", "/api/catalog")
    # the sample's quality rules (detectors/quality.yaml) allow binance-futures too
    assert status == 200
    assert json.loads(body)["exchanges"] == ["binance", "binance-futures", "coinbase"]


def test_static_files_and_gzip(server: Server) -> None:
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


def test_methods(server: Server) -> None:
    for method in ("POST", "PUT", "DELETE", "PATCH", "BREW"):
        status, headers, _ = request(server, method, "/api/alerts")
        assert status == 405, method
        assert headers["Allow"] == "GET, HEAD, OPTIONS"
        assert request(server, method, "/")[0] == 405
    status, headers, body = request(server, "HEAD", "/api/health")
    assert status == 200 and body == b"" and int(headers["Content-Length"]) > 0
    status, headers, _ = request(server, "OPTIONS", "/api/alerts")
    assert status == 204 and headers["Access-Control-Allow-Origin"] == "*"


def test_keep_alive_serves_several_requests_on_one_connection(server: Server) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", _port(server), timeout=10)
    try:
        for path in ("/api/health", "/api/alerts?limit=1", "/api/series/spread/ETH-USDT"):
            conn.request("GET", path)
            resp = conn.getresponse()
            assert resp.status == 200
            json.loads(resp.read())
    finally:
        conn.close()


def test_an_unchanged_poll_is_a_304_and_a_change_a_new_etag(
    server: Server, store: SqliteAlertStore
) -> None:
    path = "/api/alerts?limit=5"
    status, headers, body = request(server, "GET", path)
    etag = headers["ETag"]
    assert status == 200 and etag.startswith('"') and headers["Cache-Control"] == "no-cache"
    status, headers, again = request(server, "GET", path, {"If-None-Match": etag})
    assert status == 304 and again == b"" and headers["ETag"] == etag
    assert request(server, "GET", path, {"If-None-Match": '"other", W/' + etag})[0] == 304
    assert request(server, "GET", path, {"If-None-Match": '"other"'})[0] == 200
    newest = json.loads(body)["alerts"][0]
    store.put_alerts([{**newest, "alert_id": "a-new-one", "detected_at": END}])
    status, headers, changed = request(server, "GET", path, {"If-None-Match": etag})
    assert status == 200 and headers["ETag"] != etag
    assert json.loads(changed)["alerts"][0]["alert_id"] == "a-new-one"
    status, headers, _ = request(server, "HEAD", path, {"If-None-Match": headers["ETag"]})
    assert status == 304


def test_many_concurrent_clients_are_all_answered(server: Server) -> None:
    paths = ["/api/alerts?limit=50", "/api/metrics/BTC-USDT", "/api/health", "/api/catalog"]
    with concurrent.futures.ThreadPoolExecutor(max_workers=64) as pool:
        statuses = list(pool.map(lambda n: request(server, "GET", paths[n % 4])[0], range(256)))
    assert statuses == [200] * 256


@pytest.mark.skipif(shutil.which("ss") is None, reason="needs ss (iproute2)")
def test_the_listen_backlog_is_2048_not_5(server: Server) -> None:
    out = subprocess.run(
        ["ss", "-ltnH", f"sport = :{_port(server)}"], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out and int(out[2]) == 2048, out  # Send-Q of a listening socket is its backlog


def test_missing_dashboard_build_still_serves_the_api(
    store: SqliteAlertStore, tmp_path: Path
) -> None:
    srv = start_server(Path(store.path), tmp_path / "serve.log", "--static", str(tmp_path / "no"))
    try:
        status, _, body = request(srv, "GET", "/")
        assert status == 200 and b"build-dashboard.sh" in body
        assert request(srv, "GET", "/api/health")[0] == 200
    finally:
        stop_server(srv)
