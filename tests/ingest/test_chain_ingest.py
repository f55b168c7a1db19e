"""On-chain ingest against the local JSON-RPC replay server: real recorded transfers
(with forced disconnects), hand-made Uniswap V2/V3 swaps, and simulated reorgs.

Expected values are computed here from the CSV and from the hand-made log words, with
their own token table: nothing is taken from ``ctc.ingest.chain``'s tables or decoder.
"""

from __future__ import annotations

import asyncio
import csv
import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import realdata

from ctc.ingest.backoff import Backoff
from ctc.ingest.chain.normalise import LogNormaliser
from ctc.ingest.chain.pipeline import run_chain_pipeline
from ctc.ingest.chain.recordings import Block, block_hash, build_chain, fork, load_transfers
from ctc.ingest.chain.replay_server import ChainReplayServer
from ctc.ingest.chain.tokens import Pool, PriceBook, Token, load_pools, load_tokens
from ctc.ingest.connection import ConnectionSettings
from ctc.ingest.replay_server import END_OF_STREAM
from ctc.ingest.sinks import MemorySink

#: decimals of the tokens the tests value (from the tokens' contracts, not the ingest table)
DECIMALS = {
    "0xdac17f958d2ee523a2206206994597c13d831ec7": 6,  # USDT
    "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48": 6,  # USDC
    "0x6b175474e89094c44da98b954eedeac495271d0f": 18,  # DAI
    "0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2": 18,  # WETH
    "0x2260fac5e5542a773aa44fbcfedf7c193bc2c599": 8,  # WBTC
}
TRANSFER = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
FAST = ConnectionSettings(backoff=Backoff(base=0.01, max_delay=0.05, min_delay=0.0))


def _pad(address: str) -> str:
    return "0x" + address[2:].rjust(64, "0")


def _word(value: int) -> str:
    return format(value % (1 << 256), "064x")


def _run(blocks: list[Block], confirmations: int, **server: Any) -> tuple[list[dict], Any, Any]:
    async def go() -> tuple[list[dict], Any, Any]:
        async with ChainReplayServer(
            blocks, tail=confirmations, lockstep=confirmations, end_wait=10, **server
        ) as srv:
            sink = MemorySink()
            normaliser = LogNormaliser(load_tokens(), load_pools(), PriceBook())
            metrics, counters = await asyncio.wait_for(
                run_chain_pipeline(
                    srv.url,
                    sink,
                    normaliser,
                    confirmations=confirmations,
                    start_block=blocks[0].number,
                    settings=FAST,
                    end_of_stream_reason=END_OF_STREAM,
                ),
                60,
            )
            return sink.events, metrics, counters

    return asyncio.run(go())


@pytest.mark.realdata
def test_ethritch_transfers_replayed_with_disconnects() -> None:
    path = realdata.real_dir() / "ethritch-data_cleaning" / "token_transfers.csv"
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    blocks = load_transfers(path, load_tokens())
    events, metrics, counters = _run(blocks, 12, drop_after=[7, 30])
    assert metrics.reconnects == 2
    assert counters.blocks == 51 and counters.deep_reorgs == 0
    assert len(events) == len(rows) == 8817
    by_id = {e["event_id"]: e for e in events}
    assert len(by_id) == 8817
    start = datetime(2021, 6, 8, tzinfo=UTC)
    for r in rows:
        e = by_id[f"ethereum:{r['transaction_hash']}:{r['log_index']}"]
        assert (e["from_address"], e["to_address"]) == (r["from_address"], r["to_address"])
        assert e["token_address"] == r["token_address"] and e["event_type"] == "transfer"
        assert e["block_number"] == int(r["block_number"])
        when = start + timedelta(seconds=12 * (int(r["block_number"]) - 12_600_000))
        assert e["block_timestamp"] == when.strftime("%Y-%m-%dT%H:%M:%S.000000Z")
        decimals = DECIMALS.get(r["token_address"])
        if decimals is not None:
            assert e["amount"] == float(Decimal(r["value"]).scaleb(-decimals))
    stable = [
        e
        for e in events
        if e["token_symbol"] in ("USDT", "USDC", "DAI") and e["amount_usd"] > 100_000
    ]
    # PROVENANCE.md: USDT 97, USDC 37 and DAI 10 transfers above $100K
    assert len(stable) == 97 + 37 + 10
    assert all(e["amount_usd"] == e["amount"] for e in stable)


