"""A synthetic trade generator with injected anomalies and a ground-truth file.

``simulate`` writes unified trade events (:data:`ctc.events.TRADE_EVENT_FIELDS`) as JSON
lines, sorted by ``timestamp``, for BTC, ETH and SOL on binance and coinbase (six
streams), and ``<out>.truth.json`` listing every anomaly it injected.

The background is built so that no small-tier detector fires on its own:

* **Prices.** One random walk per symbol with bounded per-second steps (at most
  ±0.008 %), shared by both exchanges, plus independent per-trade noise of at most
  ±0.045 %. Within any 30 s window the mid moves at most 0.24 %, so the binance/coinbase
  VWAP spread is bounded by about 0.34 % (typically ~0.02 %), below MOD-003's 0.5 %.
* **Volume.** Per stream and 60 s epoch-aligned window the quote volume is
  ``base * m`` with ``m`` in [0.85, 1.15] taken from a golden-ratio (Weyl) sequence with a
  random phase. Unlike i.i.d. uniform draws (whose sample stddev over 10-60 windows is
  occasionally tiny), any run of 10+ consecutive values of this sequence is evenly spread,
  so the z-score of a normal window against any 10-60 window baseline stays below ~1.9
  (MOD-001 alerts at 2.5). Every 60 s window of every stream has at least 3 trades, and
  every 30 s half of it at least one.
* **Trades.** Background trade sizes are bounded: every background trade is below
  $50,000 of quote volume (far below MOD-002's $100,000).

Injected anomalies start after a 20 minute warm-up and are at least 10 minutes apart on
the same stream. A volume spike is never placed within an hour after another spike or a
whale on its stream, so its baseline is clean and it is always found.

* ``volume_spike``: one (symbol, exchange, 60 s window) carries 4-8x its volume, as
  proportionally more trades of the usual size.
* ``whale_trade``: one trade of $150k-$450k (medium), $600k-$950k (high) or
  $1.2M-$3M (critical) at the current price. Its 60 s window is recorded too: the whale
  usually lifts that window's volume above MOD-001's threshold.
* ``spread_divergence``: coinbase prices of one symbol are offset by ±0.8-2 % for
  30-90 s. The interval always covers at least one whole 30 s window (so MOD-003 sees the
  full offset there); windows partly overlapping it may or may not alert.

The output is deterministic for a given seed and parameters.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import numpy as np

from ctc.events import TRADE_EVENT_FIELDS

#: (symbol, starting price) of the simulated markets.
SYMBOLS: tuple[tuple[str, float], ...] = (
    ("BTC-USDT", 60_000.0),
    ("ETH-USDT", 3_000.0),
    ("SOL-USDT", 150.0),
)
EXCHANGES: tuple[str, ...] = ("binance", "coinbase")
#: The exchange's own pair name behind each canonical symbol.
MARKETS: dict[tuple[str, str], str] = {
    ("binance", "BTC-USDT"): "BTCUSDT",
    ("binance", "ETH-USDT"): "ETHUSDT",
    ("binance", "SOL-USDT"): "SOLUSDT",
    ("coinbase", "BTC-USDT"): "BTC-USD",
    ("coinbase", "ETH-USDT"): "ETH-USD",
    ("coinbase", "SOL-USDT"): "SOL-USD",
}
#: Mean background trade size in quote currency, per symbol and per exchange factor.
AVG_TRADE_USD: dict[str, float] = {"BTC-USDT": 6_000.0, "ETH-USDT": 4_000.0, "SOL-USDT": 2_000.0}
EXCHANGE_SIZE: dict[str, float] = {"binance": 1.0, "coinbase": 0.7}

DEFAULT_START = datetime(2026, 1, 1, tzinfo=UTC)
WINDOW_S = 60
WARMUP_WINDOWS = 20
MIN_GAP_S = 600  # anomalies on the same stream are at least this far apart
SPIKE_CLEAN_S = 3660  # no spike/whale on the stream this long before a spike
VOLUME_BAND = (0.85, 1.15)
TRADE_WEIGHT_BAND = (0.4, 1.6)  # per-trade size weights; max trade <= 4x the mean
BACKGROUND_MAX_USD = 50_000.0
STEP_MAX = 8e-5  # bounded per-second log-price step of the shared mid
PRICE_NOISE = 4.5e-4  # per-trade independent noise, < 0.05 %
SPIKE_MULT = (4.0, 8.0)
WHALE_BANDS: dict[str, tuple[float, float]] = {
    "medium": (150_000.0, 450_000.0),
    "high": (600_000.0, 950_000.0),
    "critical": (1_200_000.0, 3_000_000.0),
}
DIVERGENCE_PCT = (0.8, 2.0)
DIVERGENCE_MS = (30_000, 90_000)
SPREAD_WINDOW_MS = 30_000
#: Anomalies of each kind per hour of data (at least one of each).
RATE_PER_HOUR: dict[str, float] = {
    "volume_spike": 2.0,
    "whale_trade": 3.0,
    "spread_divergence": 1.5,
}
_GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0

if tuple(TRADE_EVENT_FIELDS) != (
    "event_id",
    "exchange",
    "symbol",
    "market",
    "instrument",
    "price",
    "quantity",
    "quote_volume",
    "side",
    "timestamp",
    "ingestion_timestamp",
):  # pragma: no cover - guards the hand-written JSON template below
    raise RuntimeError("TRADE_EVENT_FIELDS changed: update ctc.simulate's line template")

Progress = Callable[[str], None]


@dataclass(frozen=True)
class SimulationResult:
    """What :func:`simulate` wrote."""

    out: Path
    truth_path: Path
    trades: int
    start: datetime
    end: datetime
    anomalies: tuple[dict[str, Any], ...]
    seconds: float = 0.0
    trades_by_stream: dict[str, int] = field(default_factory=dict)

    @property
    def anomalies_by_kind(self) -> dict[str, int]:
        """Number of injected anomalies per kind (all three kinds always present)."""
        counts = Counter(a["kind"] for a in self.anomalies)
        return {kind: counts.get(kind, 0) for kind in RATE_PER_HOUR}


@dataclass
class _Stream:
    index: int
    symbol: str
    exchange: str
    # occupied intervals [start_ms, end_ms) and their kinds, relative to t0
    busy: list[tuple[int, int, str]] = field(default_factory=list)

    @property
    def market(self) -> str:
        return MARKETS[(self.exchange, self.symbol)]

    def fits(self, start: int, end: int, kind: str) -> bool:
        """True when [start, end) keeps the spacing rules with what is already here."""
        gap = MIN_GAP_S * 1000
        clean = SPIKE_CLEAN_S * 1000
        for s2, e2, k2 in self.busy:
            if not (start >= e2 + gap or end <= s2 - gap):
                return False
            # a spike needs no spike/whale in the hour before it
            if (
                kind == "volume_spike"
                and k2 in ("volume_spike", "whale_trade")
                and start - clean <= s2 < start
            ):
                return False
            if (
                k2 == "volume_spike"
                and kind in ("volume_spike", "whale_trade")
                and s2 - clean <= start < s2
            ):
                return False
        return True


def iso_ms(epoch_ms: int) -> str:
    """Format epoch milliseconds as ``2026-01-01T00:00:00.123Z``."""
    return str(np.datetime64(int(epoch_ms), "ms")) + "Z"


def _to_utc(start: datetime | None) -> datetime:
    if start is None:
        return DEFAULT_START
    if start.tzinfo is None:
        return start.replace(tzinfo=UTC)
    return start.astimezone(UTC)


def _epoch_ms(dt: datetime) -> int:
    return round(dt.timestamp() * 1000)


def _counts(hours: float) -> dict[str, int]:
    return {kind: max(1, round(rate * hours)) for kind, rate in RATE_PER_HOUR.items()}


def _schedule(
    rng: np.random.Generator, streams: list[_Stream], n_windows: int, hours: float
) -> list[dict[str, Any]]:
    """Place the anomalies on the timeline (times in ms relative to t0)."""
    first, last = WARMUP_WINDOWS, n_windows - 2  # usable window indices [first, last)
    placed: list[dict[str, Any]] = []
    if last - first < 1:
        return placed
    counts = _counts(hours)
    span = last - first
    by_symbol: dict[str, list[_Stream]] = {}
    for st in streams:
        by_symbol.setdefault(st.symbol, []).append(st)

    def candidates(i: int, n: int) -> Iterator[int]:
        """Window indices to try for the i-th of n anomalies: its target, then outwards."""
        target = first + int((i + rng.uniform(0.15, 0.85)) * span / n)
        target = min(max(target, first), last - 1)

        def outwards() -> Iterator[int]:
            yield target
            for d in range(1, span):
                for w in (target + d, target - d):
                    if first <= w < last:
                        yield w

        return outwards()

    # volume spikes first: they carry the strictest constraint (a clean hour before)
    n = counts["volume_spike"]
    for i in range(n):
        done = False
        for w in candidates(i, n):
            for si in rng.permutation(len(streams)):
                st = streams[si]
                s, e = w * WINDOW_S * 1000, (w + 1) * WINDOW_S * 1000
                if st.fits(s, e, "volume_spike"):
                    st.busy.append((s, e, "volume_spike"))
                    placed.append(
                        {
                            "kind": "volume_spike",
                            "stream": st.index,
                            "symbol": st.symbol,
                            "exchange": st.exchange,
                            "start_ms": s,
                            "end_ms": e,
                            "multiplier": round(float(rng.uniform(*SPIKE_MULT)), 3),
                        }
                    )
                    done = True
                    break
            if done:
                break

    n = counts["spread_divergence"]
    for i in range(n):
        done = False
        duration = int(rng.integers(DIVERGENCE_MS[0], DIVERGENCE_MS[1] + 1))
        lead = int(rng.integers(0, duration - SPREAD_WINDOW_MS + 1))
        pct = float(rng.uniform(*DIVERGENCE_PCT)) * (1 if rng.random() < 0.5 else -1)
        for w in candidates(i, n):
            for sym_i in rng.permutation(len(SYMBOLS)):
                sym = SYMBOLS[sym_i][0]
                # the whole 30 s window that the divergence always covers
                full = w * WINDOW_S * 1000 + int(rng.integers(0, 2)) * SPREAD_WINDOW_MS
                s = full - lead
                e = s + duration
                if s < first * WINDOW_S * 1000 or e > last * WINDOW_S * 1000:
                    continue
                pair = by_symbol[sym]
                if all(st.fits(s, e, "spread_divergence") for st in pair):
                    for st in pair:
                        st.busy.append((s, e, "spread_divergence"))
                    placed.append(
                        {
                            "kind": "spread_divergence",
                            "stream": pair[1].index,  # the coinbase stream carries the offset
                            "symbol": sym,
                            "exchange": None,
                            "start_ms": s,
                            "end_ms": e,
                            "offset_pct": round(pct, 4),
                            "full_window_start_ms": full,
                        }
                    )
                    done = True
                    break
            if done:
                break

    n = counts["whale_trade"]
    severities = list(WHALE_BANDS)
    shift = int(rng.integers(0, len(severities)))
    for i in range(n):
        severity = severities[(i + shift) % len(severities)]
        done = False
        for w in candidates(i, n):
            for si in rng.permutation(len(streams)):
                st = streams[si]
                s, e = w * WINDOW_S * 1000, (w + 1) * WINDOW_S * 1000
                if st.fits(s, e, "whale_trade"):
                    st.busy.append((s, e, "whale_trade"))
                    lo, hi = WHALE_BANDS[severity]
                    placed.append(
                        {
                            "kind": "whale_trade",
                            "stream": st.index,
                            "symbol": st.symbol,
                            "exchange": st.exchange,
                            "start_ms": s,
                            "end_ms": e,
                            "offset_ms": int(rng.integers(0, WINDOW_S * 1000)),
                            "target_usd": float(rng.uniform(lo, hi)),
                            "expected_severity": severity,
                            "side": "buy" if rng.random() < 0.5 else "sell",
                        }
                    )
                    done = True
                    break
            if done:
                break
    placed.sort(key=lambda a: (a["start_ms"], a["kind"], a["symbol"]))
    return placed


def _mid_prices(rng: np.random.Generator, p0: float, seconds: int) -> np.ndarray:
    """A bounded-step random walk of the mid price, one value per second."""
    steps = rng.uniform(-STEP_MAX, STEP_MAX, seconds)
    steps[0] = 0.0
    return np.asarray(p0 * np.exp(np.cumsum(steps)))


def _stream_trades(
    rng: np.random.Generator,
    st: _Stream,
    t0: int,
    n_windows: int,
    tps: float,
    mid: np.ndarray,
    anomalies: list[dict[str, Any]],
) -> dict[str, np.ndarray]:
    """Generate one stream's trades (background + its injected anomalies)."""
    mean_trade = AVG_TRADE_USD[st.symbol] * EXCHANGE_SIZE[st.exchange]
    per_window = tps * WINDOW_S
    base = mean_trade * per_window
    phase = rng.uniform()
    lo, hi = VOLUME_BAND
    mult = lo + (hi - lo) * np.mod(np.arange(n_windows) * _GOLDEN + phase, 1.0)
    volume = base * mult
    counts = np.maximum(3, np.rint(per_window * rng.uniform(0.9, 1.1, n_windows))).astype(np.int64)
    for a in anomalies:
        if a["kind"] == "volume_spike" and a["stream"] == st.index:
            w = a["start_ms"] // (WINDOW_S * 1000)
            volume[w] *= a["multiplier"]
            counts[w] = math.ceil(counts[w] * a["multiplier"])

    win = np.repeat(np.arange(n_windows, dtype=np.int64), counts)
    n = win.size
    weights = rng.uniform(*TRADE_WEIGHT_BAND, n)
    totals = np.bincount(win, weights=weights, minlength=n_windows)
    value = volume[win] * weights / totals[win]
    offsets = rng.integers(0, WINDOW_S * 1000, n)
    # every 30 s half-window gets a trade too, so MOD-003 always sees both exchanges
    firsts = np.cumsum(counts) - counts
    half = SPREAD_WINDOW_MS
    offsets[firsts] = rng.integers(0, half, n_windows)
    offsets[firsts + 1] = half + rng.integers(0, WINDOW_S * 1000 - half, n_windows)
    ts = np.sort(win * (WINDOW_S * 1000) + offsets)  # relative ms; windows stay in order
    is_whale = np.zeros(n, dtype=bool)
    side_buy = rng.random(n) < 0.5

    whales = [a for a in anomalies if a["kind"] == "whale_trade" and a["stream"] == st.index]
    if whales:
        ts = np.concatenate([ts, [a["start_ms"] + a["offset_ms"] for a in whales]])
        value = np.concatenate([value, [a["target_usd"] for a in whales]])
        is_whale = np.concatenate([is_whale, np.ones(len(whales), dtype=bool)])
        side_buy = np.concatenate([side_buy, [a["side"] == "buy" for a in whales]])
        order = np.argsort(ts, kind="stable")
        ts, value, is_whale, side_buy = ts[order], value[order], is_whale[order], side_buy[order]
        n = ts.size

    factor = mid[ts // 1000] * (1.0 + rng.uniform(-PRICE_NOISE, PRICE_NOISE, n))
    if st.exchange == "coinbase":
        for a in anomalies:
            if a["kind"] == "spread_divergence" and a["symbol"] == st.symbol:
                inside = (ts >= a["start_ms"]) & (ts < a["end_ms"])
                factor[inside] *= 1.0 + a["offset_pct"] / 100.0
    price = np.round(factor, 2)
    quantity = np.round(value / price, 8)
    quote_volume = np.round(price * quantity, 6)
    if np.any(quote_volume[~is_whale] >= BACKGROUND_MAX_USD):  # pragma: no cover - by design
        raise RuntimeError("background trade above $50,000: check AVG_TRADE_USD and the bands")
    first_id = int(rng.integers(1_000_000, 9_000_000))
    return {
        "ts": ts + t0,
        "ingest": ts + t0 + rng.integers(20, 400, n),
        "price": price,
        "quantity": quantity,
        "quote_volume": quote_volume,
        "buy": side_buy,
        "whale": is_whale,
        "trade_id": first_id + np.arange(n, dtype=np.int64),
        "stream": np.full(n, st.index, dtype=np.int64),
    }


def _iso_array(epoch_ms: np.ndarray) -> list[str]:
    return np.char.add(
        np.datetime_as_string(epoch_ms.astype("datetime64[ms]"), unit="ms"), "Z"
    ).tolist()


def _write_lines(
    path: Path, cols: dict[str, np.ndarray], streams: list[_Stream], progress: Progress | None
) -> None:
    """Write the merged trades as JSON lines (one f-string per row: ~1 s per million)."""
    prefix = [f'{{"event_id":"sim:{st.exchange}:{st.market}:' for st in streams]
    middle = [
        f'","exchange":"{st.exchange}","symbol":"{st.symbol}","market":"{st.market}",'
        '"instrument":"spot","price":'
        for st in streams
    ]
    n = cols["ts"].size
    chunk = 250_000
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        for lo in range(0, n, chunk):
            hi = min(n, lo + chunk)
            ts = _iso_array(cols["ts"][lo:hi])
            ing = _iso_array(cols["ingest"][lo:hi])
            sides = np.where(cols["buy"][lo:hi], "buy", "sell").tolist()
            rows = zip(
                cols["stream"][lo:hi].tolist(),
                cols["trade_id"][lo:hi].tolist(),
                cols["price"][lo:hi].tolist(),
                cols["quantity"][lo:hi].tolist(),
                cols["quote_volume"][lo:hi].tolist(),
                sides,
                ts,
                ing,
                strict=True,
            )
            fh.write(
                "".join(
                    f'{prefix[s]}{i}{middle[s]}{p!r},"quantity":{q!r},"quote_volume":{v!r},'
                    f'"side":"{side}","timestamp":"{t}","ingestion_timestamp":"{g}"}}\n'
                    for s, i, p, q, v, side, t, g in rows
                )
            )
            if progress:
                progress(f"wrote {hi:,}/{n:,} trades")


def simulate(
    hours: float,
    out: Path,
    seed: int = 7,
    trades_per_second: float = 1.0,
    start: datetime | None = None,
    progress: Progress | None = None,
) -> SimulationResult:
    """Write ``hours`` of simulated trades to ``out`` and the ground truth beside it.

    ``trades_per_second`` is the mean rate of each of the six (symbol, exchange)
    streams. ``start`` (default 2026-01-01T00:00:00Z) is aligned down to the minute so
    every 60 s window is complete. The truth goes to ``<out>.truth.json``.
    """
    if hours <= 0:
        raise ValueError("hours must be positive")
    if trades_per_second <= 0:
        raise ValueError("trades_per_second must be positive")
    began = time.perf_counter()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    truth_path = out.with_name(out.name + ".truth.json")
    t0 = _epoch_ms(_to_utc(start)) // (WINDOW_S * 1000) * (WINDOW_S * 1000)
    n_windows = max(1, math.ceil(hours * 3600 / WINDOW_S - 1e-9))
    t_end = t0 + n_windows * WINDOW_S * 1000

    root = np.random.SeedSequence(seed)
    sched_seq, price_seq, stream_seq = root.spawn(3)
    streams = [
        _Stream(index=i, symbol=sym, exchange=ex)
        for i, (sym, ex) in enumerate((s, e) for s, _ in SYMBOLS for e in EXCHANGES)
    ]
    anomalies = _schedule(np.random.default_rng(sched_seq), streams, n_windows, hours)
    if progress:
        progress(f"{n_windows} windows x {len(streams)} streams, {len(anomalies)} anomalies")

    seconds = n_windows * WINDOW_S
    price_rngs = [np.random.default_rng(s) for s in price_seq.spawn(len(SYMBOLS))]
    mids = {
        sym: _mid_prices(r, p0 * r.uniform(0.95, 1.05), seconds)
        for (sym, p0), r in zip(SYMBOLS, price_rngs, strict=True)
    }
    parts = [
        _stream_trades(
            np.random.default_rng(sq),
            st,
            t0,
            n_windows,
            trades_per_second,
            mids[st.symbol],
            anomalies,
        )
        for st, sq in zip(streams, stream_seq.spawn(len(streams)), strict=True)
    ]
    cols = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    order = np.lexsort((cols["trade_id"], cols["stream"], cols["ts"]))
    cols = {k: v[order] for k, v in cols.items()}
    if progress:
        progress(f"generated {cols['ts'].size:,} trades")

    truth = _truth(anomalies, cols, streams, t0)
    _write_lines(out, cols, streams, progress)
    doc = {
        "seed": seed,
        "hours": hours,
        "trades_per_second": trades_per_second,
        "trades": int(cols["ts"].size),
        "start": iso_ms(t0),
        "end": iso_ms(t_end),
        "anomalies": truth,
    }
    truth_path.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    by_stream = Counter(cols["stream"].tolist())
    return SimulationResult(
        out=out,
        truth_path=truth_path,
        trades=int(cols["ts"].size),
        start=datetime.fromtimestamp(t0 / 1000, UTC),
        end=datetime.fromtimestamp(t_end / 1000, UTC),
        anomalies=tuple(truth),
        seconds=time.perf_counter() - began,
        trades_by_stream={
            f"{st.symbol}@{st.exchange}": by_stream.get(st.index, 0) for st in streams
        },
    )


def _truth(
    anomalies: list[dict[str, Any]], cols: dict[str, np.ndarray], streams: list[_Stream], t0: int
) -> list[dict[str, Any]]:
    """The ground-truth records (absolute times, whale event ids and volumes)."""
    whale_rows = np.flatnonzero(cols["whale"])
    whale_at = {(int(cols["stream"][r]), int(cols["ts"][r])): int(r) for r in whale_rows}
    out: list[dict[str, Any]] = []
    for a in anomalies:
        rec: dict[str, Any] = {
            "kind": a["kind"],
            "symbol": a["symbol"],
            "exchange": a["exchange"],
            "start": iso_ms(t0 + a["start_ms"]),
            "end": iso_ms(t0 + a["end_ms"]),
        }
        if a["kind"] == "volume_spike":
            rec["multiplier"] = a["multiplier"]
        elif a["kind"] == "whale_trade":
            st = streams[a["stream"]]
            r = whale_at[(a["stream"], t0 + a["start_ms"] + a["offset_ms"])]
            rec.update(
                {
                    "event_id": f"sim:{st.exchange}:{st.market}:{int(cols['trade_id'][r])}",
                    "timestamp": iso_ms(int(cols["ts"][r])),
                    "quote_volume": float(cols["quote_volume"][r]),
                    "price": float(cols["price"][r]),
                    "quantity": float(cols["quantity"][r]),
                    "side": a["side"],
                    "expected_severity": a["expected_severity"],
                    "window_start": rec["start"],
                    "window_end": rec["end"],
                }
            )
        else:
            rec["offset_pct"] = a["offset_pct"]
            full = t0 + a["full_window_start_ms"]
            rec["full_window_start"] = iso_ms(full)
            rec["full_window_end"] = iso_ms(full + SPREAD_WINDOW_MS)
        out.append(rec)
    return out


def _parse_start(_ctx: click.Context, _param: click.Parameter, value: str) -> datetime:
    try:
        dt = datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"not an ISO 8601 time: {value!r}") from exc
    return _to_utc(dt)


