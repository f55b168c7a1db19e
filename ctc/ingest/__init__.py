"""Exchange ingest: websocket connectors, normalisers, sinks, offline replay, history loader.

Every connector emits the unified trade event of :data:`ctc.events.TRADE_EVENT_FIELDS`.
See docs/ingest.md.
"""

from ctc.ingest.connection import ConnectionSettings, run_feed
from ctc.ingest.feeds import (
    FeedSpec,
    binance_feed,
    build_feed,
    coinbase_advanced_feed,
    coinbase_matches_feed,
)
from ctc.ingest.metrics import IngestMetrics
from ctc.ingest.normalise_binance import BinanceNormaliser
from ctc.ingest.normalise_coinbase import (
    CoinbaseAdvancedTradesNormaliser,
    CoinbaseMatchesNormaliser,
)
from ctc.ingest.pipeline import PipelineConfig, run_pipeline
from ctc.ingest.sink_kinesis import KinesisSink
from ctc.ingest.sink_landing import LandingSink
from ctc.ingest.sinks import MemorySink, Sink, WriteOutcome
from ctc.ingest.symbols import SymbolMapper

__all__ = [
    "BinanceNormaliser",
    "CoinbaseAdvancedTradesNormaliser",
    "CoinbaseMatchesNormaliser",
    "ConnectionSettings",
    "FeedSpec",
    "IngestMetrics",
    "KinesisSink",
    "LandingSink",
    "MemorySink",
    "PipelineConfig",
    "Sink",
    "SymbolMapper",
    "WriteOutcome",
    "binance_feed",
    "build_feed",
    "coinbase_advanced_feed",
    "coinbase_matches_feed",
    "run_feed",
    "run_pipeline",
]
