"""``ctc ingest --chain ethereum``: follow a node (``--url ws://…``) or replay recorded
transfers (``--chain-replay CSV``) into ``DIR/_chain`` of ``--sink landing:DIR``.

With ``--sink landing:DIR`` the events land in ``DIR/_chain/chain-*.jsonl`` (beside the
trades; the trade file source skips ``_`` folders, ``ctc run`` reads this one as the
``chain_events`` stream) and the USD prices come from the trades in ``DIR``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Final

import click

from ctc.cli_errors import fail
from ctc.ingest.chain.normalise import LogNormaliser
from ctc.ingest.chain.pipeline import chain_event_json, run_chain_pipeline
from ctc.ingest.chain.recordings import ChainRecordingError, load_transfers
from ctc.ingest.chain.replay_server import ChainReplayServer
from ctc.ingest.chain.tokens import (
    DEFAULT_POOLS,
    DEFAULT_TOKENS,
    PriceBook,
    TableError,
    load_pools,
    load_tokens,
)
from ctc.ingest.metrics import IngestMetrics
from ctc.ingest.replay_server import END_OF_STREAM
from ctc.ingest.sink_landing import LandingSink
from ctc.ingest.sinks import Sink, parse_sink_spec

#: The folder of on-chain events inside a landing folder.
CHAIN_FOLDER: Final = "_chain"


def chain_sink(spec_text: str, opts: dict[str, Any]) -> tuple[Sink, Path | None]:
    """The on-chain sink of ``--sink landing:DIR`` (``DIR/_chain``) and the trade folder
    whose prices value the tokens."""
    try:
        spec = parse_sink_spec(spec_text)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--sink") from exc
    if spec.kind != "landing":
        raise click.BadParameter(
            "--chain lands in a folder: use --sink landing:DIR", param_hint="--sink"
        )
    sink = LandingSink(
        spec.path / CHAIN_FOLDER,
        max_bytes=opts["roll_bytes"],
        max_seconds=opts["roll_seconds"],
        prefix="chain",
        to_json=chain_event_json,
    )
    return sink, spec.path


def run_chain_ingest(opts: dict[str, Any], stop: asyncio.Event) -> IngestMetrics:
    """The ``--chain`` mode of ``ctc ingest``: live (``--url``) or replayed (``--chain-replay``)."""
    if opts["chain"] != "ethereum":
        fail(f"--chain {opts['chain']}: only ethereum is built (Solana: see docs/ingest.md)")
    try:
        tokens = load_tokens(Path(opts["tokens"]) if opts["tokens"] else DEFAULT_TOKENS)
        pools = load_pools(Path(opts["pools"]) if opts["pools"] else DEFAULT_POOLS)
    except TableError as exc:
        fail(str(exc))
    confirmations: int = opts["confirmations"]
    replays = [Path(p) for p in opts["chain_replay"]]
    if not replays and not opts["urls"]:
        raise click.UsageError("--chain needs --url ws://NODE or --chain-replay CSV")
    try:
        recordings = [load_transfers(p, tokens, opts["chain_start"]) for p in replays]
    except ChainRecordingError as exc:
        fail(str(exc))
    total = IngestMetrics()

    async def one(url: str | None, blocks: Any) -> None:
        sink, trades = chain_sink(opts["sink_spec"], opts)
        normaliser = LogNormaliser(tokens, pools, PriceBook(trades))
        if blocks is None:
            assert url is not None
            metrics, counters = await run_chain_pipeline(
                url,
                sink,
                normaliser,
                confirmations=confirmations,
                start_block=opts["from_block"],
                stop=stop,
            )
        else:
            drops = [int(x) for x in str(opts["drop_after"] or "").split(",") if x.strip()]
            speed = 0.0 if opts["speed"] in ("max", "0") else float(opts["speed"])
            server = ChainReplayServer(
                blocks, speed=speed, tail=confirmations, drop_after=drops, lockstep=confirmations
            )
            async with server:
                metrics, counters = await run_chain_pipeline(
                    server.url,
                    sink,
                    normaliser,
                    confirmations=confirmations,
                    start_block=blocks[0].number,
                    stop=stop,
                    end_of_stream_reason=END_OF_STREAM,
                )
        for name, value in metrics.as_dict().items():
            setattr(total, name, getattr(total, name) + value)
        click.echo(
            f"chain: blocks={counters.blocks} heads={counters.heads} reorgs={counters.reorgs} "
            f"deep_reorgs={counters.deep_reorgs}"
        )

    async def all_runs() -> IngestMetrics:
        if recordings:
            for blocks in recordings:
                await one(None, blocks)
        else:
            await one(opts["urls"][0], None)
        return total

    from ctc.ingest.cli import _run_with_signals

    return asyncio.run(_run_with_signals(all_runs(), stop))
