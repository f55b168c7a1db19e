"""Replay throughput per connector: local replay server at max speed → connector → landing sink.

    .venv/bin/python bench/ingest.py [--data ../shared/data/real] [--repeat 3]

Prints events per second per connector (and frames per second). No asserts.
Each timed run covers serving, connecting, subscribing, receiving, normalising, queueing and
writing JSON lines; loading (decompressing, indexing) the recording is done once, untimed.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from ctc.ingest.metrics import IngestMetrics
from ctc.ingest.pipeline import run_pipeline
from ctc.ingest.recordings import Recording, load_recording
from ctc.ingest.replay import feed_for_recording, replay_settings
from ctc.ingest.replay_server import ReplayServer
from ctc.ingest.sink_landing import LandingSink

CASES = [
    ("binance trade", "hftbacktest/spot/btcusdt_20240808.gz"),
    ("binance aggTrade", "cryptofeed/BINANCE-ee25be.0"),
    ("coinbase matches", "cryptofeed/COINBASE.ws.28.0"),
    ("coinbase advanced trade", "cryptofeed/COINBASE.jsonl.zst"),
]


async def _one(recording: Recording, out: Path) -> tuple[IngestMetrics, float]:
    sink = LandingSink(out)
    started = time.perf_counter()
    async with ReplayServer(recording, speed=0.0) as server:
        feed = feed_for_recording(recording, server.url)
        metrics = await run_pipeline([feed], sink, settings=replay_settings())
    return metrics, time.perf_counter() - started


def main() -> None:
    """Run every case ``--repeat`` times and print the throughput table."""
    default_data = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=default_data)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(
        f"{'connector':<26}{'events':>9}{'frames':>9}{'seconds':>9}{'events/s':>11}{'frames/s':>11}"
    )
    for label, relative in CASES:
        path = args.data / relative
        if not path.is_file():
            print(f"{label:<26} skipped: {path} not found")
            continue
        recording = load_recording(path)
        events = frames = 0
        seconds = 0.0
        for _ in range(args.repeat):
            with tempfile.TemporaryDirectory() as tmp:
                metrics, elapsed = asyncio.run(_one(recording, Path(tmp)))
            events += metrics.written
            frames += metrics.messages
            seconds += elapsed
        print(
            f"{label:<26}{events:>9}{frames:>9}{seconds:>9.2f}{events / seconds:>11,.0f}"
            f"{frames / seconds:>11,.0f}"
        )


if __name__ == "__main__":
    main()
