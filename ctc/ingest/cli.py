"""``ctc ingest``: live connectors, offline replay and the historical loader.

    ctc ingest --exchanges binance,coinbase --symbols btc,eth,sol --sink landing:DIR
    ctc ingest --replay FILE [--speed N|max] [--exchanges binance-futures] --sink landing:DIR
    ctc ingest history --exchange binance --symbol BTCUSDT --from T --to T --out PATH

Register with ``main.add_command(ingest)`` in ``ctc/cli.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from pathlib import Path
from typing import Any

import click

from ctc.cli_errors import fail
from ctc.ingest.backfill import REST_BASE_URLS, HistorySource
from ctc.ingest.connection import ConnectionSettings
from ctc.ingest.feeds import CONNECTORS, FeedSpec, build_feed
from ctc.ingest.gaps import GapLog
from ctc.ingest.history import load_binance_history
from ctc.ingest.metrics import IngestMetrics
from ctc.ingest.pipeline import PipelineConfig, run_pipeline
from ctc.ingest.recordings import RecordingError
from ctc.ingest.replay import load_replays, parse_speed, replay_recordings
from ctc.ingest.sink_kinesis import KinesisSink
from ctc.ingest.sink_landing import LandingSink
from ctc.ingest.sinks import Sink, parse_sink_spec
from ctc.ingest.symbols import SymbolMapper
from ctc.ingest.timestamps import NS_PER_UNIT, parse_time_arg


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _parse_urls(
    values: tuple[str, ...], connectors: list[str], option: str = "--url"
) -> dict[str, str]:
    urls: dict[str, str] = {}
    for value in values:
        name, sep, url = value.partition("=")
        if sep and name in CONNECTORS:
            urls[name] = url
        elif len(connectors) == 1:
            urls[connectors[0]] = value
        else:
            raise click.BadParameter(
                f"use NAME=URL with several exchanges, got {value!r}", param_hint=option
            )
    return urls


def gap_log_for(opts: dict[str, Any]) -> GapLog | None:
    """Where gap records go: ``--gaps-dir``, else ``_gaps/`` inside a landing directory
    (Spark's file source skips names starting with ``_``), else nowhere (Kinesis: gaps are
    then only logged and counted)."""
    if opts["gaps_dir"]:
        return GapLog(opts["gaps_dir"])
    spec = parse_sink_spec(opts["sink_spec"])
    return GapLog(spec.path / "_gaps") if spec.kind == "landing" else None


def make_sink(spec_text: str, opts: dict[str, Any]) -> Sink:
    """Build the sink for ``--sink landing:DIR`` or ``--sink kinesis:STREAM``."""
    try:
        spec = parse_sink_spec(spec_text)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--sink") from exc
    if spec.kind == "landing":
        return LandingSink(
            spec.path, max_bytes=opts["roll_bytes"], max_seconds=opts["roll_seconds"]
        )
    return KinesisSink(
        spec.target,
        region_name=opts["region"],
        endpoint_url=opts["endpoint_url"],
        dead_letter=opts["dead_letter"],
    )


async def _run_with_signals(coro: Any, stop: asyncio.Event) -> IngestMetrics:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    try:
        result: IngestMetrics = await coro
        return result
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(sig)


@click.group(invoke_without_command=True)
@click.option(
    "--exchanges",
    default="binance,coinbase",
    show_default=True,
    help=f"Comma list of connectors: {', '.join(CONNECTORS)}.",
)
@click.option(
    "--symbols",
    default="btc,eth,sol",
    show_default=True,
    help="Comma list: assets (btc), canonical symbols (BTC-USDT) or exchange pairs.",
)
@click.option("--sink", "sink_spec", default=None, help="landing:DIR or kinesis:STREAM.")
@click.option(
    "--url",
    "urls",
    multiple=True,
    help="Override a connector URL: NAME=ws://… (or just the URL with one exchange).",
)
@click.option(
    "--binance-stream",
    type=click.Choice(["trade", "aggTrade"]),
    default="trade",
    show_default=True,
    help="Binance stream kind.",
)
@click.option(
    "--symbol-map",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="JSON/YAML {exchange: {market: symbol}} merged over the default map.",
)
@click.option("--max-events", type=int, default=None, help="Stop after this many events.")
@click.option("--duration", type=float, default=None, help="Stop after this many seconds.")
@click.option(
    "--replay",
    "replay_paths",
    multiple=True,
    type=click.Path(exists=True),
    help="Replay a recording through a local server instead of going live.",
)
@click.option(
    "--speed",
    default="max",
    show_default=True,
    help="Replay speed: N × real time, or max/0 for as fast as possible.",
)
@click.option(
    "--drop-after",
    default="",
    help="Replay: drop the connection after these "
    "cumulative frame counts (comma list), to exercise reconnects.",
)
@click.option(
    "--time-unit",
    type=click.Choice(list(NS_PER_UNIT)),
    default=None,
    help="Replay: the unit of the recording's receive times (default: judged from their "
    "magnitude; a unit they contradict is an error).",
)
@click.option(
    "--backfill/--no-backfill",
    default=True,
    show_default=True,
    help="Fill sequence gaps from the exchange's REST trade history (replay: the recording's).",
)
@click.option(
    "--history-url",
    "history_urls",
    multiple=True,
    help="Override a connector's REST history base URL: NAME=http://… (or just the URL "
    "with one exchange).",
)
@click.option(
    "--gaps-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Where gap records go (default: DIR/_gaps with --sink landing:DIR).",
)
@click.option("--queue-size", type=int, default=10_000, show_default=True)
@click.option("--roll-bytes", type=int, default=64 * 1024 * 1024, show_default=True)
@click.option("--roll-seconds", type=float, default=60.0, show_default=True)
@click.option("--region", default=None, help="Kinesis region (default: boto3's).")
@click.option("--endpoint-url", default=None, help="Kinesis endpoint (e.g. a local moto).")
@click.option(
    "--dead-letter",
    type=click.Path(dir_okay=False),
    default=None,
    help="Kinesis: JSON-lines file for records undeliverable after all retries.",
)
@click.option(
    "--chain",
    type=click.Choice(["ethereum"]),
    default=None,
    help="Ingest on-chain events instead of trades (JSON-RPC websocket at --url, or "
    "--chain-replay); they land in DIR/_chain of --sink landing:DIR.",
)
@click.option(
    "--chain-replay",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="--chain: replay a recorded token_transfers.csv through a local JSON-RPC server.",
)
@click.option(
    "--confirmations",
    type=click.IntRange(0, 1000),
    default=12,
    show_default=True,
    help="--chain: emit a block once the head is this many blocks past it.",
)
@click.option("--from-block", type=int, default=None, help="--chain: first block to emit.")
@click.option(
    "--chain-start",
    default="2021-06-08T00:00:00Z",
    show_default=True,
    help="--chain-replay: time of the first block of a recording without timestamps "
    "(blocks then 12 s apart).",
)
@click.option(
    "--tokens",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="--chain: token table CSV (address,symbol,decimals,stablecoin,market).",
)
@click.option(
    "--pools",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="--chain: DEX pool table CSV (pool,protocol,token0,token1).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log reconnects and retries.")
@click.pass_context
def ingest(ctx: click.Context, **opts: Any) -> None:
    """Stream exchange trades (live or replayed) into a landing directory or Kinesis."""
    if ctx.invoked_subcommand is not None:
        return
    logging.basicConfig(
        level=logging.INFO if opts["verbose"] else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not opts["sink_spec"]:
        raise click.UsageError("--sink is required (landing:DIR or kinesis:STREAM)")
    if opts["chain"]:
        from ctc.ingest.chain.cli import run_chain_ingest

        chain_metrics = run_chain_ingest(opts, asyncio.Event())
        click.echo(f"ingest finished: {chain_metrics.summary()}")
        return
    symbols = SymbolMapper.from_file(opts["symbol_map"]) if opts["symbol_map"] else SymbolMapper()
    config = PipelineConfig(
        queue_size=opts["queue_size"], max_events=opts["max_events"], duration=opts["duration"]
    )
    stop = asyncio.Event()
    recordings = []
    if opts["replay_paths"]:
        try:
            speed = parse_speed(opts["speed"])
            drops = [int(x) for x in _split(opts["drop_after"])]
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from exc
        try:
            recordings = load_replays(
                opts["replay_paths"],
                exchange=_replay_exchange(ctx, opts["exchanges"]),
                time_unit=opts["time_unit"],
            )
        except RecordingError as exc:
            fail(str(exc))
        sink = make_sink(opts["sink_spec"], opts)
        coro: Any = replay_recordings(
            recordings,
            sink,
            speed=speed,
            drop_after=drops,
            config=config,
            symbols=symbols,
            stop=stop,
            backfill=opts["backfill"],
            gap_log=gap_log_for(opts),
        )
    else:
        connectors = _split(opts["exchanges"])
        wanted = _split(opts["symbols"])
        urls = _parse_urls(opts["urls"], connectors)
        history_urls = _parse_urls(opts["history_urls"], connectors, "--history-url")
        try:
            feeds: list[FeedSpec] = [
                build_feed(
                    c, wanted, url=urls.get(c), symbols=symbols, binance_kind=opts["binance_stream"]
                )
                for c in connectors
            ]
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--exchanges") from exc
        if opts["backfill"]:
            for connector, feed in zip(connectors, feeds, strict=True):
                feed.history = HistorySource.for_connector(
                    connector, history_urls.get(connector), symbols
                )
        sink = make_sink(opts["sink_spec"], opts)
        coro = run_pipeline(
            feeds,
            sink,
            config=config,
            settings=ConnectionSettings(),
            stop=stop,
            gap_log=gap_log_for(opts),
        )
    metrics = asyncio.run(_run_with_signals(coro, stop))
    click.echo(f"ingest finished: {metrics.summary()}")
    ctx.obj = metrics
    _report_recordings(recordings, metrics)


def _replay_exchange(ctx: click.Context, exchanges: str) -> str | None:
    """``--exchanges`` given with ``--replay``: the one venue the recordings replay as."""
    if ctx.get_parameter_source("exchanges") is click.core.ParameterSource.DEFAULT:
        return None
    names = _split(exchanges)
    if len(names) != 1 or names[0] not in CONNECTORS:
        raise click.BadParameter(
            f"with --replay, give one of {', '.join(CONNECTORS)}, got {exchanges!r}",
            param_hint="--exchanges",
        )
    return names[0]


def _report_recordings(recordings: list[Any], metrics: IngestMetrics) -> None:
    """After a replay: unknown-shape frames (a warning line each), then a recording that
    could not be read to its end, or a run that landed nothing, as the one error."""
    for rec in recordings:
        summary = rec.unknown_summary()
        if summary:
            click.echo(f"ctc: warning: {summary}", err=True)
    for rec in recordings:
        if rec.error:
            fail(rec.error)
    if recordings and metrics.malformed and not metrics.received:
        fail(f"no trade could be read: {metrics.malformed} malformed trade frames")


@ingest.command("history")
@click.option(
    "--exchange",
    type=click.Choice(["binance", "binance-futures"]),
    default="binance",
    show_default=True,
    help="binance (spot) or binance-futures (USD-M perpetuals).",
)
@click.option("--symbol", required=True, help="Exchange pair, e.g. BTCUSDT.")
@click.option("--from", "start", required=True, help="Start (inclusive): ISO time or epoch ms.")
@click.option("--to", "end", required=True, help="End (exclusive): ISO time or epoch ms.")
@click.option("--out", required=True, type=click.Path(), help="Output file (jsonl) or dir.")
@click.option(
    "--format", "fmt", type=click.Choice(["jsonl", "parquet"]), default="jsonl", show_default=True
)
@click.option(
    "--base-url",
    default=None,
    help="REST base URL (default: https://api.binance.com, or https://fapi.binance.com "
    "for binance-futures).",
)
@click.option("--limit", type=click.IntRange(1, 1000), default=1000, show_default=True)
@click.option("--max-pages", type=int, default=None, help="Stop after N pages (resume later).")
def history(
    symbol: str,
    start: str,
    end: str,
    out: str,
    fmt: str,
    base_url: str | None,
    limit: int,
    max_pages: int | None,
    exchange: str,
) -> None:
    """Load historical Binance aggTrades as unified events (resumable)."""
    try:
        start_ms, end_ms = parse_time_arg(start), parse_time_arg(end)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    if end_ms <= start_ms:
        raise click.BadParameter("--to must be after --from")
    try:
        result = load_binance_history(
            symbol,
            start_ms,
            end_ms,
            Path(out),
            fmt=fmt,
            base_url=base_url or REST_BASE_URLS[exchange],
            limit=limit,
            max_pages=max_pages,
            exchange=exchange,
        )
    except (RuntimeError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    state = "complete" if result.done else "partial (run again to resume)"
    click.echo(
        f"history {state}: rows={result.rows_written} pages={result.pages} "
        f"cursor={result.cursor_path}"
    )


if __name__ == "__main__":
    ingest()
