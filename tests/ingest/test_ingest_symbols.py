"""Canonical symbol mapping."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ctc.ingest.symbols import SymbolMapper


@pytest.mark.parametrize(
    ("exchange", "market", "symbol"),
    [
        ("binance", "BTCUSDT", "BTC-USDT"),
        ("binance", "ETHUSDT", "ETH-USDT"),
        ("binance", "SOLUSDT", "SOL-USDT"),
        ("coinbase", "BTC-USD", "BTC-USDT"),
        ("coinbase", "ETH-USD", "ETH-USDT"),
        ("coinbase", "SOL-USD", "SOL-USDT"),
        ("binance", "DOTUSDT", "DOT-USDT"),
        ("binance", "ETHBTC", "ETH-BTC"),
        ("binance", "BNBEUR", "BNB-EUR"),
        ("binance", "ADAUSDC", "ADA-USDC"),
        ("binanceus", "HNTUSD", "HNT-USD"),
        ("binanceus", "BTCUSD", "BTC-USDT"),
        ("coinbase", "SKL-GBP", "SKL-GBP"),
        ("binance", "WEIRD", "WEIRD"),
    ],
)
def test_canonical(exchange: str, market: str, symbol: str) -> None:
    assert SymbolMapper().canonical(exchange, market) == symbol


@pytest.mark.parametrize(
    ("exchange", "wanted", "market"),
    [
        ("binance", "btc", "BTCUSDT"),
        ("binance", "BTC-USDT", "BTCUSDT"),
        ("binance", "dot", "DOTUSDT"),
        ("binance", "ETHBTC", "ETHBTC"),
        ("coinbase", "sol", "SOL-USD"),
        ("coinbase", "ETH-USDT", "ETH-USD"),
        ("coinbase", "SKL-GBP", "SKL-GBP"),
    ],
)
def test_market_for_cli_symbol(exchange: str, wanted: str, market: str) -> None:
    assert SymbolMapper().market_for(exchange, wanted) == market


def test_overrides_from_file(tmp_path: Path) -> None:
    path = tmp_path / "map.json"
    path.write_text(
        json.dumps({"coinbase": {"BTC-USD": "BTC-USD"}, "kraken": {"XBT/USD": "BTC-USDT"}})
    )
    mapper = SymbolMapper.from_file(path)
    assert mapper.canonical("coinbase", "BTC-USD") == "BTC-USD"
    assert mapper.canonical("kraken", "XBT/USD") == "BTC-USDT"
    assert mapper.canonical("coinbase", "ETH-USD") == "ETH-USDT"
