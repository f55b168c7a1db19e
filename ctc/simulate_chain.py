"""Simulated on-chain events with injected anomalies, for ``ctc demo``'s large tier.

One Ethereum block every 12 s between ``start`` and ``end``, written as
:data:`ctc.events.ONCHAIN_EVENT_FIELDS` JSON lines (the shape ``ctc ingest --chain``
lands) in files of 15 minutes. The background is built so that no on-chain detector fires
on its own:

* **transfers**: up to three USDT/USDC transfers a block between made-up wallets (never on
  the labels list), each below 30,000 USD (MOD-008 keeps and alerts above 50,000; MOD-005
  needs a known wallet);
* **swaps**: one or two Uniswap V2 WETH → USDC swaps a minute of 5,000-20,000 USD, whose
  price impact is the amount over a pool depth of 2,000,000 USD per 1 % (±5 % noise), so
  a window's implied depth stays within ±6 % of its hour's average (MOD-009 alerts beyond
  50 %) and no swap is large (100,000).

Injected after a 20-minute warm-up (MOD-009's liquidity baseline needs 10 earlier
windows), at least 2 minutes apart, and listed in the truth:

* ``large_transfer``: 200,000-2,000,000 USDC between made-up wallets;
* ``known_wallet``: 150,000-3,000,000 USDT from or to a wallet of the labels list given;
* ``large_swap``: a Uniswap V3 USDC → WETH swap of 150,000-1,500,000 USD;
* ``liquidity_drop``: for one minute the V2 pool is a quarter as deep (its swaps move the
  price four times as much): implied depth -75 % against its hour (one an hour at most,
  so the next one's baseline is clean).

The output is deterministic for a given seed.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

#: Seconds between blocks.
BLOCK_SECONDS: Final = 12
#: First block number.
FIRST_BLOCK: Final = 19_000_000
#: The V2 pool's depth: USD swapped per 1 % of price impact.
POOL_DEPTH_USD: Final = 2_000_000.0
#: Injections per hour of each kind.
RATE_PER_HOUR: Final = {
    "large_transfer": 2,
    "known_wallet": 2,
    "large_swap": 2,
    "liquidity_drop": 1,
}
#: The alert (type, symbol) that finds each injected kind, and its seconds of slack after
#: the anomaly's end (a window's alert comes at the window's end; a large swap's alert at
#: the swap's block time: one alert per swap).
FOUND_BY: Final = {
    "large_transfer": ("large_transfer", "USDC", 0),
    "known_wallet": ("known_whale_activity", "USDT", 0),
    "large_swap": ("large_dex_swap", "USDC-WETH", 0),
    "liquidity_drop": ("liquidity_change", "WETH-USDC", 60),
}
_TOKENS: Final = {
    "USDT": "0xdac17f958d2ee523a2206206994597c13d831ec7",
    "USDC": "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48",
}
_WARM_UP: Final = timedelta(minutes=20)
_FILE_SPAN: Final = timedelta(minutes=15)


@dataclass(frozen=True)
class ChainSimulation:
    """What :func:`simulate_chain` wrote."""

    files: tuple[Path, ...]
    events: int
    anomalies: tuple[dict[str, Any], ...]


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class _Chain:
    """The events being built, with deterministic hashes and addresses."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.events: list[dict[str, Any]] = []
        self._log = 0

    def hex40(self, *parts: object) -> str:
        text = ":".join(str(p) for p in (self.seed, *parts))
        return "0x" + hashlib.sha256(text.encode()).hexdigest()[:40]

    def wallet(self) -> str:
        return self.hex40("wallet", self.rng.randrange(500))

    def add(self, block: int, when: datetime, **fields: Any) -> dict[str, Any]:
        tx = "0x" + hashlib.sha256(f"{self.seed}:{block}:{self._log}".encode()).hexdigest()
        event = {
            "event_id": f"ethereum:{tx}:{self._log}",
            "blockchain": "ethereum",
            "tx_hash": tx,
            "block_number": block,
            "block_timestamp": _iso(when),
            "ingestion_timestamp": _iso(when),
            **fields,
        }
        self._log += 1
        self.events.append(event)
        return event

    def transfer(
        self, block: int, when: datetime, token: str, usd: float, src: str, dst: str
    ) -> dict[str, Any]:
        return self.add(
            block,
            when,
            event_type="transfer",
            from_address=src,
            to_address=dst,
            token_address=_TOKENS[token],
            token_symbol=token,
            amount=round(usd, 2),
            amount_usd=round(usd, 2),
        )

    def swap(
        self,
        block: int,
        when: datetime,
        protocol: str,
        pair: tuple[str, str],
        usd: float,
        depth: float,
    ) -> dict[str, Any]:
        who = self.wallet()
        impact = usd / depth * self.rng.uniform(0.95, 1.05)
        return self.add(
            block,
            when,
            event_type="dex_swap",
            protocol=protocol,
            from_address=who,
            to_address=who,
            token_in=pair[0],
            token_out=pair[1],
            amount_in_usd=round(usd, 2),
            amount_out_usd=round(usd * (1 - impact / 100), 2),
            price_impact_pct=impact,
        )