@pytest.mark.realdata
def test_raphtory_transfers_keep_their_timestamps() -> None:
    path = realdata.real_dir() / "raphtory-data" / "token_transfers.csv"
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    events, _, _ = _run(load_transfers(path, load_tokens()), 3)
    assert len(events) == len(rows) == 99
    first = datetime.fromtimestamp(int(rows[0]["time_stamp"]), UTC)
    assert events[0]["block_timestamp"] == first.strftime("%Y-%m-%dT%H:%M:%S.000000Z")
    usdt = [e for e in events if e["token_symbol"] == "USDT"]
    usdt_rows = [r for r in rows if r["contract_address"] == USDT]
    assert len(usdt) == len(usdt_rows) == 80
    largest = max(Decimal(r["value"]) for r in usdt_rows)  # PROVENANCE.md: about 3,993,524
    assert max(e["amount_usd"] for e in usdt) == float(largest)
    assert round(largest) == 3_993_524


USDC = "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48"
USDT = "0xdac17f958d2ee523a2206206994597c13d831ec7"
WETH = "0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2"
V2_POOL = "0xb4e16d0168e52d35cacd2c6185b44281ec28c9dc"  # token0 USDC, token1 WETH
V3_POOL = "0x88e6a0c2ddd26feeb64f039a2c41296fcb3f5640"  # token0 USDC, token1 WETH
SENDER = "0x7a250d5630b4cf539739df2c5dacb4c659f2488d"
WALLET = "0x1111111111111111111111111111111111111111"


def _log(address: str, topics: list[str], words: list[int], tx: str, index: int) -> dict:
    return {
        "address": address,
        "topics": topics,
        "data": "0x" + "".join(_word(w) for w in words),
        "transactionHash": tx,
        "logIndex": hex(index),
    }


def _chain(logs: dict[int, list[dict]], first: int = 100, last: int = 110) -> list[Block]:
    all_logs = {n: logs.get(n, []) for n in range(first, last + 1)}
    return build_chain("test", all_logs, {first: 1_700_000_000})


def test_hand_made_uniswap_swaps() -> None:
    v2_swap = "0xd78ad95fa46c994b6551d0da85fc275fe613ce37657fb8d5e3d130840159d822"
    v2_sync = "0x1c411e9a96e071241c2f21f7726b17ae89e3cab4c78be50e062b03a9fffbbad1"
    v3_swap = "0xc42079f94a6350d7e6235f29174924f928cc2ac818eb64fed8004e115fbcca67"
    tx1, tx2, tx3 = ("0x" + c * 64 for c in "abc")
    usdc_in = 200_000 * 10**6  # 200,000 USDC in, 50 WETH out
    weth_out = 50 * 10**18
    r0, r1 = 10_200_000 * 10**6, 2_450 * 10**18  # reserves after the swap
    v3_usdc = 300_000 * 10**6
    logs = {
        101: [
            _log(V2_POOL, [v2_sync], [r0, r1], tx1, 4),
            _log(V2_POOL, [v2_swap, _pad(SENDER), _pad(WALLET)], [usdc_in, 0, 0, weth_out], tx1, 5),
        ],
        102: [  # V3: first swap sets the pool price, the second moves it
            _log(
                V3_POOL,
                [v3_swap, _pad(SENDER), _pad(WALLET)],
                [v3_usdc, -(100 * 10**18), 2**96 * 10, 10**20, 0],
                tx2,
                0,
            ),
        ],
        103: [
            _log(
                V3_POOL,
                [v3_swap, _pad(SENDER), _pad(WALLET)],
                [-(v3_usdc), 100 * 10**18, 2**96 * 11, 10**20, 0],
                tx3,
                7,
            ),
        ],
        104: [_log("0x" + "9" * 40, [v2_swap, _pad(SENDER), _pad(WALLET)], [1, 0, 0, 1], tx3, 9)],
    }
    events, metrics, _ = _run(_chain(logs), 2)
    assert [e["event_id"] for e in events] == [
        f"ethereum:{tx1}:5",
        f"ethereum:{tx2}:0",
        f"ethereum:{tx3}:7",
    ]
    v2, v3a, v3b = events
    assert (v2["event_type"], v2["protocol"]) == ("dex_swap", "uniswap_v2")
    assert (v2["token_in"], v2["token_out"]) == ("USDC", "WETH")
    assert v2["amount_in_usd"] == 200_000.0 and v2["amount_out_usd"] is None  # no WETH price
    assert (v2["from_address"], v2["to_address"]) == (SENDER, WALLET)
    # price (token1 per token0) before: (2450+50)/(10.2M-200K) = 2500/10M; after 2450/10.2M
    before, after = 2500 / 10_000_000, 2450 / 10_200_000
    assert v2["price_impact_pct"] == pytest.approx(abs(after / before - 1) * 100, rel=1e-12)
    assert (v3a["protocol"], v3a["token_in"], v3a["token_out"]) == ("uniswap_v3", "USDC", "WETH")
    assert v3a["amount_in_usd"] == 300_000.0 and v3a["price_impact_pct"] is None
    assert (v3b["token_in"], v3b["token_out"]) == ("WETH", "USDC")
    assert v3b["amount_out_usd"] == 300_000.0
    assert v3b["price_impact_pct"] == pytest.approx((1.1**2 - 1) * 100, rel=1e-12)
    assert metrics.malformed == 1  # the swap on a pool not in the table: skipped, counted


