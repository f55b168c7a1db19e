"""Land a recorded ``token_transfers.csv`` as on-chain events, as ``ctc ingest --chain
ethereum --chain-replay CSV --sink landing:DIR`` does: the local JSON-RPC replay server,
the follower and normaliser, the landing sink (``DIR/_chain``-style JSON lines)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from ctc.ingest.chain.normalise import LogNormaliser
from ctc.ingest.chain.pipeline import chain_event_json, run_chain_pipeline
from ctc.ingest.chain.recordings import load_transfers
from ctc.ingest.chain.replay_server import ChainReplayServer
from ctc.ingest.chain.tokens import PriceBook, load_pools, load_tokens
from ctc.ingest.replay_server import END_OF_STREAM
from ctc.ingest.sink_landing import LandingSink

#: USD prices of the tokens with a market: PROVENANCE.md's estimates for 2021-06
PRICES = {"ETH-USDT": 2500.0, "BTC-USDT": 33000.0}


def land_recording(
    csv_path: Path, folder: Path, prefix: str = "chain", prices: dict[str, float] | None = None
) -> None:
    """Replay ``csv_path`` through the chain replay server into JSON-lines files
    ``<prefix>-*.jsonl`` in ``folder`` (tokens valued at ``prices``, default :data:`PRICES`)."""

    async def go() -> None:
        tokens = load_tokens()
        blocks = load_transfers(csv_path, tokens)
        async with ChainReplayServer(blocks, lockstep=12) as srv:
            sink = LandingSink(folder, prefix=prefix, to_json=chain_event_json)
            normaliser = LogNormaliser(tokens, load_pools(), PriceBook(prices=prices or PRICES))
            await run_chain_pipeline(
                srv.url,
                sink,
                normaliser,
                start_block=blocks[0].number,
                end_of_stream_reason=END_OF_STREAM,
            )

    asyncio.run(go())


def one_trade(path: Path, when: str = "2021-06-08T00:00:00Z") -> Path:
    """A trades file of one ETH-USDT trade (a back-test needs a trade input)."""
    path.write_text(
        '{"event_id":"x:1","exchange":"binance","symbol":"ETH-USDT","market":"ETHUSDT",'
        '"instrument":"spot","price":2500.0,"quantity":1.0,"quote_volume":2500.0,"side":"buy",'
        f'"timestamp":"{when}","ingestion_timestamp":"{when}"}}\n'
    )
    return path
