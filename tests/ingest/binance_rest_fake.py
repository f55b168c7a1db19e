"""A local fake of Binance ``GET /api/v3/aggTrades`` (http.server in a thread).

Serves rows built from real recording aggTrades; enforces the 1 h startTime/endTime rule
and ``limit`` ≤ 1000 like Binance; can fail chosen requests with HTTP 500.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


class FakeBinanceRest:
    """Holds the rows and request log; ``fail_requests`` lists 1-based request numbers to 500."""

    def __init__(self, symbol: str, rows: list[dict[str, Any]]) -> None:
        self.symbol = symbol
        self.rows = sorted(rows, key=lambda r: r["a"])
        self.requests: list[dict[str, str]] = []
        self.fail_requests: set[int] = set()

    def answer(self, path: str) -> tuple[int, Any]:
        parts = urlsplit(path)
        if parts.path != "/api/v3/aggTrades":
            return 404, {"code": -1, "msg": "not found"}
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        self.requests.append(query)
        if len(self.requests) in self.fail_requests:
            return 500, {"code": -1000, "msg": "injected"}
        if query.get("symbol") != self.symbol:
            return 400, {"code": -1121, "msg": "Invalid symbol."}
        limit = int(query.get("limit", 500))
        if not 1 <= limit <= 1000:
            return 400, {"code": -1100, "msg": "limit"}
        rows = self.rows
        if "fromId" in query:
            rows = [r for r in rows if r["a"] >= int(query["fromId"])]
        if "startTime" in query or "endTime" in query:
            start, end = int(query["startTime"]), int(query["endTime"])
            if end - start > 3_600_000:
                return 400, {
                    "code": -1127,
                    "msg": "More than 1 hours between startTime and endTime.",
                }
            rows = [r for r in rows if start <= r["T"] <= end]
        return 200, rows[:limit]


@contextmanager
def serve_fake(fake: FakeBinanceRest) -> Iterator[str]:
    """Run the fake on 127.0.0.1:<free port>; yields the base URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, body = fake.answer(self.path)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