def _transfer(tx: str, index: int, value: int) -> dict:
    return _log(USDC, [TRANSFER, _pad(SENDER), _pad(WALLET)], [value], tx, index)


def test_shallow_reorg_never_reaches_the_stream(caplog: pytest.LogCaptureFixture) -> None:
    kept, orphan, replacement = ("0x" + c * 64 for c in "def")
    logs = {103: [_transfer(kept, 0, 10**6)], 104: [_transfer(orphan, 0, 5 * 10**6)]}
    blocks = _chain(logs, 100, 120)
    # after head 106 a 3-block branch replaces 104..106: block 104 loses the orphan transfer
    branch = fork(blocks, "test", range(104, 107), {104: [_transfer(replacement, 1, 7)]})
    caplog.set_level(logging.INFO, "ctc.ingest.chain.follower")
    events, _, counters = _run(blocks, 4, reorgs={106: branch})
    ids = [e["event_id"] for e in events]
    assert ids == [f"ethereum:{kept}:0", f"ethereum:{replacement}:1"]
    assert (counters.reorgs, counters.deep_reorgs) == (1, 0)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING and "reorg" in r.message]


def test_deep_reorg_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    early, orphan, late = ("0x" + c * 64 for c in "123")
    logs = {102: [_transfer(early, 0, 1)], 104: [_transfer(orphan, 0, 2)]}
    blocks = _chain(logs, 100, 120)
    # after head 110 a 7-block branch replaces 104..110 while 104..108 are already emitted
    branch = fork(blocks, "test", range(104, 111), {105: [_transfer(late, 3, 4)]})
    caplog.set_level(logging.INFO, "ctc.ingest.chain.follower")
    events, _, counters = _run(blocks, 2, reorgs={110: branch})
    ids = [e["event_id"] for e in events]
    # the orphan was emitted before the reorg (it cannot be recalled); the branch's new
    # transfer is emitted when its block is emitted again
    assert ids == [f"ethereum:{early}:0", f"ethereum:{orphan}:0", f"ethereum:{late}:3"]
    assert counters.deep_reorgs == 1
    warnings = [r.message for r in caplog.records if r.levelno == logging.WARNING]
    assert any("replaced blocks 104..108" in w for w in warnings), warnings


def test_tokens_and_pools_tables_agree_with_the_test_table() -> None:
    tokens: dict[str, Token] = load_tokens()
    for address, decimals in DECIMALS.items():
        assert tokens[address].decimals == decimals
    pools: dict[str, Pool] = load_pools()
    assert (pools[V2_POOL].token0, pools[V2_POOL].token1) == (USDC, WETH)
    assert block_hash("a", 1) != block_hash("a", 1, 1)
