"""Follows the chain's heads and emits each block's events once it is final enough.

A block is emitted when the head is ``confirmations`` blocks past it (default 12, as
indexers do), with the logs of the block hash that is canonical at that moment, so a
reorg shallower than that changes only blocks not emitted yet and never reaches the
stream. Each head's parent hash is checked against the hashes already seen: on a
mismatch the follower walks back to the fork point. A reorg that replaces blocks already
emitted (deeper than ``confirmations``) is logged as a warning and counted
(``deep_reorgs``); the new branch's blocks are then emitted again (events with the same id
are dropped downstream, events only on the new branch are added; events only on the
orphaned branch cannot be recalled).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from ctc.ingest.chain.abi import LOG_TOPICS, hex_int
from ctc.ingest.chain.normalise import ChainEvent, LogNormaliser
from ctc.ingest.timestamps import utc_now_iso

log = logging.getLogger(__name__)

#: Block hashes remembered behind the last emitted block (for finding fork points).
KEEP_HASHES = 256


class Rpc(Protocol):
    """What the follower needs of a JSON-RPC connection."""

    async def call(self, method: str, *params: Any) -> Any:
        """One request's result."""
        ...


@dataclass
class ChainCounters:
    """Per-run counts of the follower: heads seen, blocks emitted, reorgs by depth."""

    heads: int = 0
    blocks: int = 0
    reorgs: int = 0
    deep_reorgs: int = 0


def iso_from_unix(seconds: int) -> str:
    """Unix seconds as ISO 8601 UTC with ``Z``."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.000000Z")


class ChainFollower:
    """Emits blocks ``confirmations`` deep; see the module docstring."""

    def __init__(
        self,
        normaliser: LogNormaliser,
        emit: Callable[[list[ChainEvent]], Awaitable[None]],
        confirmations: int = 12,
        start_block: int | None = None,
    ) -> None:
        """``emit`` is awaited with each emitted block's events (possibly none);
        ``start_block``: the first block to emit (default: the first head seen)."""
        if confirmations < 0:
            raise ValueError("confirmations must be >= 0")
        self.normaliser = normaliser
        self.emit = emit
        self.confirmations = confirmations
        self.counters = ChainCounters()
        #: the last block whose events were emitted (None: none yet)
        self.emitted: int | None = start_block - 1 if start_block is not None else None
        self._hashes: dict[int, str] = {}

    async def head(self, rpc: Rpc, header: dict[str, Any]) -> None:
        """A new head (from ``newHeads`` or ``eth_getBlockByNumber``): check it against
        the blocks seen, then emit every block that is now deep enough."""
        number, block_hash = hex_int(header["number"]), str(header["hash"])
        self.counters.heads += 1
        if self._hashes.get(number) == block_hash:
            return
        parent = str(header.get("parentHash", ""))
        known_parent = self._hashes.get(number - 1)
        replaced = number in self._hashes or (known_parent is not None and known_parent != parent)
        if replaced:
            await self._reorg(rpc, number, parent)
        self._hashes[number] = block_hash
        if self.emitted is None:
            self.emitted = number - 1  # follow from the first head seen
        for n in range(self.emitted + 1, number - self.confirmations + 1):
            await self._emit_block(rpc, n)
        for n in [k for k in self._hashes if k < number - KEEP_HASHES]:
            del self._hashes[n]

    async def _reorg(self, rpc: Rpc, number: int, parent: str) -> None:
        """Find the fork point below ``number`` and forget the replaced blocks."""
        fork = number - 1
        expected = parent
        while fork in self._hashes and self._hashes[fork] != expected:
            block = await rpc.call("eth_getBlockByNumber", hex(fork), False)
            fork -= 1
            expected = str(block["parentHash"]) if block else ""
        # blocks fork+1 .. are replaced
        depth = max(self._hashes) - fork if self._hashes else 0
        for n in [k for k in self._hashes if k > fork]:
            del self._hashes[n]
        self.counters.reorgs += 1
        if self.emitted is not None and fork < self.emitted:
            self.counters.deep_reorgs += 1
            log.warning(
                "reorg of %d blocks replaced blocks %d..%d that were already emitted "
                "(deeper than %d confirmations); emitting the new branch's blocks again",
                depth,
                fork + 1,
                self.emitted,
                self.confirmations,
            )
            self.emitted = fork
        else:
            log.info("reorg of %d blocks above block %d, none emitted yet", depth, fork)

    async def _emit_block(self, rpc: Rpc, number: int) -> None:
        block = await rpc.call("eth_getBlockByNumber", hex(number), False)
        if block is None:
            raise LookupError(f"node has no block {number}")
        block_hash = str(block["hash"])
        logs = await rpc.call(
            "eth_getLogs", {"blockHash": block_hash, "topics": [list(LOG_TOPICS)]}
        )
        timestamp = iso_from_unix(hex_int(block["timestamp"]))
        events = self.normaliser.block(number, timestamp, logs or [], utc_now_iso())
        await self.emit(events)
        self._hashes[number] = block_hash
        self.emitted = number
        self.counters.blocks += 1
