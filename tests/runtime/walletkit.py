"""Made-up input for MOD-004 (wallet-scorer) in the stream: weeks of ETH and BTC
trades and of wallets' DEX swaps, cut into files of a few days each, out of order and
some a file late (within the 1-day watermark)."""

from __future__ import annotations

import json
import os
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ctc.runtime.fixtures import fixture_chain_event, fixture_trade

START = datetime(2026, 1, 1, tzinfo=UTC)
WALLETS = [f"0x{n:040x}" for n in range(1, 7)]


def _iso(t: datetime) -> str:
    return t.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def trades(days: int, seed: int) -> list[dict[str, Any]]:
    """ETH-USDT (rising 0.4 % a day) and BTC-USDT (flat) about every 20 minutes, with
    noise; some trades share a millisecond (two exchanges, ids decide), some a second,
    and a 3-hour gap each fifth day (no price within the hour)."""
    rng = random.Random(seed)
    out = []
    n = 0
    for symbol, base, drift in (("ETH-USDT", 2000.0, 0.004), ("BTC-USDT", 60000.0, 0.0)):
        t = START
        while t < START + timedelta(days=days):
            day = (t - START).days
            if day % 5 == 4 and 10 <= t.hour < 13:
                t += timedelta(minutes=20)
                continue
            price = round(
                base
                * (1 + drift) ** ((t - START).total_seconds() / 86400)
                * (1 + rng.uniform(-0.03, 0.03)),
                2,
            )
            stamp = t + timedelta(milliseconds=rng.randrange(0, 60_000))
            copies = (
                [("binance", stamp), ("coinbase", stamp)]
                if rng.random() < 0.2
                else [("binance", stamp)]
            )
            if rng.random() < 0.2:  # another trade in the same second, later
                copies.append(("binance", stamp + timedelta(milliseconds=rng.randrange(1, 5))))
            for exchange, at in copies:
                n += 1
                out.append(
                    fixture_trade(
                        {
                            "event_id": f"t{n:06d}",
                            "exchange": exchange,
                            "symbol": symbol,
                            "price": round(price * (1 + rng.uniform(-0.001, 0.001)), 2),
                            "quantity": 1,
                            "side": "buy",
                            "timestamp": _iso(at),
                        }
                    )
                )
            t += timedelta(minutes=rng.choice([15, 20, 25]))
    return out


def swaps(days: int, seed: int) -> list[dict[str, Any]]:
    """Six wallets, each a swap every 6 to 18 hours at a whole second: into WETH, WBTC
    or PEPE (no trade symbol); and a large transfer now and then (kept by MOD-008, not a
    swap)."""
    rng = random.Random(seed)
    out = []
    n = 0
    for w, wallet in enumerate(WALLETS):
        t = START + timedelta(seconds=rng.randrange(0, 36_000))
        while t < START + timedelta(days=days):
            n += 1
            usd = round(rng.uniform(5_000, 200_000), 2)
            token = rng.choice(["WETH"] * 5 + ["WBTC"] * (1 + w % 3) + ["PEPE"])
            kind = "transfer" if rng.random() < 0.1 else "dex_swap"
            event = {
                "tx_hash": f"0x{n:05x}",
                "block_number": 1000 + n,
                "block_timestamp": t.isoformat().replace("+00:00", "Z"),
                "event_type": kind,
                "from_address": wallet,
                "to_address": wallet,
            }
            if kind == "dex_swap":
                event |= {
                    "protocol": "uniswap_v3",
                    "token_in": "USDC",
                    "token_out": token,
                    "amount_in_usd": usd,
                    "amount_out_usd": round(usd * 0.997, 2),
                    "price_impact_pct": 0.05,
                }
            else:
                event |= {"token_symbol": "USDC", "amount": usd, "amount_usd": usd}
            out.append(fixture_chain_event(event))
            t += timedelta(seconds=rng.randrange(6 * 3600, 18 * 3600))
    return out


def _time(row: dict[str, Any]) -> datetime:
    text = row.get("timestamp") or row["block_timestamp"]
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def cut(
    rows: list[dict[str, Any]], span_days: int, files: int, late_hours: float, seed: int
) -> list[list[dict[str, Any]]]:
    """``rows`` in files of ``span_days`` each, shuffled within a file; a row in the last
    ``late_hours`` of a file's span goes to the next file (late, out of order)."""
    rng = random.Random(seed)
    out: list[list[dict[str, Any]]] = [[] for _ in range(files)]
    span = timedelta(days=span_days)
    for r in rows:
        i = min(int((_time(r) - START) / span), files - 1)
        into_next = START + span * (i + 1) - _time(r) <= timedelta(hours=late_hours)
        out[i + 1 if into_next and i < files - 1 and rng.random() < 0.5 else i].append(r)
    for f in out:
        rng.shuffle(f)
    return out


def write(files: list[list[dict[str, Any]]], folder: Path, stem: str) -> list[Path]:
    """Each file as JSON lines in ``folder``, modification times 10 ms apart in order."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    base = 1_700_000_000.0
    for i, rows in enumerate(files):
        path = folder / f"{stem}-{i:03d}.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
        os.utime(path, (base + i * 0.01, base + i * 0.01))
        paths.append(path)
    return paths
