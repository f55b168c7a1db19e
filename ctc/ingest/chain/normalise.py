"""Ethereum logs → on-chain events (:data:`ctc.events.ONCHAIN_EVENT_FIELDS`).

``event_id`` is ``ethereum:<tx_hash>:<log_index>``. ERC-20 transfers become
``event_type = 'transfer'`` (amount in token units by the token's decimals, USD by
:class:`ctc.ingest.chain.tokens.PriceBook`); Uniswap V2 and V3 swaps on pools of the pool
table become ``'dex_swap'`` (``token_in`` / ``token_out`` are token symbols, or addresses
when unknown; ``from_address`` is the swap's ``sender``, ``to_address`` its recipient).
A swap's ``price_impact_pct`` is how far it moved the pool price, in %: V2 from the
reserves of the ``Sync`` log just before it (reserves before = after − in + out),
V3 from the pool's previous ``sqrtPriceX96`` seen by this process (NULL for the first).
A log of another shape (an ERC-721 ``Transfer`` has 4 topics and no data), or a swap on an
unknown pool, is skipped and counted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from ctc.events import ONCHAIN_EVENT_FIELDS
from ctc.ingest.chain.abi import (
    TRANSFER_TOPIC,
    UNISWAP_V2_SWAP_TOPIC,
    UNISWAP_V2_SYNC_TOPIC,
    UNISWAP_V3_SWAP_TOPIC,
    hex_int,
    signed,
    topic_address,
    words,
)
from ctc.ingest.chain.tokens import Pool, PriceBook, Token

#: An on-chain event: a dict keyed exactly by ``ONCHAIN_EVENT_FIELDS``, times as ISO strings.
ChainEvent = dict[str, Any]


def chain_event(**values: Any) -> ChainEvent:
    """A full on-chain event: every field of the schema, NULL where not given."""
    unknown = set(values) - set(ONCHAIN_EVENT_FIELDS)
    if unknown:
        raise KeyError(f"not on-chain event fields: {sorted(unknown)}")
    return {name: values.get(name) for name in ONCHAIN_EVENT_FIELDS}


class LogNormaliser:
    """Turns one block's logs into on-chain events; keeps V3 pool prices between blocks."""

    def __init__(
        self,
        tokens: Mapping[str, Token],
        pools: Mapping[str, Pool],
        prices: PriceBook,
        blockchain: str = "ethereum",
    ) -> None:
        self.tokens = tokens
        self.pools = pools
        self.prices = prices
        self.blockchain = blockchain
        #: logs left out, by reason
        self.skipped: Counter[str] = Counter()
        self._sqrt_price: dict[str, int] = {}

    def block(
        self, number: int, timestamp: str, logs: Sequence[Mapping[str, Any]], received_at: str
    ) -> list[ChainEvent]:
        """The events of one block's logs (in log order); ``timestamp`` is ISO UTC."""
        events: list[ChainEvent] = []
        syncs: dict[tuple[str, str], tuple[int, int]] = {}
        ordered = sorted(logs, key=lambda lg: hex_int(lg["logIndex"]))
        for lg in ordered:
            if lg.get("removed"):
                self.skipped["removed"] += 1
                continue
            topics = [str(t).lower() for t in lg.get("topics") or ()]
            topic0 = topics[0] if topics else ""
            try:
                if topic0 == UNISWAP_V2_SYNC_TOPIC:
                    r0, r1 = words(lg["data"])[:2]
                    syncs[(str(lg["address"]).lower(), str(lg["transactionHash"]))] = (r0, r1)
                    continue
                base = self._base(lg, number, timestamp, received_at)
                event: ChainEvent | None
                if topic0 == TRANSFER_TOPIC and len(topics) == 3:
                    event = self._transfer(lg, topics, base)
                elif topic0 == UNISWAP_V2_SWAP_TOPIC and len(topics) == 3:
                    event = self._v2_swap(lg, topics, base, syncs)
                elif topic0 == UNISWAP_V3_SWAP_TOPIC and len(topics) == 3:
                    event = self._v3_swap(lg, topics, base)
                else:
                    self.skipped["other log shape"] += 1
                    continue
            except (KeyError, ValueError, IndexError, TypeError, ArithmeticError):
                self.skipped["malformed"] += 1
                continue
            if event is not None:
                events.append(event)
        return events

    def _base(
        self, lg: Mapping[str, Any], number: int, timestamp: str, received_at: str
    ) -> dict[str, Any]:
        tx = str(lg["transactionHash"]).lower()
        return {
            "event_id": f"{self.blockchain}:{tx}:{hex_int(lg['logIndex'])}",
            "blockchain": self.blockchain,
            "tx_hash": tx,
            "block_number": number,
            "block_timestamp": timestamp,
            "ingestion_timestamp": received_at,
        }

    def _transfer(
        self, lg: Mapping[str, Any], topics: list[str], base: dict[str, Any]
    ) -> ChainEvent:
        address = str(lg["address"]).lower()
        token = self.tokens.get(address)
        raw = words(lg["data"])[0]
        amount = token.amount(raw) if token else None
        return chain_event(
            **base,
            event_type="transfer",
            from_address=topic_address(topics[1]),
            to_address=topic_address(topics[2]),
            token_address=address,
            token_symbol=token.symbol if token else None,
            amount=amount,
            amount_usd=self.prices.usd(token, amount),
        )

    def _swap(
        self,
        pool: Pool,
        topics: list[str],
        base: dict[str, Any],
        zero_in: bool,
        raw_in: int,
        raw_out: int,
        impact: float | None,
    ) -> ChainEvent:
        addr_in, addr_out = (pool.token0, pool.token1) if zero_in else (pool.token1, pool.token0)
        tok_in, tok_out = self.tokens.get(addr_in), self.tokens.get(addr_out)
        amount_in = tok_in.amount(raw_in) if tok_in else None
        amount_out = tok_out.amount(raw_out) if tok_out else None
        return chain_event(
            **base,
            event_type="dex_swap",
            from_address=topic_address(topics[1]),
            to_address=topic_address(topics[2]),
            protocol=pool.protocol,
            token_in=tok_in.symbol if tok_in else addr_in,
            token_out=tok_out.symbol if tok_out else addr_out,
            amount_in_usd=self.prices.usd(tok_in, amount_in),
            amount_out_usd=self.prices.usd(tok_out, amount_out),
            price_impact_pct=impact,
        )

    def _pool(self, lg: Mapping[str, Any], protocol: str) -> Pool | None:
        pool = self.pools.get(str(lg["address"]).lower())
        if pool is None or pool.protocol != protocol:
            self.skipped["swap on an unknown pool"] += 1
            return None
        return pool

    def _v2_swap(
        self,
        lg: Mapping[str, Any],
        topics: list[str],
        base: dict[str, Any],
        syncs: dict[tuple[str, str], tuple[int, int]],
    ) -> ChainEvent | None:
        pool = self._pool(lg, "uniswap_v2")
        if pool is None:
            return None
        a0_in, a1_in, a0_out, a1_out = words(lg["data"])[:4]
        zero_in = a0_in > 0
        impact = None
        after = syncs.get((pool.address, str(lg["transactionHash"])))
        if after is not None:
            r0, r1 = after
            b0, b1 = r0 - a0_in + a0_out, r1 - a1_in + a1_out
            if b0 > 0 and b1 > 0 and r0 > 0:
                impact = abs((r1 / r0) / (b1 / b0) - 1) * 100
        if zero_in:
            return self._swap(pool, topics, base, True, a0_in, a1_out, impact)
        return self._swap(pool, topics, base, False, a1_in, a0_out, impact)

    def _v3_swap(
        self, lg: Mapping[str, Any], topics: list[str], base: dict[str, Any]
    ) -> ChainEvent | None:
        pool = self._pool(lg, "uniswap_v3")
        if pool is None:
            return None
        w = words(lg["data"])
        amount0, amount1, sqrt_price = signed(w[0]), signed(w[1]), w[2] % (1 << 160)
        before = self._sqrt_price.get(pool.address)
        self._sqrt_price[pool.address] = sqrt_price
        impact = None
        if before:
            impact = abs((sqrt_price / before) ** 2 - 1) * 100  # price = (sqrtP / 2^96)^2
        # the pool's view: a positive amount is what it received (the swap's input)
        if amount0 > 0:
            return self._swap(pool, topics, base, True, amount0, -amount1, impact)
        return self._swap(pool, topics, base, False, amount1, -amount0, impact)