def _schedule(rng: random.Random, start: datetime, end: datetime) -> list[tuple[datetime, str]]:
    """Times and kinds of the injections: after the warm-up, 2 minutes apart, liquidity
    drops an hour apart."""
    hours = (end - start).total_seconds() / 3600
    first, last = start + _WARM_UP, end - timedelta(minutes=2)
    if last <= first:
        return []
    chosen: list[tuple[datetime, str]] = []
    for kind, rate in RATE_PER_HOUR.items():
        for _ in range(max(1, round(rate * hours))):
            for _attempt in range(200):
                span = (last - first).total_seconds()
                minute = first + timedelta(seconds=rng.uniform(0, span))
                t = minute.replace(second=24, microsecond=0)  # a block's time
                gap = timedelta(hours=1) if kind == "liquidity_drop" else timedelta(minutes=2)
                if all(
                    abs(t - u) >= timedelta(minutes=2) and (k != kind or abs(t - u) >= gap)
                    for u, k in chosen
                ):
                    chosen.append((t, kind))
                    break
    return sorted(chosen)


def simulate_chain(
    start: datetime, end: datetime, folder: Path, known_wallets: Sequence[str], seed: int = 7
) -> ChainSimulation:
    """Write simulated on-chain events of ``[start, end)`` into ``folder`` (files
    ``chain-NNNN.jsonl``, 15 minutes each) and return them with the injected anomalies;
    ``known_wallets`` are addresses on the labels list (``known_wallet`` injections)."""
    if not known_wallets:
        raise ValueError("simulate_chain needs at least one known wallet")
    chain = _Chain(seed)
    rng = chain.rng
    injections = dict(_schedule(rng, start, end))
    drops = {t.replace(second=0) for t, k in injections.items() if k == "liquidity_drop"}
    anomalies: list[dict[str, Any]] = []
    when, block = start, FIRST_BLOCK
    while when < end:
        for _ in range(rng.randrange(4)):
            token = rng.choice(("USDT", "USDC"))
            chain.transfer(
                block, when, token, rng.uniform(50, 30_000), chain.wallet(), chain.wallet()
            )
        minute = when.replace(second=0, microsecond=0)
        if when.second < BLOCK_SECONDS or (when.second == 36 and rng.random() < 0.5):
            depth = POOL_DEPTH_USD / (4 if minute in drops else 1)
            chain.swap(
                block, when, "uniswap_v2", ("WETH", "USDC"), rng.uniform(5_000, 20_000), depth
            )
        kind = injections.get(when)
        if kind is not None:
            anomalies.append(_inject(chain, block, when, kind, known_wallets))
        when += timedelta(seconds=BLOCK_SECONDS)
        block += 1
    folder.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    by_file: dict[int, list[dict[str, Any]]] = {}
    for e in chain.events:
        t = datetime.fromisoformat(e["block_timestamp"].replace("Z", "+00:00"))
        by_file.setdefault(int((t - start) / _FILE_SPAN), []).append(e)
    for n, events in sorted(by_file.items()):
        path = folder / f"chain-{n:04d}.jsonl"
        path.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
        files.append(path)
    return ChainSimulation(tuple(files), len(chain.events), tuple(anomalies))


def _inject(
    chain: _Chain, block: int, when: datetime, kind: str, known: Sequence[str]
) -> dict[str, Any]:
    """One injected anomaly at ``when``: its events, and its truth record."""
    rng = chain.rng
    end = when
    if kind == "large_transfer":
        event = chain.transfer(
            block, when, "USDC", rng.uniform(200_000, 2_000_000), chain.wallet(), chain.wallet()
        )
    elif kind == "known_wallet":
        wallet, other = rng.choice(list(known)), chain.wallet()
        src, dst = (wallet, other) if rng.random() < 0.5 else (other, wallet)
        event = chain.transfer(block, when, "USDT", rng.uniform(150_000, 3_000_000), src, dst)
    elif kind == "large_swap":
        usd = rng.uniform(150_000, 1_500_000)
        event = chain.swap(block, when, "uniswap_v3", ("USDC", "WETH"), usd, 5 * POOL_DEPTH_USD)
    else:  # liquidity_drop: the minute's swaps were made shallow in simulate_chain
        event = {"event_id": None}
        end = when.replace(second=0) + timedelta(minutes=1)
    return {
        "kind": kind,
        "symbol": FOUND_BY[kind][1],
        "start": _iso(when.replace(second=0) if kind == "liquidity_drop" else when),
        "end": _iso(end),
        "event_id": event["event_id"],
    }
