"""Historical loader against a local fake of Binance REST serving real recording rows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from binance_rest_fake import FakeBinanceRest, serve_fake
from click.testing import CliRunner
from ingest_helpers import real_file

from ctc.ingest.cli import ingest
from ctc.ingest.history import load_binance_history

pytestmark = pytest.mark.realdata

BASE_T = 1_617_566_591_314  # first BTCUSDT aggTrade time in the recording
STEP_MS = 10_000  # spread the 1,227 real rows over ~3.4 h to exercise the 1 h windows


def _real_rows() -> list[dict[str, Any]]:
    """BTCUSDT aggTrades from the cryptofeed recording, as REST rows (independent parse)."""
    rows = []
    path = real_file("cryptofeed/BINANCE-ee25be.0")
    for line in path.read_text(encoding="utf-8").splitlines():
        _, sep, body = line.partition(": ")
        if not sep or not body.startswith('{"stream":"btcusdt@aggTrade"'):
            continue
        d = json.loads(body)["data"]
        rows.append({k: d[k] for k in ("a", "p", "q", "f", "l", "T", "m", "M")})
    rows.sort(key=lambda r: r["a"])
    for i, row in enumerate(rows):
        row["T"] = BASE_T + i * STEP_MS
    return rows


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_pages_one_hour_windows_and_writes_unified_events(tmp_path: Path) -> None:
    rows = _real_rows()
    fake = FakeBinanceRest("BTCUSDT", rows)
    start, end = BASE_T, BASE_T + len(rows) * STEP_MS  # all rows
    out = tmp_path / "btc.jsonl"
    with serve_fake(fake) as url:
        result = load_binance_history("BTCUSDT", start, end, out, base_url=url, limit=100)
    assert result.done
    events = _read_jsonl(out)
    assert [e["event_id"] for e in events] == [f"binance:BTCUSDT:a{r['a']}" for r in rows]
    by_id = {f"binance:BTCUSDT:a{r['a']}": r for r in rows}
    for e in events:
        raw = by_id[e["event_id"]]
        assert e["side"] == ("sell" if raw["m"] else "buy")
        assert e["symbol"] == "BTC-USDT" and e["price"] == float(raw["p"])
    windows = [q for q in fake.requests if "startTime" in q]
    assert len(windows) >= 4  # > 3 h in ≤ 1 h slices
    assert any("fromId" in q for q in fake.requests)  # full pages continue by id


def test_resume_after_interruption_without_duplicates(tmp_path: Path) -> None:
    rows = _real_rows()
    fake = FakeBinanceRest("BTCUSDT", rows)
    start, end = BASE_T + 5 * STEP_MS, BASE_T + 1000 * STEP_MS  # [5, 1000)
    out = tmp_path / "part.jsonl"
    with serve_fake(fake) as url:
        first = load_binance_history(
            "BTCUSDT", start, end, out, base_url=url, limit=100, max_pages=4
        )
        assert not first.done
        # simulate a crash after rows were written but before the cursor moved
        with open(out, "a") as fh:
            fh.write('{"event_id":"torn write"}\n')
        fake.fail_requests = {len(fake.requests) + 1}  # one transient 500, retried
        second = load_binance_history("BTCUSDT", start, end, out, base_url=url, limit=100)
    assert second.done
    ids = [e["event_id"] for e in _read_jsonl(out)]
    assert ids == [f"binance:BTCUSDT:a{r['a']}" for r in rows[5:1000]]


def test_parquet_partitioned_by_date_and_symbol(tmp_path: Path) -> None:
    pads = pytest.importorskip("pyarrow.dataset")
    rows = _real_rows()
    fake = FakeBinanceRest("BTCUSDT", rows)
    out = tmp_path / "pq"
    with serve_fake(fake) as url:
        result = load_binance_history(
            "BTCUSDT",
            BASE_T,
            BASE_T + len(rows) * STEP_MS,
            out,
            fmt="parquet",
            base_url=url,
            rows_per_file=500,
        )
    assert result.done and result.rows_written == len(rows)
    parts = sorted(p.relative_to(out).parts[:2] for p in out.rglob("*.parquet"))
    assert {p[1] for p in parts} == {"symbol=BTC-USDT"}
    assert {p[0] for p in parts} == {"date=2021-04-04"}
    table = pads.dataset(out, format="parquet", partitioning="hive").to_table()
    assert sorted(table.column("event_id").to_pylist()) == sorted(
        f"binance:BTCUSDT:a{r['a']}" for r in rows
    )
    assert set(table.column("symbol").to_pylist()) == {"BTC-USDT"}


def test_history_cli(tmp_path: Path) -> None:
    rows = _real_rows()[:300]
    fake = FakeBinanceRest("BTCUSDT", rows)
    out = tmp_path / "cli.jsonl"
    with serve_fake(fake) as url:
        result = CliRunner().invoke(
            ingest,
            [
                "history",
                "--exchange",
                "binance",
                "--symbol",
                "BTCUSDT",
                "--from",
                str(BASE_T),
                "--to",
                "2021-04-05T00:00:00Z",
                "--out",
                str(out),
                "--base-url",
                url,
            ],
        )
    assert result.exit_code == 0, result.output
    assert "history complete" in result.output
    assert len(_read_jsonl(out)) == 300
    assert (tmp_path / "cli.jsonl.cursor.json").exists()
