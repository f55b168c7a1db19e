"""A local websocket server that replays a real recording with the exchange's protocol.

* Binance: combined-stream envelope on ``/stream``; streams from ``?streams=a/b`` or a
  ``{"method":"SUBSCRIBE","params":[...],"id":1}`` frame, answered ``{"result":null,"id":1}``.
* Coinbase Exchange: ``{"type":"subscribe",...}`` answered by a ``subscriptions`` message;
  each re-subscribe re-sends ``last_match`` for every product already traded, as Coinbase does.
* Coinbase Advanced Trade: one subscribe per channel, answered on the ``subscriptions``
  channel; a re-subscribe to ``market_trades`` sends a ``snapshot`` of up to 100 recent trades
  per product (newest first), as Coinbase does.

Only frames of subscribed streams/channels are sent. The replay position is shared by all
connections, so a reconnecting client resumes where the last connection stopped. The server
can drop the connection after chosen cumulative frame counts (``drop_after``), with a close
frame so that every frame sent before it is delivered. When the recording is exhausted it
closes with reason :data:`END_OF_STREAM`. ``speed``: N × real time; 0 = as fast as possible.
Server-side websocket pings every ``ping_interval`` seconds.

Plain HTTP GETs on the same port are answered from the recording's REST trade history
(:mod:`ctc.ingest.replay_history`; ``http_url`` is its base URL), so replayed gaps can be
backfilled; ``history=False`` answers them 404 (a history that cannot fill anything).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from ctc.ingest.recordings import Frame, Recording
from ctc.ingest.replay_history import ReplayHistory
from ctc.ingest.timestamps import utc_now_iso
from ctc.ingest.ws_server import LocalWebsocketServer

log = logging.getLogger(__name__)

#: Close reason the server sends when the recording is exhausted.
END_OF_STREAM: Final = "replay complete"
#: Close reason for a deliberate drop (``drop_after``).
DROP_REASON: Final = "replay drop"

_SNAPSHOT_SIZE = 100


@dataclass
class _Subscription:
    streams: set[str] = field(default_factory=set)  # Binance stream names, lower case
    channels: dict[str, set[str]] = field(default_factory=dict)  # Coinbase channel → products


class ReplayServer(LocalWebsocketServer):
    """Replays ``recording`` on ``ws://127.0.0.1:<port>``; use as ``async with``."""

    def __init__(
        self,
        recording: Recording,
        *,
        speed: float = 0.0,
        drop_after: Sequence[int] = (),
        host: str = "127.0.0.1",
        port: int = 0,
        ping_interval: float | None = 20.0,
        history: bool = True,
    ) -> None:
        self.recording = recording
        self.history = ReplayHistory(recording) if history else None
        self.history_requests = 0
        self.speed = speed
        self.host = host
        self.port = port
        self.ping_interval = ping_interval
        self.sent = 0
        self.connections = 0
        self.drops = 0
        self.finished = asyncio.Event()
        self._drop_points = sorted(set(int(n) for n in drop_after if int(n) > 0))
        self._pos = 0
        self._lock = asyncio.Lock()
        self._last_match: dict[str, str] = {}
        self._recent: dict[str, deque[dict[str, Any]]] = {}
        self._server: Server | None = None

    @property
    def url(self) -> str:
        """The websocket URL a connector should use."""
        path = "/stream" if self.recording.protocol == "binance" else "/"
        return f"ws://{self.host}:{self.port}{path}"

    @property
    def http_url(self) -> str:
        """The base URL of the REST trade history served beside the websocket."""
        return f"http://{self.host}:{self.port}"

    async def _serve(self) -> Server:
        return await serve(
            self._handle,
            self.host,
            self.port,
            ping_interval=self.ping_interval,
            max_size=2**24,
            process_request=self._rest,
        )

    def _rest(self, connection: ServerConnection, request: Request) -> Response | None:
        """Answer a plain HTTP GET (no websocket upgrade) from the recording's history."""
        if "websocket" in request.headers.get("Upgrade", "").lower():
            return None
        self.history_requests += 1
        if self.history is None:
            status, body = 404, {"msg": "replay server started without a history"}
        else:
            status, body = self.history.answer(request.path, self._pos)
        response = connection.respond(status, json.dumps(body, separators=(",", ":")))
        del response.headers["Content-Type"]
        response.headers["Content-Type"] = "application/json"
        return response

    async def _handle(self, ws: ServerConnection) -> None:
        self.connections += 1
        async with self._lock:
            reader: asyncio.Task[None] | None = None
            try:
                sub = _Subscription()
                if self.recording.protocol == "binance":
                    await self._binance_handshake(ws, sub)
                else:
                    await self._coinbase_handshake(ws, sub)
                reader = asyncio.create_task(self._read_controls(ws, sub))
                if self.finished.is_set():
                    await ws.close(1000, END_OF_STREAM)
                    return
                await self._stream(ws, sub)
            except (ConnectionClosed, TimeoutError):
                return
            finally:
                if reader is not None:
                    reader.cancel()
                    with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                        await reader

    # -- handshakes -------------------------------------------------------------------

    async def _binance_handshake(self, ws: ServerConnection, sub: _Subscription) -> None:
        query = parse_qs(urlsplit(ws.request.path if ws.request else "/").query)
        for value in query.get("streams", []):
            sub.streams.update(s.lower() for s in value.split("/") if s)
        if not sub.streams:
            await self._binance_control(ws, sub, await asyncio.wait_for(ws.recv(), 10))

    async def _binance_control(self, ws: ServerConnection, sub: _Subscription, raw: Any) -> None:
        request = json.loads(raw)
        method = request.get("method")
        params = [str(p).lower() for p in request.get("params") or ()]
        result: Any = None
        if method == "SUBSCRIBE":
            sub.streams.update(params)
        elif method == "UNSUBSCRIBE":
            sub.streams.difference_update(params)
        elif method == "LIST_SUBSCRIPTIONS":
            result = sorted(sub.streams)
        else:
            await ws.send(
                json.dumps(
                    {"error": {"code": 2, "msg": "Invalid request"}, "id": request.get("id")}
                )
            )
            return
        await ws.send(json.dumps({"result": result, "id": request.get("id")}))

    async def _coinbase_handshake(self, ws: ServerConnection, sub: _Subscription) -> None:
        await self._coinbase_control(ws, sub, await asyncio.wait_for(ws.recv(), 10))
        # Advanced Trade clients send one subscribe per channel: take those sent together.
        while self.recording.protocol == "coinbase-advanced":
            try:
                raw = await asyncio.wait_for(ws.recv(), 0.05)
            except TimeoutError:
                return
            await self._coinbase_control(ws, sub, raw)

    async def _coinbase_control(self, ws: ServerConnection, sub: _Subscription, raw: Any) -> None:
        request = json.loads(raw)
        if request.get("type") != "subscribe":
            return
        products = [str(p) for p in request.get("product_ids") or ()]
        advanced = self.recording.protocol == "coinbase-advanced"
        channels: list[Any] = [request["channel"]] if advanced else list(request["channels"])
        added: list[str] = []
        for channel in channels:
            if isinstance(channel, dict):
                name, ids = str(channel["name"]), [str(p) for p in channel.get("product_ids", ())]
            else:
                name, ids = str(channel), products
            sub.channels.setdefault(name, set()).update(ids)
            added.append(name)
        if advanced:
            await ws.send(
                json.dumps(
                    {
                        "channel": "subscriptions",
                        "client_id": "",
                        "timestamp": utc_now_iso(),
                        "sequence_num": 0,
                        "events": [
                            {"subscriptions": {c: sorted(p) for c, p in sub.channels.items()}}
                        ],
                    }
                )
            )
            if "market_trades" in added and self.sent:
                await self._send_snapshots(ws, sub.channels["market_trades"])
        else:
            await ws.send(
                json.dumps(
                    {
                        "type": "subscriptions",
                        "channels": [
                            {"name": c, "product_ids": sorted(p)} for c, p in sub.channels.items()
                        ],
                    }
                )
            )
            if "matches" in added and self.sent:
                for product in sorted(sub.channels["matches"]):
                    text = self._last_match.get(product)
                    if text is not None:
                        await ws.send(text.replace('"type":"match"', '"type":"last_match"', 1))

    async def _send_snapshots(self, ws: ServerConnection, products: set[str]) -> None:
        for product in sorted(products):
            recent = self._recent.get(product)
            if not recent:
                continue
            trades = sorted(recent, key=lambda t: int(t["trade_id"]), reverse=True)
            await ws.send(
                json.dumps(
                    {
                        "channel": "market_trades",
                        "client_id": "",
                        "timestamp": utc_now_iso(),
                        "sequence_num": 0,
                        "events": [{"type": "snapshot", "trades": trades}],
                    }
                )
            )

    async def _read_controls(self, ws: ServerConnection, sub: _Subscription) -> None:
        async for raw in ws:
            try:
                if self.recording.protocol == "binance":
                    await self._binance_control(ws, sub, raw)
                else:
                    await self._coinbase_control(ws, sub, raw)
            except (ValueError, KeyError, TypeError):
                log.warning("replay server: bad control frame %.200r", raw)

    # -- streaming ----------------------------------------------------------------------

    def _wanted(self, frame: Frame, sub: _Subscription) -> bool:
        if self.recording.protocol == "binance":
            return frame.channel.lower() in sub.streams
        products = sub.channels.get(frame.channel)
        if products is None or frame.channel == "subscriptions":
            return False
        return not frame.product or frame.product in products

    def _remember(self, frame: Frame) -> None:
        if frame.channel == "matches" and frame.product:
            self._last_match[frame.product] = frame.text
        elif frame.channel == "market_trades":
            for event in json.loads(frame.text).get("events", ()):
                for trade in event.get("trades", ()):
                    product = str(trade["product_id"])
                    recent = self._recent.setdefault(product, deque(maxlen=_SNAPSHOT_SIZE))
                    if all(t["trade_id"] != trade["trade_id"] for t in recent):
                        recent.append(trade)

    async def _stream(self, ws: ServerConnection, sub: _Subscription) -> None:
        loop = asyncio.get_running_loop()
        frames = self.recording.frames
        anchor_wall = loop.time()
        anchor_ns: int | None = None
        while self._pos < len(frames):
            frame = frames[self._pos]
            if not self._wanted(frame, sub):
                self._pos += 1
                continue
            if self.speed > 0:
                if anchor_ns is None:
                    anchor_ns = frame.recv_ns
                delay = anchor_wall + (frame.recv_ns - anchor_ns) / 1e9 / self.speed - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
            await ws.send(frame.text)
            self._pos += 1
            self.sent += 1
            self._remember(frame)
            if self._drop_points and self.sent >= self._drop_points[0]:
                self._drop_points.pop(0)
                self.drops += 1
                await ws.close(1012, DROP_REASON)
                return
            if self.sent % 256 == 0:
                await asyncio.sleep(0)
        self.finished.set()
        await ws.close(1000, END_OF_STREAM)
