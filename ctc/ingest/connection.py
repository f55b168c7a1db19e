"""The one connection loop every connector shares.

connect → send subscribe frames → receive and normalise → emit (awaiting, so a full queue
pushes back on the socket) → on any failure reconnect after a jittered exponential backoff.
Keepalive uses websocket ping/pong (``ping_interval``/``ping_timeout``); an idle watchdog
reconnects when no frame arrives for ``idle_timeout`` seconds. Setting ``stop`` closes the
socket and returns promptly.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from ctc.ingest.backoff import Backoff
from ctc.ingest.feeds import FeedSpec
from ctc.ingest.metrics import IngestMetrics
from ctc.ingest.timestamps import utc_now_iso
from ctc.ingest.trade_event import TradeEvent

log = logging.getLogger(__name__)

Emit = Callable[[TradeEvent], Awaitable[None]]


@dataclass
class ConnectionSettings:
    """Timeouts and backoff for :func:`run_feed`."""

    ping_interval: float | None = 20.0
    ping_timeout: float | None = 20.0
    idle_timeout: float | None = 90.0
    open_timeout: float = 10.0
    close_timeout: float = 2.0
    max_size: int = 16 * 1024 * 1024
    backoff: Backoff = field(default_factory=Backoff)


def _is_local(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    return host in ("127.0.0.1", "localhost", "::1")


#: websockets >= 15 honours proxy environment variables; never proxy local URLs.
_HAS_PROXY_ARG = "proxy" in inspect.signature(connect.__init__).parameters


def connect_kwargs(url: str, cfg: ConnectionSettings) -> dict[str, Any]:
    """The keyword arguments of ``websockets.connect`` for ``url`` under ``cfg``."""
    kwargs: dict[str, Any] = {
        "ping_interval": cfg.ping_interval,
        "ping_timeout": cfg.ping_timeout,
        "open_timeout": cfg.open_timeout,
        "close_timeout": cfg.close_timeout,
        "max_size": cfg.max_size,
    }
    if _HAS_PROXY_ARG and _is_local(url):
        kwargs["proxy"] = None
    return kwargs


async def _close_when_stopped(ws: ClientConnection, stop: asyncio.Event) -> None:
    await stop.wait()
    await ws.close()


def _log_control(feed: FeedSpec, payload: Any) -> None:
    if isinstance(payload, dict) and (payload.get("type") == "error" or "error" in payload):
        log.warning("%s: exchange error message: %s", feed.name, payload)


#: Malformed frames logged one by one (one line each, no traceback); later ones are counted.
MALFORMED_LOGGED = 3


def _malformed(feed: FeedSpec, metrics: IngestMetrics, what: str, raw: Any) -> None:
    metrics.malformed += 1
    if metrics.malformed <= MALFORMED_LOGGED:
        log.warning("%s: %s skipped: %.200r", feed.name, what, raw)
        if metrics.malformed == MALFORMED_LOGGED:
            log.warning("further malformed frames are counted (malformed=), not logged")


async def _receive(
    ws: ClientConnection,
    feed: FeedSpec,
    emit: Emit,
    metrics: IngestMetrics,
    settings: ConnectionSettings,
    on_data: Callable[[], None],
) -> None:
    while True:
        if settings.idle_timeout is None:
            raw = await ws.recv()
        else:
            async with asyncio.timeout(settings.idle_timeout):
                raw = await ws.recv()
        received_at = utc_now_iso()
        metrics.messages += 1
        on_data()
        try:
            payload = json.loads(raw)
        except ValueError:
            _malformed(feed, metrics, "undecodable frame", raw)
            continue
        try:
            events = feed.normaliser(payload, received_at)
        except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
            _malformed(feed, metrics, f"malformed trade frame ({type(exc).__name__}: {exc})", raw)
            continue
        if not events:
            _log_control(feed, payload)
        for event in events:
            await emit(event)


async def run_feed(
    feed: FeedSpec,
    emit: Emit,
    stop: asyncio.Event,
    metrics: IngestMetrics,
    settings: ConnectionSettings | None = None,
    on_reconnect: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Keep ``feed`` connected until ``stop`` is set (or the server signals end of stream).

    ``on_reconnect`` is awaited after each reconnect has subscribed, before its frames are
    read (the gap guard's catch-up from the REST history)."""
    cfg = settings or ConnectionSettings()
    attempt = 0
    first = True
    while not stop.is_set():
        reconnected = not first
        if not first:
            metrics.reconnects += 1
        first = False
        got_data = False

        def mark_data() -> None:
            """Note that this connection delivered data (resets the backoff)."""
            nonlocal got_data
            got_data = True

        dups_before = feed.duplicates
        try:
            async with connect(feed.url, **connect_kwargs(feed.url, cfg)) as ws:
                closer = asyncio.create_task(_close_when_stopped(ws, stop))
                try:
                    for message in feed.subscribe_messages:
                        await ws.send(json.dumps(message))
                    if on_reconnect is not None and reconnected:
                        await on_reconnect()
                    await _receive(ws, feed, emit, metrics, cfg, mark_data)
                finally:
                    closer.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await closer
        except ConnectionClosed as exc:
            reason = exc.rcvd.reason if exc.rcvd is not None else ""
            if feed.end_of_stream_reason is not None and reason == feed.end_of_stream_reason:
                log.info("%s: server signalled end of stream", feed.name)
                metrics.duplicates += feed.duplicates - dups_before
                return
            if not stop.is_set():
                log.warning("%s: connection closed (%s)", feed.name, exc)
        except TimeoutError:
            log.warning(
                "%s: no frame for %ss or open timed out; reconnecting", feed.name, cfg.idle_timeout
            )
        except (OSError, InvalidHandshake) as exc:
            log.warning("%s: connect failed: %s", feed.name, exc)
        metrics.duplicates += feed.duplicates - dups_before
        if stop.is_set():
            return
        if got_data:
            attempt = 0
        delay = cfg.backoff.delay(attempt)
        attempt += 1
        log.info("%s: reconnecting in %.2fs (attempt %d)", feed.name, delay, attempt)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=delay)
