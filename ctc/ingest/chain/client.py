"""The on-chain connection loop: connect → ``eth_subscribe newHeads`` → catch up from
``eth_blockNumber`` → follow heads; on any failure reconnect after a jittered backoff
(:class:`ctc.ingest.backoff.Backoff`), like the exchange connectors
(:mod:`ctc.ingest.connection`). A reconnect loses nothing: the follower emits every block
after the last one it emitted, whatever heads it missed meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from ctc.ingest.chain.follower import ChainFollower
from ctc.ingest.chain.rpc import JsonRpc, RpcError
from ctc.ingest.connection import ConnectionSettings, connect_kwargs
from ctc.ingest.metrics import IngestMetrics

log = logging.getLogger(__name__)


async def _follow(rpc: JsonRpc, follower: ChainFollower, idle_timeout: float | None) -> None:
    await rpc.call("eth_subscribe", "newHeads")
    latest = await rpc.call("eth_blockNumber")
    head = await rpc.call("eth_getBlockByNumber", latest, False)
    if head is not None:
        await follower.head(rpc, head)
    while True:
        async with asyncio.timeout(idle_timeout):
            params = await rpc.notifications.get()
        if params is None:
            raise rpc.closed or ConnectionClosed(None, None)
        result = params.get("result")
        if isinstance(result, dict) and "number" in result:
            await follower.head(rpc, result)


async def run_chain(
    url: str,
    follower: ChainFollower,
    stop: asyncio.Event,
    metrics: IngestMetrics,
    settings: ConnectionSettings | None = None,
    end_of_stream_reason: str | None = None,
) -> None:
    """Keep following the node at ``url`` until ``stop`` is set (or the server closes with
    ``end_of_stream_reason``: the replay server's end)."""
    cfg = settings or ConnectionSettings()
    attempt = 0
    first = True
    while not stop.is_set():
        if not first:
            metrics.reconnects += 1
        first = False
        blocks_before = follower.counters.blocks
        rpc: JsonRpc | None = None
        try:
            async with connect(url, **connect_kwargs(url, cfg)) as ws:
                rpc = JsonRpc(ws).start()
                follow = asyncio.create_task(_follow(rpc, follower, cfg.idle_timeout))
                stopped = asyncio.create_task(stop.wait())
                try:
                    await asyncio.wait({follow, stopped}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    stopped.cancel()
                    if not follow.done():
                        follow.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await follow
                    await rpc.stop()
                if follow.done() and not follow.cancelled():
                    follow.result()
        except ConnectionClosed as exc:
            reason = exc.rcvd.reason if exc.rcvd is not None else ""
            if end_of_stream_reason is not None and reason == end_of_stream_reason:
                log.info("chain: server signalled end of stream")
                return
            if not stop.is_set():
                log.warning("chain: connection closed (%s)", exc)
        except TimeoutError:
            log.warning(
                "chain: no head for %ss or a call timed out; reconnecting", cfg.idle_timeout
            )
        except (OSError, InvalidHandshake, RpcError) as exc:
            log.warning("chain: %s", exc)
        if stop.is_set():
            return
        if follower.counters.blocks > blocks_before:
            attempt = 0
        delay = cfg.backoff.delay(attempt)
        attempt += 1
        log.info("chain: reconnecting in %.2fs (attempt %d)", delay, attempt)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=delay)
