"""JSON-RPC 2.0 over one websocket: requests matched to replies by id, and
``eth_subscription`` notifications queued for the caller."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from typing import Any

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed


class RpcError(RuntimeError):
    """An error reply from the node (``{"error": {...}}``)."""


class JsonRpc:
    """Calls and subscriptions on an open websocket; ``start()`` runs its reader task."""

    def __init__(self, ws: ClientConnection, timeout: float = 30.0) -> None:
        self.ws = ws
        self.timeout = timeout
        self.notifications: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._reader: asyncio.Task[None] | None = None
        self.closed: BaseException | None = None

    def start(self) -> JsonRpc:
        """Start reading replies and notifications."""
        self._reader = asyncio.create_task(self._read())
        return self

    async def stop(self) -> None:
        """Stop the reader task."""
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                message = json.loads(raw)
                if message.get("method") == "eth_subscription":
                    await self.notifications.put(message.get("params") or {})
                    continue
                future = self._pending.pop(message.get("id"), None)
                if future is None or future.done():
                    continue
                if message.get("error") is not None:
                    future.set_exception(RpcError(str(message["error"])))
                else:
                    future.set_result(message.get("result"))
        except (ConnectionClosed, ValueError) as exc:
            self.closed = exc
        else:  # a clean close: keep its reason (the replay server's end of stream)
            self.closed = self.ws.protocol.close_exc
        finally:
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(self.closed or ConnectionClosed(None, None))
                    future.exception()  # its caller may be gone: no "never retrieved" log
            self._pending.clear()
            await self.notifications.put(None)  # wakes a waiting reader: the socket is gone

    async def call(self, method: str, *params: Any) -> Any:
        """Send one request and wait for its result (raises :class:`RpcError`)."""
        if self.closed is not None:
            raise self.closed
        request_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        payload = {"jsonrpc": "2.0", "id": request_id, "method": method, "params": list(params)}
        await self.ws.send(json.dumps(payload))
        try:
            async with asyncio.timeout(self.timeout):
                return await future
        finally:
            self._pending.pop(request_id, None)