@click.command("simulate")
@click.option("--hours", "hours", type=float, required=True, help="Hours of trades to generate.")
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="JSON-lines file to write (the truth goes to <out>.truth.json).",
)
@click.option("--seed", type=int, default=7, show_default=True, help="Random seed.")
@click.option(
    "--tps",
    type=float,
    default=1.0,
    show_default=True,
    help="Trades per second per (symbol, exchange) stream.",
)
@click.option(
    "--start",
    "start",
    default="2026-01-01T00:00:00Z",
    show_default=True,
    callback=_parse_start,
    help="Start time, ISO 8601 (aligned down to the minute).",
)
def simulate_command(hours: float, out: Path, seed: int, tps: float, start: datetime) -> None:
    """Generate simulated trades with injected anomalies and a ground-truth file."""

    def progress(msg: str) -> None:
        click.echo(f"simulate: {msg}", err=True)

    try:
        result = simulate(
            hours, out, seed=seed, trades_per_second=tps, start=start, progress=progress
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    rate = result.trades / result.seconds if result.seconds > 0 else float("inf")
    click.echo(f"trades written: {result.trades:,} ({rate:,.0f}/s, {result.seconds:.2f} s)")
    click.echo(f"span: {iso_ms(_epoch_ms(result.start))} -> {iso_ms(_epoch_ms(result.end))}")
    kinds = ", ".join(f"{k} {v}" for k, v in result.anomalies_by_kind.items())
    click.echo(f"injected anomalies: {len(result.anomalies)} ({kinds})")
    click.echo(f"trades: {result.out}")
    click.echo(f"truth:  {result.truth_path}")


if __name__ == "__main__":  # pragma: no cover
    simulate_command(sys.argv[1:])
