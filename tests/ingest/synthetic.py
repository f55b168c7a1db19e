"""Small recordings written by the tests (never real data), and a TCP proxy that cuts.

The frames follow the exchanges' documented shapes: Binance spot ``trade`` payloads carry
``M``, USD-M futures ones carry ``X`` and no ``M``; Coinbase Exchange ``match`` messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
from pathlib import Path

#: A receive time in nanoseconds (2024-08-08T23:54:14Z) and the trade time in ms beside it.
T0_NS = 1_723_161_254_000_000_000
T0_MS = T0_NS // 1_000_000


def binance_trade(market: str, trade_id: int, *, futures: bool = False) -> dict[str, object]:
    """One ``@trade`` payload; price and quantity vary with the id so rows differ."""
    data: dict[str, object] = {
        "e": "trade",
        "E": T0_MS + trade_id,
        "T": T0_MS + trade_id,
        "s": market,
        "t": trade_id,
        "p": f"{60000 + trade_id % 97}.5",
        "q": f"0.{trade_id % 89 + 1:03d}",
        "m": trade_id % 3 == 0,
    }
    if futures:
        data["X"] = "MARKET"
    else:
        data["M"] = True
    return data


def binance_lines(
    market: str, ids: range, *, futures: bool = False, unit_ns: int = 1, start_ns: int = T0_NS
) -> list[str]:
    """hftbacktest lines ``<recv> <frame>`` of trades ``ids``, 1 ms apart; ``unit_ns``
    divides the nanosecond times (1000: microseconds, as hftbacktest wrote in 2023)."""
    lines = []
    for n, trade_id in enumerate(ids):
        frame = {
            "stream": f"{market.lower()}@trade",
            "data": binance_trade(market, trade_id, futures=futures),
        }
        recv = (start_ns + n * 1_000_000) // unit_ns
        lines.append(f"{recv} {json.dumps(frame, separators=(',', ':'))}\n")
    return lines


def write_gz(path: Path, lines: list[str]) -> Path:
    """Write hftbacktest-style gzip text."""
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.writelines(lines)
    return path


def coinbase_lines(product: str, ids: range) -> list[str]:
    """A cryptofeed ``.0`` recording of Coinbase Exchange ``match`` messages."""
    lines = ["wss://ws-feed.exchange.coinbase.com\n"]
    for n, trade_id in enumerate(ids):
        msg = {
            "type": "match",
            "trade_id": trade_id,
            "side": "sell" if trade_id % 2 else "buy",
            "size": f"0.{trade_id % 50 + 1:02d}",
            "price": f"{60000 + trade_id % 13}.25",
            "product_id": product,
            "sequence": 1000 + trade_id,
            "time": f"2024-08-08T23:54:{15 + n // 1000:02d}.{n % 1000:03d}123Z",
        }
        lines.append(f"{1723161254 + n / 1000:.6f}: {json.dumps(msg, separators=(',', ':'))}\n")
    return lines


class CuttingProxy:
    """Forwards TCP between a client and ``upstream``; after ``cut_after`` bytes from the
    server on one connection it forwards half of the chunk in hand and aborts both sockets
    (no close frame: whatever was in flight is lost), ``cuts`` times in all."""

    def __init__(self, upstream_port: int, *, cut_after: int, cuts: int) -> None:
        self.upstream_port = upstream_port
        self.cut_after = cut_after
        self.cuts_left = cuts
        self.cuts_done = 0
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> CuttingProxy:
        """Listen on a free port."""
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        """Stop listening and cancel the pumps."""
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        with contextlib.suppress(BaseException):
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def url(self, path: str) -> str:
        """The websocket URL through the proxy."""
        return f"ws://127.0.0.1:{self.port}{path}"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        cut = self.cuts_left > 0
        if cut:
            self.cuts_left -= 1

        async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter, down: bool) -> None:
            sent = 0
            try:
                while chunk := await src.read(65536):
                    if down and cut and sent + len(chunk) >= self.cut_after:
                        dst.write(chunk[: max(1, (self.cut_after - sent))])
                        with contextlib.suppress(Exception):
                            await dst.drain()
                        self.cuts_done += 1
                        writer.transport.abort()
                        up_writer.transport.abort()
                        return
                    dst.write(chunk)
                    sent += len(chunk)
                    await dst.drain()
            except (ConnectionError, asyncio.IncompleteReadError):
                pass
            finally:
                with contextlib.suppress(Exception):
                    dst.close()

        for task in (
            asyncio.create_task(pump(reader, up_writer, False)),
            asyncio.create_task(pump(up_reader, writer, True)),
        ):
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
