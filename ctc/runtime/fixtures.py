"""Detector fixtures: input events and the alerts they must raise, run in Spark batch mode.

A fixture lives at ``detectors/fixtures/<spec-stem>/<case>.yaml``::

    description: one whale, one ordinary trade
    events:                       # unified trade events; quote_volume defaults to price × quantity
      - {event_id: a, exchange: binance, symbol: BTC-USDT, price: 60000, quantity: 2,
         side: buy, timestamp: "2026-01-01T00:00:01Z"}
    expect:                       # exactly these alerts, in any order ([] for none)
      - {alert_type: whale_trade, severity: medium, symbol: BTC-USDT,
         details: {quote_volume: 120000}}

Every field given under an expected alert must match (numbers within 1e-9 relative; a
detail expected null may be absent, as the details JSON leaves nulls out); fields left out
are not checked. The number of alerts must match exactly.

A detector that reads on-chain events gets them under ``chain_events:`` (the fields of
``ctc.events.ONCHAIN_EVENT_FIELDS``), through the same on-chain quality rules as
``ctc backtest --chain-input`` (a repeated ``event_id`` is dropped, the first kept)::

    chain_events:                 # blockchain defaults to ethereum, log_index to 0,
      - {tx_hash: "0xa1", block_number: 100, block_timestamp: "2026-01-01T00:00:12Z",
         event_type: transfer, from_address: "0x…", to_address: "0x…",
         token_symbol: USDT, amount: 250000, amount_usd: 250000}

``event_id`` defaults to ``<blockchain>:<tx_hash>:<log_index>`` and
``ingestion_timestamp`` to ``block_timestamp`` (give a later one for an event that
arrived late). Events are fed in the order listed, which need not be time order.
"""

from __future__ import annotations

import json
import math
import tempfile
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from ctc.compiler import compile_paths
from ctc.compiler.plan import Plan
from ctc.runtime.backtest import run_backtest

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


@dataclass
class FixtureResult:
    """The outcome of one fixture."""

    name: str
    passed: bool
    problems: list[str]
    alerts: int


def fixture_files(spec_path: Path) -> list[Path]:
    """The fixture files of the spec at ``spec_path``."""
    folder = spec_path.parent / "fixtures" / spec_path.stem
    return sorted(folder.glob("*.yaml")) if folder.is_dir() else []


def fixture_trade(e: dict[str, Any]) -> dict[str, Any]:
    """A fixture's trade event with its defaults filled in (quote volume, market,
    instrument, ingestion time), times as ISO text."""
    out = dict(e)
    if "quote_volume" not in out and "price" in out and "quantity" in out:
        out["quote_volume"] = float(Decimal(str(out["price"])) * Decimal(str(out["quantity"])))
    out.setdefault("market", str(out.get("symbol", "")).replace("-", ""))
    out.setdefault("instrument", "spot")
    if "ingestion_timestamp" not in out and "timestamp" in out:
        out["ingestion_timestamp"] = out["timestamp"]
    for k, v in list(out.items()):
        if isinstance(v, datetime):
            out[k] = v.isoformat().replace("+00:00", "Z")
    return out


def _iso(value: Any) -> Any:
    return value.isoformat().replace("+00:00", "Z") if isinstance(value, datetime) else value


def fixture_chain_event(e: dict[str, Any]) -> dict[str, Any]:
    """A fixture's on-chain event with its defaults filled in (blockchain, event id,
    ingestion time), times as ISO text."""
    out = {k: _iso(v) for k, v in e.items() if k != "log_index"}
    out.setdefault("blockchain", "ethereum")
    out.setdefault("event_id", f"{out['blockchain']}:{out.get('tx_hash')}:{e.get('log_index', 0)}")
    out.setdefault("ingestion_timestamp", out.get("block_timestamp"))
    return out


def _same(want: Any, got: Any) -> bool:
    if isinstance(want, dict) and isinstance(got, dict):
        # a null detail is left out of the details JSON: expecting null matches its absence
        return all(_same(v, got[k]) if k in got else v is None for k, v in want.items())
    if isinstance(want, bool) or isinstance(got, bool):
        return want == got
    if isinstance(want, int | float) and isinstance(got, int | float):
        return math.isclose(float(want), float(got), rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(want, datetime) and isinstance(got, str):
        return want.isoformat().replace("+00:00", "") in got
    if isinstance(got, datetime):
        w = want.isoformat() if isinstance(want, datetime) else str(want)
        return (
            got.isoformat().replace("+00:00", "Z").startswith(w.replace("+00:00", "Z").rstrip("Z"))
        )
    return bool(want == got)


def check_alerts(expected: list[dict[str, Any]], actual: list[dict[str, Any]]) -> list[str]:
    """Differences between expected (partial) alerts and actual alerts; empty when they match."""
    problems: list[str] = []
    left = list(actual)
    for i, want in enumerate(expected):
        match = next((a for a in left if _same(want, a)), None)
        if match is None:
            problems.append(f"expected alert #{i + 1} not raised: {json.dumps(want, default=str)}")
        else:
            left.remove(match)
    for a in left:
        brief = {k: a[k] for k in ("alert_type", "symbol", "exchange", "severity", "message")}
        problems.append(f"unexpected alert: {json.dumps(brief, default=str)}")
    return problems


def run_fixture(spark: SparkSession, plans: list[Plan], fixture: Path) -> FixtureResult:
    """Run one fixture file against ``plans``."""
    data = yaml.safe_load(fixture.read_text(encoding="utf-8")) or {}
    events = [fixture_trade(e) for e in data.get("events") or []]
    chain = [fixture_chain_event(e) for e in data.get("chain_events") or []]
    expected = data.get("expect") or []
    with tempfile.TemporaryDirectory(prefix="ctc-fixture-") as tmp:
        path = Path(tmp) / "events.jsonl"
        path.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
        chain_path = Path(tmp) / "chain.jsonl"
        chain_path.write_text("".join(json.dumps(e) + "\n" for e in chain), encoding="utf-8")
        result = run_backtest(spark, plans, path, chain_input=chain_path if chain else None)
    wanted = {p.module for p in plans[:1]}
    alerts = [a for a in result.alerts if a["module_id"] in wanted]
    problems = check_alerts(expected, alerts)
    name = f"{fixture.parent.name}/{fixture.stem}"
    return FixtureResult(name, not problems, problems, len(alerts))


def run_fixtures(spark: SparkSession, spec_paths: list[Path]) -> list[FixtureResult]:
    """Run the fixtures of every spec in ``spec_paths``."""
    results: list[FixtureResult] = []
    for spec_path in spec_paths:
        files = fixture_files(spec_path)
        if not files:
            continue
        # the spec's own plan first; the plans it reads come from the same folder
        plans = compile_paths([spec_path], with_dependencies=True)
        for f in files:
            results.append(run_fixture(spark, plans, f))
    return results
