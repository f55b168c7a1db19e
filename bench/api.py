"""API and dashboard figures: p50/p99 latency of /alerts and /metrics/{symbol} against a
SQLite hot store of >= 10,000 alerts, and the dashboard's load time in headless Chromium.

    .venv/bin/python bench/api.py [--whales 10000] [--requests 400] [--loads 5]

The store is a temporary file filled by ctc.serve.sample (24 h of small-tier output plus
``--whales`` whale alerts); the server is `python -m ctc.serve` on 127.0.0.1 (a free port),
queried over one keep-alive connection from this process. The dashboard load time is from
navigation start to every section showing data (measured in the page); it needs Debian's
chromium + chromium-driver and selenium, and is skipped without them. Prints; no asserts.
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from ctc.serve.sample import fill_store
from ctc.sinks.stores.sqlite_store import SqliteAlertStore

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "serve"))

QUERIES = {
    "/alerts (default, 50)": "/api/alerts",
    "/alerts?limit=200": "/api/alerts?limit=200",
    "/alerts?type=whale_trade&limit=200": "/api/alerts?type=whale_trade&limit=200",
    "/alerts?symbol=ETH-USDT&since=-6h": "/api/alerts?symbol=ETH-USDT&since={since}",
    "/alerts page 3 (cursor)": "CURSOR",
    "/metrics/BTC-USDT": "/api/metrics/BTC-USDT",
    "/metrics/SOL-USDT": "/api/metrics/SOL-USDT",
    "/health": "/api/health",
    "/series/volume/BTC-USDT": "/api/series/volume/BTC-USDT?limit=180",
}

# Records the first moment every section shows data (performance.now() = ms since
# navigation start); installed before the page's own scripts.
_WATCH_JS = """
(() => {
  const check = () => {
    const q = (s) => document.querySelector(s);
    const t = (s) => (q(s) && q(s).textContent) || "";
    if (t('[data-testid=alert-message]').length > 10 && q('[data-testid=whale-row]') &&
        q('[data-testid=volume-chart] .recharts-bar-rectangle path') &&
        q('[data-testid=spread-chart] path.recharts-curve') &&
        /\\d/.test(t('[data-testid=health-quality]')) &&
        /Live/.test(t('[data-testid=live-indicator]'))) {
      window.__ctcReady = performance.now();
      return;
    }
    requestAnimationFrame(check);
  };
  requestAnimationFrame(check);
})();
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def _get(conn: http.client.HTTPConnection, path: str) -> tuple[float, bytes]:
    start = time.perf_counter()
    conn.request("GET", path)
    resp = conn.getresponse()
    body = resp.read()
    elapsed = time.perf_counter() - start
    if resp.status != 200:
        raise RuntimeError(f"{path}: {resp.status} {body[:200]!r}")
    return elapsed, body


def latency(url_port: int, requests: int, cursor_path: str, since: str) -> None:
    """Print p50/p99 per query, ``requests`` sequential requests each (after 10 warm-ups)."""
    conn = http.client.HTTPConnection("127.0.0.1", url_port, timeout=30)
    print(f"{'query':40} {'n':>5} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'bytes':>8}")
    for name, path in QUERIES.items():
        path = cursor_path if path == "CURSOR" else path.format(since=since)
        for _ in range(10):
            _get(conn, path)
        times, size = [], 0
        for _ in range(requests):
            seconds, body = _get(conn, path)
            times.append(seconds * 1000)
            size = len(body)
        print(
            f"{name:40} {requests:5d} {_pct(times, 50):8.2f} {_pct(times, 99):8.2f} "
            f"{max(times):8.2f} {size:8d}"
        )
    conn.close()


def dashboard_load(url: str, loads: int) -> None:
    """Print the dashboard's load time (navigation start to all sections rendered)."""
    from browser import chromium, missing_browser

    why = missing_browser()
    if why:
        print(f"dashboard load: skipped ({why})")
        return
    times = []
    for _ in range(loads):
        with chromium() as driver:  # a fresh profile each time: a cold cache
            driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": _WATCH_JS})
            driver.get(url)
            deadline = time.monotonic() + 30
            ready = None
            while ready is None and time.monotonic() < deadline:
                ready = driver.execute_script("return window.__ctcReady || null")
                time.sleep(0.02)
            if ready is None:
                print("dashboard load: not ready within 30 s")
                return
            nav = driver.execute_script(
                "const n = performance.getEntriesByType('navigation')[0];"
                "return [n.responseEnd, n.domContentLoadedEventEnd, n.loadEventEnd];"
            )
            times.append(float(ready))
    print(
        f"dashboard load (navigation start -> all 6 sections rendered, cold profile, "
        f"{loads} loads): median {statistics.median(times):.0f} ms, "
        f"min {min(times):.0f} ms, max {max(times):.0f} ms "
        f"(last load: DOMContentLoaded {nav[1]:.0f} ms, load {nav[2]:.0f} ms)"
    )


def main() -> None:
    """Fill a store, start the server, measure, stop."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--whales", type=int, default=10_000, help="extra whale alerts")
    parser.add_argument("--requests", type=int, default=400, help="requests per query")
    parser.add_argument("--loads", type=int, default=5, help="dashboard loads")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="ctc-bench-api-"))
    db = work / "alerts.db"
    store = SqliteAlertStore(db)
    start = time.perf_counter()
    counts = fill_store(store, hours=24, seed=1, extra_whales=args.whales)
    total = len(store.query_alerts(limit=1_000_000).items)
    store.close()
    print(
        f"store: {total} alerts, {counts.volume_windows} volume + {counts.spread_windows} "
        f"spread windows, SQLite file {db.stat().st_size / 1e6:.1f} MB, filled in "
        f"{time.perf_counter() - start:.1f} s"
    )
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ctc.serve",
            "--port",
            str(port),
            "--store",
            f"sqlite:///{db}",
            "--quiet",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/health", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        import json

        with urllib.request.urlopen(f"{url}/api/alerts?limit=200") as resp:
            first = json.load(resp)
        with urllib.request.urlopen(
            f"{url}/api/alerts?limit=200&cursor={first['next_cursor']}"
        ) as resp:
            second = json.load(resp)
        cursor_path = f"/api/alerts?limit=200&cursor={second['next_cursor']}"
        since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 6 * 3600))
        latency(port, args.requests, cursor_path, since)
        dashboard_load(f"{url}/", args.loads)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
