"""Reference tables of the on-chain ingest: tokens (symbol, decimals, stablecoin, market)
and DEX pools (protocol, token0, token1); and the USD prices taken from recent trades.

The default tables are ``tokens.csv`` and ``pools.csv`` beside this module (``--tokens`` /
``--pools`` replace them). A token's USD value is 1 for a stablecoin, else the last
trade price of its ``market`` symbol (e.g. WETH → ``ETH-USDT``) in the trade stream's
landing folder, else unknown (NULL).
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

log = logging.getLogger(__name__)

_HERE = Path(__file__).resolve().parent
DEFAULT_TOKENS = _HERE / "tokens.csv"
DEFAULT_POOLS = _HERE / "pools.csv"


@dataclass(frozen=True)
class Token:
    """One ERC-20 token of the reference table."""

    address: str
    symbol: str
    decimals: int
    stablecoin: bool = False
    market: str | None = None

    def amount(self, raw: int) -> float:
        """The raw integer amount in token units."""
        return float(Decimal(raw).scaleb(-self.decimals))


@dataclass(frozen=True)
class Pool:
    """One DEX pool: ``protocol`` (``uniswap_v2`` / ``uniswap_v3``) and its two tokens."""

    address: str
    protocol: str
    token0: str
    token1: str


class TableError(ValueError):
    """A reference table that cannot be read (one line for the user)."""


def _rows(path: Path, needed: Iterable[str]) -> list[dict[str, str]]:
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
    except OSError as exc:
        raise TableError(f"{path}: cannot read ({exc.strerror})") from exc
    missing = [c for c in needed if rows and c not in rows[0]]
    if missing:
        raise TableError(f"{path}: missing columns {', '.join(missing)}")
    return rows


def load_tokens(path: Path = DEFAULT_TOKENS) -> dict[str, Token]:
    """Tokens by lower-case address from a CSV ``address,symbol,decimals,stablecoin,market``."""
    tokens: dict[str, Token] = {}
    for i, row in enumerate(_rows(path, ("address", "symbol", "decimals")), start=2):
        try:
            decimals = int(row["decimals"])
        except ValueError as exc:
            raise TableError(f"{path}: line {i}: decimals {row['decimals']!r}") from exc
        address = row["address"].strip().lower()
        tokens[address] = Token(
            address,
            row["symbol"].strip(),
            decimals,
            (row.get("stablecoin") or "").strip().lower() in ("true", "1", "yes"),
            (row.get("market") or "").strip() or None,
        )
    return tokens


def load_pools(path: Path = DEFAULT_POOLS) -> dict[str, Pool]:
    """Pools by lower-case address from a CSV ``pool,protocol,token0,token1``."""
    return {
        row["pool"].strip().lower(): Pool(
            row["pool"].strip().lower(),
            row["protocol"].strip(),
            row["token0"].strip().lower(),
            row["token1"].strip().lower(),
        )
        for row in _rows(path, ("pool", "protocol", "token0", "token1"))
    }


class PriceBook:
    """The last trade price per symbol, read from the trade landing folder's JSON lines.

    ``refresh()`` reads the files that appeared since the last call (each once), so a
    long-running ingest follows the trade stream. Prices are kept by event time: a later
    trade replaces an earlier one whatever the file order.
    """

    def __init__(self, landing: Path | None = None, prices: Mapping[str, float] | None = None):
        self.landing = landing
        self._last: dict[str, tuple[str, float]] = {
            s: ("", float(p)) for s, p in (prices or {}).items()
        }
        self._read: set[str] = set()

    def refresh(self) -> None:
        """Read new trade files of the landing folder (top level only)."""
        if self.landing is None or not self.landing.is_dir():
            return
        for path in sorted(self.landing.glob("*.jsonl")):
            if path.name in self._read:
                continue
            self._read.add(path.name)
            try:
                lines = path.read_text("utf-8").splitlines()
            except OSError as exc:
                log.warning("prices: %s unreadable: %s", path, exc)
                continue
            for line in lines:
                try:
                    trade = json.loads(line)
                    symbol, price, ts = trade["symbol"], float(trade["price"]), trade["timestamp"]
                except (ValueError, KeyError, TypeError):
                    continue
                if price > 0 and (symbol not in self._last or ts >= self._last[symbol][0]):
                    self._last[symbol] = (str(ts), price)

    def price(self, symbol: str) -> float | None:
        """The last price of ``symbol``, or None."""
        got = self._last.get(symbol)
        return got[1] if got else None

    def usd(self, token: Token | None, amount: float | None) -> float | None:
        """``amount`` of ``token`` in USD: ×1 for a stablecoin, × the market's last price,
        else None."""
        if token is None or amount is None:
            return None
        if token.stablecoin:
            return amount
        price = self.price(token.market) if token.market else None
        return amount * price if price is not None else None
