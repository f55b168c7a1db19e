"""Canonical symbols: map each exchange's own pair (``BTCUSDT``, ``BTC-USD``) to ``BTC-USDT``.

Detectors group by the canonical ``symbol``; the event keeps the exchange pair in ``market``.
The default map treats USD and USDT as the same asset for BTC, ETH and SOL (as the seeds do).
Unknown markets get a generic ``BASE-QUOTE`` form.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Final

#: Quote assets recognised at the end of a Binance-style concatenated pair, tried in order
#: (so ``USDT`` wins over ``USD``). ``TUSD`` is deliberately absent: ``HNTUSD`` is HNT-USD.
BINANCE_QUOTES: Final = ("USDT", "USDC", "BUSD", "USD", "BTC", "ETH", "BNB", "EUR")

#: Exchanges whose pairs are concatenated (``BTCUSDT``) rather than dashed (``BTC-USD``).
BINANCE_FAMILY: Final = frozenset({"binance", "binance-futures", "binanceus"})

DEFAULT_SYMBOL_MAP: Final[Mapping[str, Mapping[str, str]]] = {
    "binance": {"BTCUSDT": "BTC-USDT", "ETHUSDT": "ETH-USDT", "SOLUSDT": "SOL-USDT"},
    "binance-futures": {"BTCUSDT": "BTC-USDT", "ETHUSDT": "ETH-USDT", "SOLUSDT": "SOL-USDT"},
    "binanceus": {"BTCUSD": "BTC-USDT", "ETHUSD": "ETH-USDT", "SOLUSD": "SOL-USDT"},
    "coinbase": {"BTC-USD": "BTC-USDT", "ETH-USD": "ETH-USDT", "SOL-USD": "SOL-USDT"},
}

#: Quote used when a bare asset (``btc``) is given on the command line.
DEFAULT_QUOTE: Final[Mapping[str, str]] = {
    "binance": "USDT",
    "binance-futures": "USDT",
    "binanceus": "USD",
    "coinbase": "USD",
}


def generic_canonical(exchange: str, market: str) -> str:
    """The ``BASE-QUOTE`` form of a market not in the map (``DOTUSDT`` → ``DOT-USDT``)."""
    upper = market.upper()
    for sep in ("-", "/", "_"):
        if sep in upper:
            base, _, quote = upper.partition(sep)
            return f"{base}-{quote}"
    if exchange in BINANCE_FAMILY:
        for quote in BINANCE_QUOTES:
            if upper.endswith(quote) and len(upper) > len(quote):
                return f"{upper[: -len(quote)]}-{quote}"
    return upper


class SymbolMapper:
    """Maps (exchange, market) to the canonical symbol, with configurable overrides."""

    def __init__(self, overrides: Mapping[str, Mapping[str, str]] | None = None) -> None:
        self._map: dict[str, dict[str, str]] = {
            exchange: {m.upper(): s for m, s in markets.items()}
            for exchange, markets in DEFAULT_SYMBOL_MAP.items()
        }
        for exchange, markets in (overrides or {}).items():
            self._map.setdefault(exchange, {}).update({m.upper(): s for m, s in markets.items()})
        self._cache: dict[tuple[str, str], str] = {}

    @classmethod
    def from_file(cls, path: str | Path) -> SymbolMapper:
        """Load overrides from a JSON or YAML file shaped ``{exchange: {market: symbol}}``."""
        text = Path(path).read_text(encoding="utf-8")
        if str(path).endswith((".yaml", ".yml")):
            import yaml

            data = yaml.safe_load(text)
        else:
            data = json.loads(text)
        return cls(data)

    def canonical(self, exchange: str, market: str) -> str:
        """The canonical symbol for an exchange market."""
        key = (exchange, market)
        cached = self._cache.get(key)
        if cached is None:
            cached = self._map.get(exchange, {}).get(market.upper())
            if cached is None:
                cached = generic_canonical(exchange, market)
            self._cache[key] = cached
        return cached

    def market_for(self, exchange: str, wanted: str) -> str:
        """The exchange market for a CLI symbol: a bare asset (``btc``), a canonical symbol
        (``BTC-USDT``) or the exchange's own pair (``BTCUSDT``)."""
        token = wanted.strip().upper()
        markets = self._map.get(exchange, {})
        if token in markets:
            return token
        for market, symbol in markets.items():
            if symbol == token:
                return market
        if "-" not in token and not _has_quote(exchange, token):
            quote = DEFAULT_QUOTE.get(exchange, "USDT")
            token = f"{token}-{quote}"
            for market, symbol in markets.items():
                if symbol == token or market == token:
                    return market
        if exchange in BINANCE_FAMILY:
            return token.replace("-", "")
        return token


def _has_quote(exchange: str, token: str) -> bool:
    if exchange not in BINANCE_FAMILY:
        return False
    return any(token.endswith(q) and len(token) > len(q) + 1 for q in BINANCE_QUOTES)
