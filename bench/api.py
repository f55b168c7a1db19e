"""API and dashboard figures against a SQLite hot store of 100,000 alerts: p50/p99 per
query on one connection, the server under load, and the dashboard's load time.

    .venv/bin/python bench/api.py [--alerts 100000] [--requests 400] [--loads 5]
                                  [--workers 2] [--threads 4] [--poll-seconds 20]

The store is a temporary file filled by ctc.serve.sample (24 h of small-tier output plus
whale alerts up to ``--alerts``); the server is `python -m ctc.serve` (gunicorn) on
127.0.0.1 (a free port). Under load (bench/http_load.py, asyncio keep-alive clients in this
process, so client and server share the machine's cores), the mix is the issue's four
requests in turn (/api/alerts?limit=50, /api/metrics/BTC-USDT, /api/health,
/api/series/volume/BTC-USDT):

* 1, 20 and 50 clients in a closed loop, 2,000 requests each;
* 20 clients in a closed loop on /api/alerts?limit=50 alone, 4,000 requests, and the same
  with a ``since`` of its own per request (``UNKEPT``), so that no answer is served from
  those ctc serve keeps while the store is unchanged: the cost of computing one;
* 200 clients each polling once a second (random phase) for ``--poll-seconds``, plainly
  and with If-None-Match (the ETag of their last answer, as a browser revalidates).

Meanwhile a writer adds an alert and a market row every second (``--write-every``; 0:
none), like the runtime's micro-batches, so nothing the server keeps between writes
stays valid for long. Each row: requests/s, p50, p99, max, errors (connection failures,
time-outs, statuses other than 200, or 304 for the If-None-Match row), 304 answers. The
load average of the machine is printed before and after (other work on it skews the
figures). The dashboard load time is from navigation start to every section showing data
(measured in the page); it needs Debian's chromium + chromium-driver and selenium, and is
skipped without them. Prints; no asserts.
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
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from http_load import LoadResult, closed_loop, pollers

from ctc.serve.sample import fill_store
from ctc.sinks.stores.sqlite_store import SqliteAlertStore

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "serve"))

#: The issue's mix of requests (one dashboard's polls, the heavy ones included).
MIX = [
    "/api/alerts?limit=50",
    "/api/metrics/BTC-USDT",
    "/api/health",
    "/api/series/volume/BTC-USDT",
]

#: /api/alerts?limit=50 with a ``since`` of its own each time (all alerts still match): no
#: two requests share a target, so none is answered from the answers ctc serve keeps
#: while the store is unchanged (ctc/serve/answer_cache.py).
UNKEPT = "/api/alerts?limit=50&since=2000-01-01T00:00:00.{n:06d}Z"

QUERIES = {
    "/alerts (default, 50)": "/api/alerts",
    "/alerts (50), never kept (since= varies)": "UNKEPT",
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
    for name, query in QUERIES.items():
        path = cursor_path if query == "CURSOR" else query.format(since=since)
        paths = [UNKEPT.format(n=n) for n in range(requests + 10)] if query == "UNKEPT" else []
        for n in range(10):
            _get(conn, paths[n] if paths else path)
        times, size = [], 0
        for n in range(10, requests + 10):
            seconds, body = _get(conn, paths[n] if paths else path)
            times.append(seconds * 1000)
            size = len(body)
        print(
            f"{name:40} {requests:5d} {_pct(times, 50):8.2f} {_pct(times, 99):8.2f} "
            f"{max(times):8.2f} {size:8d}"
        )
    conn.close()


def _load_row(name: str, result: LoadResult) -> None:
    print(
        f"{name:44} {result.requests:6d} {result.rate:8.0f} {result.pct(50):8.1f} "
        f"{result.pct(99):8.1f} {max(result.latencies_ms, default=0):8.1f} "
        f"{result.errors:6d} {result.statuses.get(304, 0):6d}"
        + (f"  {dict(result.error_kinds)}" if result.errors else "")
    )


def _loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


@contextmanager
def runtime_writes(db: Path, every: float) -> Iterator[None]:
    """While the block runs, add one alert and one market row every ``every`` seconds."""
    if every <= 0:
        yield
        return
    stop = threading.Event()

    def write() -> None:
        store = SqliteAlertStore(db)
        n = 0
        while not stop.wait(every):
            now = datetime.now(tz=UTC)
            store.put_alerts(
                [
                    {
                        "alert_id": f"bench-{n}",
                        "alert_type": "whale_trade",
                        "module_id": "MOD-002",
                        "symbol": "BTC-USDT",
                        "exchange": "binance",
                        "severity": "medium",
                        "detected_at": now,
                        "message": f"bench write {n}",
                        "details": {"price": 67_000.0, "side": "buy"},
                    }
                ]
            )
            store.put_market(
                [
                    {
                        "symbol": "BTC-USDT",
                        "exchange": "binance",
                        "price": 67_000.0 + n,
                        "volume_1h": 1e6,
                        "updated_at": now,
                    }
                ]
            )
            n += 1
        store.close()

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def under_load(port: int, poll_seconds: float, db: Path, write_every: float) -> None:
    """Print the load table: closed loops of 1, 20 and 50 clients over the mix, 20 on
    /api/alerts alone, 200 pollers once a second (plain and with If-None-Match)."""
    host = "127.0.0.1"
    closed_loop(host, port, MIX, clients=4, requests=200)  # warm every worker
    print(f"\nunder load (machine load average before: {_loadavg()}):")
    print(
        f"{'load':44} {'n':>6} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} "
        f"{'errors':>6} {'304':>6}"
    )
    with runtime_writes(db, write_every):
        for clients in (1, 20, 50):
            result = closed_loop(host, port, MIX, clients=clients, requests=2000)
            _load_row(f"mix, {clients} clients, closed loop", result)
        result = closed_loop(host, port, MIX[:1], clients=20, requests=4000)
        _load_row("/api/alerts?limit=50, 20 clients, closed loop", result)
        unkept = [UNKEPT.format(n=n) for n in range(4000)]
        result = closed_loop(host, port, unkept, clients=20, requests=4000, in_turn=True)
        _load_row("  the same, never kept (since= varies)", result)
        result = pollers(host, port, MIX, clients=200, seconds=poll_seconds)
        _load_row("mix, 200 clients polling once a second", result)
        result = pollers(host, port, MIX, clients=200, seconds=poll_seconds, etag=True)
        _load_row("  the same with If-None-Match", result)
    print(f"(load average after: {_loadavg()}; writes every {write_every:g} s during the runs)")


def dashboard_load(url: str, loads: int) -> None:
    """Print the dashboard's load time (navigation start to all sections rendered)."""
    from browser import chromium, missing_browser

    why = missing_browser() or ("--loads 0" if loads <= 0 else None)
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
    parser.add_argument("--alerts", type=int, default=100_000, help="alerts in the store")
    parser.add_argument("--requests", type=int, default=400, help="requests per query")
    parser.add_argument("--loads", type=int, default=5, help="dashboard loads")
    parser.add_argument("--workers", type=int, default=2, help="ctc serve --workers")
    parser.add_argument("--threads", type=int, default=4, help="ctc serve --threads")
    parser.add_argument("--poll-seconds", type=float, default=20.0, help="each poller run")
    parser.add_argument("--write-every", type=float, default=1.0, help="seconds; 0: no writes")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="ctc-bench-api-"))
    db = work / "alerts.db"
    store = SqliteAlertStore(db)
    start = time.perf_counter()
    base = fill_store(SqliteAlertStore(":memory:"), hours=24, seed=1).alerts
    counts = fill_store(store, hours=24, seed=1, extra_whales=max(0, args.alerts - base))
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
            "--workers",
            str(args.workers),
            "--threads",
            str(args.threads),
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
        print(f"server: ctc serve (gunicorn), {args.workers} workers x {args.threads} threads")
        latency(port, args.requests, cursor_path, since)
        under_load(port, args.poll_seconds, db, args.write_every)
        dashboard_load(f"{url}/", args.loads)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
