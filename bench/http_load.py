"""A small HTTP/1.1 load generator for bench/api.py: asyncio, raw keep-alive connections,
one coroutine per client, no third-party client library (so the client's own cost per
request stays small next to the server's on a 2-core machine).

Two shapes of load:

* closed loop: ``clients`` clients each send their next request as soon as the previous
  answer is read, until ``requests`` requests were sent in all;
* pollers: ``clients`` clients each send one request a ``period`` (a random phase each),
  for ``seconds``; latency counts from the scheduled send time, so a client that falls
  behind its schedule shows it (no coordinated omission).

Each client cycles through ``paths`` (client ``i`` starts at path ``i``), or with
``in_turn`` the requests of all clients take the paths in turn (each path once when there
are as many paths as requests). A request is an
error when the connection fails, no answer comes within ``timeout`` s, or the status is
not 200 (or 304 when ``etag`` is on: the client then sends ``If-None-Match`` with the
last ``ETag`` it saw for that path).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class LoadResult:
    """What one load run measured."""

    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    error_kinds: Counter[str] = field(default_factory=Counter)

    @property
    def requests(self) -> int:
        """Requests answered or failed."""
        return len(self.latencies_ms) + self.errors

    @property
    def rate(self) -> float:
        """Requests per second over the whole run."""
        return self.requests / self.seconds if self.seconds else 0.0

    def pct(self, p: float) -> float:
        """The ``p``-th percentile latency in ms of the answered requests (nearest rank)."""
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


class _Conn:
    """One keep-alive connection; reopened after the server closes it."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str]]:
        """Send a GET, read the whole answer; ``(status, lower-case headers)``."""
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.writer.write(f"GET {path} HTTP/1.1\r\nHost: {self.host}\r\n{extra}\r\n".encode())
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        fields: dict[str, str] = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                fields[name.strip().lower()] = value.strip()
        if fields.get("transfer-encoding", "").lower() == "chunked":
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                await self.reader.readexactly(size + 2)
                if size == 0:
                    break
        else:
            await self.reader.readexactly(int(fields.get("content-length", "0")))
        if fields.get("connection", "").lower() == "close":
            await self.close()
        return status, fields

    async def close(self) -> None:
        """Close the connection (a later get reopens it)."""
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None


async def _one(
    conn: _Conn,
    path: str,
    result: LoadResult,
    timeout: float,
    start: float,
    etags: dict[str, str] | None,
) -> None:
    headers = {"If-None-Match": etags[path]} if etags is not None and path in etags else {}
    try:
        status, fields = await asyncio.wait_for(conn.get(path, headers), timeout)
    except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
        result.errors += 1
        result.error_kinds[type(exc).__name__] += 1
        await conn.close()
        return
    result.statuses[status] += 1
    ok = status == 200 or (status == 304 and etags is not None)
    if not ok:
        result.errors += 1
        result.error_kinds[f"status {status}"] += 1
        return
    if etags is not None and "etag" in fields:
        etags[path] = fields["etag"]
    result.latencies_ms.append((time.perf_counter() - start) * 1000)


async def _closed_loop(
    host: str,
    port: int,
    paths: list[str],
    clients: int,
    requests: int,
    timeout: float,
    in_turn: bool,
) -> LoadResult:
    result = LoadResult()
    left = [requests]

    async def client(i: int) -> None:
        conn = _Conn(host, port)
        n = i
        while left[0] > 0:
            if in_turn:
                n = requests - left[0]
            left[0] -= 1
            await _one(conn, paths[n % len(paths)], result, timeout, time.perf_counter(), None)
            n += 1
        await conn.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(clients)))
    result.seconds = time.perf_counter() - t0
    return result


async def _pollers(
    host: str,
    port: int,
    paths: list[str],
    clients: int,
    seconds: float,
    period: float,
    timeout: float,
    etag: bool,
    seed: int,
) -> LoadResult:
    result = LoadResult()
    rng = random.Random(seed)
    t0 = time.perf_counter() + 0.2
    end = t0 + seconds

    async def client(i: int, phase: float) -> None:
        conn = _Conn(host, port)
        etags: dict[str, str] | None = {} if etag else None
        n, due = i, t0 + phase
        while due < end:
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            await _one(conn, paths[n % len(paths)], result, timeout, due, etags)
            n += 1
            due += period
        await conn.close()

    phases = [rng.uniform(0, period) for _ in range(clients)]
    await asyncio.gather(*(client(i, phases[i]) for i in range(clients)))
    result.seconds = max(time.perf_counter(), end) - t0
    return result


def closed_loop(
    host: str,
    port: int,
    paths: list[str],
    *,
    clients: int,
    requests: int,
    timeout: float = 10,
    in_turn: bool = False,
) -> LoadResult:
    """Run ``requests`` requests from ``clients`` closed-loop clients (``in_turn``: see the
    module docstring)."""
    return asyncio.run(_closed_loop(host, port, paths, clients, requests, timeout, in_turn))


def pollers(
    host: str,
    port: int,
    paths: list[str],
    *,
    clients: int,
    seconds: float,
    period: float = 1.0,
    timeout: float = 10,
    etag: bool = False,
    seed: int = 1,
) -> LoadResult:
    """Run ``clients`` clients each polling once a ``period`` for ``seconds``."""
    return asyncio.run(_pollers(host, port, paths, clients, seconds, period, timeout, etag, seed))
