"""A local Ethereum JSON-RPC websocket server that replays recorded blocks.

Answers ``eth_subscribe`` (``newHeads`` only), ``eth_unsubscribe``, ``eth_chainId``,
``eth_blockNumber``, ``eth_getBlockByNumber``, ``eth_getBlockByHash`` and ``eth_getLogs``
(by ``blockHash`` or ``fromBlock``/``toBlock``, filtered by ``address`` and topic 0). The
head advances one block every ``12 s / speed`` (``speed`` 0: as fast as possible) from the
first recorded block; only blocks up to the head exist. After the last recorded block it
mines ``tail`` empty blocks (default 12, so the last recorded ones get their
confirmations), waits until a client has read the logs of the last recorded block, and
closes with :data:`ctc.ingest.replay_server.END_OF_STREAM`.

The head position is shared by all connections (a reconnecting client finds the chain
moved on). ``drop_after``: close the connection (code 1012) after these cumulative heads
sent. ``reorgs``: ``{head: branch blocks}``: after the head numbered ``head`` is sent the
first time, the branch's blocks replace the canonical ones and their heads are sent,
as a node does on a reorg (:func:`ctc.ingest.chain.recordings.fork` makes a branch).

``lockstep=k`` (the client's confirmation depth): after sending head ``h`` the server
waits until a client has read the logs of block ``h − k``, so the chain never runs ahead
of a slow client (deterministic tests and replays, no timing involved).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from ctc.ingest.chain.abi import hex_int
from ctc.ingest.chain.recordings import Block, block_hash
from ctc.ingest.replay_server import DROP_REASON, END_OF_STREAM
from ctc.ingest.ws_server import LocalWebsocketServer

log = logging.getLogger(__name__)


class ChainReplayServer(LocalWebsocketServer):
    """Serves ``blocks`` on ``ws://127.0.0.1:<port>``; use as ``async with``."""

    def __init__(
        self,
        blocks: Sequence[Block],
        *,
        speed: float = 0.0,
        tail: int = 12,
        drop_after: Sequence[int] = (),
        reorgs: Mapping[int, Sequence[Block]] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        end_wait: float = 30.0,
        lockstep: int | None = None,
    ) -> None:
        if not blocks:
            raise ValueError("no blocks to replay")
        self.chain: dict[int, Block] = {b.number: b for b in blocks}
        self.last_recorded = max(self.chain)
        last = self.chain[self.last_recorded]
        for i in range(1, tail + 1):
            n = self.last_recorded + i
            parent = self.chain[n - 1].hash
            self.chain[n] = Block(n, block_hash("tail", n), parent, last.timestamp + 12 * i)
        self.first = min(self.chain)
        self.last = max(self.chain)
        self.speed = speed
        self.host = host
        self.port = port
        self.end_wait = end_wait
        self.lockstep = lockstep
        self._served: set[str] = set()
        self._served_event = asyncio.Event()
        self.reorgs = {k: list(v) for k, v in (reorgs or {}).items()}
        self.head: int = self.first - 1
        self.sent = 0
        self.connections = 0
        self.drops = 0
        self.calls: dict[str, int] = {}
        self._drop_points = sorted(set(int(n) for n in drop_after if int(n) > 0))
        self._final_read = asyncio.Event()
        self._server: Server | None = None

    @property
    def url(self) -> str:
        """The websocket URL a client should use."""
        return f"ws://{self.host}:{self.port}"

    async def _serve(self) -> Server:
        return await serve(self._handle, self.host, self.port, max_size=2**24)

    # -- JSON-RPC -----------------------------------------------------------------------

    def _block(self, ref: Any) -> Block | None:
        if ref == "latest":
            number = self.head
        elif ref in ("earliest",):
            number = self.first
        else:
            number = hex_int(ref)
        return self.chain.get(number) if self.first <= number <= self.head else None

    def _logs(self, query: Mapping[str, Any]) -> list[dict[str, Any]]:
        if "blockHash" in query:
            blocks = [b for b in self.chain.values() if b.hash == query["blockHash"]]
            blocks = [b for b in blocks if b.number <= self.head]
        else:
            lo = self._block(query.get("fromBlock", "latest"))
            hi = self._block(query.get("toBlock", "latest"))
            if lo is None or hi is None:
                return []
            blocks = [self.chain[n] for n in range(lo.number, hi.number + 1)]
        addresses = query.get("address")
        if isinstance(addresses, str):
            addresses = [addresses]
        wanted_addr = {a.lower() for a in addresses} if addresses else None
        topics = query.get("topics") or []
        first = topics[0] if topics else None
        wanted_topic = set(first) if isinstance(first, list) else ({first} if first else None)
        out = []
        for b in blocks:
            if b.number == self.last_recorded:
                self._final_read.set()
            self._served.add(b.hash)
            self._served_event.set()
            for lg in b.rpc_logs():
                if wanted_addr is not None and lg["address"] not in wanted_addr:
                    continue
                if wanted_topic is not None and lg["topics"][0] not in wanted_topic:
                    continue
                out.append(lg)
        return out

    def _answer(self, method: str, params: list[Any]) -> Any:
        if method == "eth_chainId":
            return "0x1"
        if method == "eth_blockNumber":
            return hex(self.head)
        if method == "eth_getBlockByNumber":
            block = self._block(params[0])
            return block.header() if block else None
        if method == "eth_getBlockByHash":
            found = [b for b in self.chain.values() if b.hash == params[0]]
            return found[0].header() if found and found[0].number <= self.head else None
        if method == "eth_getLogs":
            return self._logs(params[0] if params else {})
        if method == "eth_unsubscribe":
            return True
        raise LookupError(method)

    async def _serve_requests(self, ws: ServerConnection, subscribed: asyncio.Event) -> None:
        async for raw in ws:
            try:
                request = json.loads(raw)
                method, params = str(request["method"]), list(request.get("params") or [])
            except (ValueError, KeyError, TypeError):
                await ws.send(
                    json.dumps(
                        {
                            "jsonrpc": "2.0",
                            "id": None,
                            "error": {"code": -32700, "message": "parse error"},
                        }
                    )
                )
                continue
            self.calls[method] = self.calls.get(method, 0) + 1
            reply: dict[str, Any] = {"jsonrpc": "2.0", "id": request.get("id")}
            if method == "eth_subscribe":
                if params[:1] != ["newHeads"]:
                    reply["error"] = {"code": -32602, "message": "only newHeads is served"}
                else:
                    reply["result"] = "0x1"
                    subscribed.set()
            else:
                try:
                    reply["result"] = self._answer(method, params)
                except LookupError:
                    reply["error"] = {"code": -32601, "message": f"method {method} not found"}
                except (ValueError, TypeError, IndexError, KeyError) as exc:
                    reply["error"] = {"code": -32602, "message": f"invalid params: {exc}"}
            await ws.send(json.dumps(reply))

    # -- heads --------------------------------------------------------------------------

    async def _send_head(self, ws: ServerConnection, block: Block) -> bool:
        """Send one head; False when the connection is to be dropped now."""
        note = {
            "jsonrpc": "2.0",
            "method": "eth_subscription",
            "params": {"subscription": "0x1", "result": block.header()},
        }
        await ws.send(json.dumps(note))
        self.sent += 1
        if self._drop_points and self.sent >= self._drop_points[0]:
            self._drop_points.pop(0)
            self.drops += 1
            await ws.close(1012, DROP_REASON)
            return False
        return True

    def _apply_reorg(self, branch: list[Block]) -> None:
        for b in branch:
            self.chain[b.number] = b
        after = self.chain.get(branch[-1].number + 1)
        if after is not None:
            self.chain[after.number] = replace(after, parent_hash=branch[-1].hash)

    async def _heads(self, ws: ServerConnection) -> None:
        delay = 12 / self.speed if self.speed > 0 else 0.0
        while self.head < self.last:
            if delay:
                await asyncio.sleep(delay)
            self.head += 1
            if not await self._send_head(ws, self.chain[self.head]):
                return
            branch = self.reorgs.pop(self.head, None)
            if branch:
                self._apply_reorg(branch)
                for b in branch:
                    if not await self._send_head(ws, b):
                        return
            elif self.lockstep is not None:
                await self._wait_read(self.head - self.lockstep)
            await asyncio.sleep(0)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._final_read.wait(), self.end_wait)
        await ws.close(1000, END_OF_STREAM)

    async def _wait_read(self, number: int) -> None:
        """Wait (at most ``end_wait`` s) until the logs of block ``number`` were read."""
        block = self.chain.get(number)
        if block is None or number < self.first:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.end_wait):
                while block.hash not in self._served:
                    self._served_event.clear()
                    await self._served_event.wait()

    async def _handle(self, ws: ServerConnection) -> None:
        self.connections += 1
        subscribed = asyncio.Event()
        requests = asyncio.create_task(self._serve_requests(ws, subscribed))
        try:
            waiter = asyncio.create_task(subscribed.wait())
            await asyncio.wait({requests, waiter}, return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            if subscribed.is_set():
                await self._heads(ws)
            await requests
        except ConnectionClosed:
            return
        finally:
            requests.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                await requests
