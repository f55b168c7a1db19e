"""A websocket server on a local port (the replay servers): start, stop, ``async with``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Self

if TYPE_CHECKING:
    from websockets.asyncio.server import Server


class LocalWebsocketServer:
    """The life cycle of a local websocket server; a subclass says how it serves
    (:meth:`_serve`) and sets ``host``, ``port`` (0 picks a free one) and ``_server = None``."""

    host: str
    port: int
    _server: Server | None

    async def _serve(self) -> Server:
        """Bind ``host``/``port`` and start serving (``websockets``' ``serve``)."""
        raise NotImplementedError

    async def start(self) -> Self:
        """Bind (port 0 picks a free port) and start serving."""
        self._server = await self._serve()
        self.port = next(iter(self._server.sockets)).getsockname()[1]
        return self

    async def stop(self) -> None:
        """Close every connection and the listening socket."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
