"""Spot and USD-M futures are told apart in replay, live and history, by the same names."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from synthetic import binance_lines, write_gz

from ctc.ingest.backfill import HistorySource
from ctc.ingest.cli import ingest
from ctc.ingest.feeds import build_feed
from ctc.ingest.recordings import load_recording
from ctc.ingest.replay_history import ReplayHistory


def _run(landing: Path, *args: str) -> Result:
    return CliRunner().invoke(ingest, [*args, "--sink", f"landing:{landing}"])


def _landed(landing: Path) -> list[dict[str, object]]:
    return [
        json.loads(line)
        for p in sorted(landing.glob("*.jsonl"))
        for line in p.read_text().splitlines()
    ]


@pytest.fixture
def spot(tmp_path: Path) -> Path:
    return write_gz(tmp_path / "spot.gz", binance_lines("BTCUSDT", range(100, 110)))


@pytest.fixture
def futures(tmp_path: Path) -> Path:
    return write_gz(tmp_path / "um.gz", binance_lines("BTCUSDT", range(100, 110), futures=True))


def test_frame_shape_decides_and_spot_and_futures_stay_apart(
    spot: Path, futures: Path, tmp_path: Path
) -> None:
    result = _run(tmp_path / "out", "--replay", str(spot), "--replay", str(futures))
    assert result.exit_code == 0, result.output
    rows = _landed(tmp_path / "out")
    assert len(rows) == 20
    kinds = {(r["exchange"], r["instrument"]) for r in rows}
    assert kinds == {("binance", "spot"), ("binance-futures", "perpetual")}
    assert len({r["event_id"] for r in rows}) == 20  # same trade ids, different venues
    assert {r["event_id"] for r in rows if r["instrument"] == "perpetual"} == {
        f"binance-futures:BTCUSDT:{i}" for i in range(100, 110)
    }


def test_a_flag_that_fits_is_applied(futures: Path, tmp_path: Path) -> None:
    result = _run(tmp_path / "out", "--replay", str(futures), "--exchanges", "binance-futures")
    assert result.exit_code == 0, result.output
    assert {r["instrument"] for r in _landed(tmp_path / "out")} == {"perpetual"}


@pytest.mark.parametrize(
    ("which", "flag", "message"),
    [
        (
            "spot",
            "binance-futures",
            ': --exchanges binance-futures (perpetual) cannot apply: its trade frames carry "M", '
            "so they are spot (line 1)",
        ),
        (
            "futures",
            "binance",
            ': --exchanges binance (spot) cannot apply: its trade frames lack "M", '
            "so they are perpetual (line 1)",
        ),
        (
            "spot",
            "coinbase",
            ": --exchanges coinbase cannot apply to a binance recording "
            "(use binance or binance-futures or binanceus)",
        ),
    ],
)
def test_a_flag_that_cannot_apply_is_rejected(
    which: str, flag: str, message: str, spot: Path, futures: Path, tmp_path: Path
) -> None:
    path = spot if which == "spot" else futures
    result = _run(tmp_path / "out", "--replay", str(path), "--exchanges", flag)
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [f"ctc: error: {path}{message}"]
    assert not (tmp_path / "out").exists() or _landed(tmp_path / "out") == []


def test_two_names_with_replay_is_a_usage_error(spot: Path, tmp_path: Path) -> None:
    result = _run(tmp_path / "out", "--replay", str(spot), "--exchanges", "binance,coinbase")
    assert result.exit_code == 2
    assert "with --replay, give one of" in result.output


def test_live_futures_feed_and_its_history_say_perpetual() -> None:
    feed = build_feed("binance-futures", ["btc"])
    event = feed.normaliser(
        {
            "stream": "btcusdt@trade",
            "data": {
                "e": "trade",
                "s": "BTCUSDT",
                "t": 7,
                "p": "1",
                "q": "2",
                "T": 1723161255342,
                "m": False,
                "X": "MARKET",
            },
        },
        "2024-08-08T23:54:15.000000Z",
    )[0]
    assert (event["exchange"], event["instrument"]) == ("binance-futures", "perpetual")
    source = HistorySource.for_connector("binance-futures")
    assert (source.kind, source.base_url) == ("binance-usdm", "https://fapi.binance.com")


def test_the_replay_history_serves_the_futures_endpoints_only(futures: Path) -> None:
    history = ReplayHistory(load_recording(futures))
    end = 10  # every frame already replayed
    status, rows = history.answer(
        "/fapi/v1/historicalTrades?symbol=BTCUSDT&fromId=105&limit=3", end
    )
    assert status == 200
    assert [r["id"] for r in rows] == [105, 106, 107]
    assert "isBestMatch" not in rows[0]  # USD-M rows have no isBestMatch
    assert history.answer("/api/v3/historicalTrades?symbol=BTCUSDT&fromId=105", end)[0] == 404
    # only what the replay has passed: frames 0..4 are ids 100..104
    assert [
        r["id"] for r in history.answer("/fapi/v1/historicalTrades?symbol=BTCUSDT&fromId=100", 5)[1]
    ] == list(range(100, 105))


def test_replay_server_answers_rest_on_its_port(spot: Path) -> None:
    import asyncio

    from ctc.ingest.replay_server import ReplayServer

    async def ask() -> list[dict[str, object]]:
        server = await ReplayServer(load_recording(spot)).start()
        server._pos = 10  # as if every frame was sent
        try:
            url = f"{server.http_url}/api/v3/historicalTrades?symbol=BTCUSDT&fromId=108"
            body = await asyncio.to_thread(lambda: urllib.request.urlopen(url, timeout=5).read())
            return list(json.loads(body))
        finally:
            await server.stop()

    rows = asyncio.run(ask())
    assert [(r["id"], r["isBuyerMaker"]) for r in rows] == [(108, True), (109, False)]
