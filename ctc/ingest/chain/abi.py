"""The few Ethereum log layouts the on-chain ingest reads, decoded from hex.

Topic 0 of a log is the keccak-256 of the event signature:

* ERC-20 ``Transfer(address indexed from, address indexed to, uint256 value)``;
* Uniswap V2 pair ``Swap(address indexed sender, uint amount0In, uint amount1In,
  uint amount0Out, uint amount1Out, address indexed to)`` and
  ``Sync(uint112 reserve0, uint112 reserve1)`` (emitted just before each swap, with the
  reserves after it);
* Uniswap V3 pool ``Swap(address indexed sender, address indexed recipient, int256 amount0,
  int256 amount1, uint160 sqrtPriceX96, uint128 liquidity, int24 tick)``.
"""

from __future__ import annotations

from typing import Any, Final

TRANSFER_TOPIC: Final = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
UNISWAP_V2_SWAP_TOPIC: Final = "0xd78ad95fa46c994b6551d0da85fc275fe613ce37657fb8d5e3d130840159d822"
UNISWAP_V2_SYNC_TOPIC: Final = "0x1c411e9a96e071241c2f21f7726b17ae89e3cab4c78be50e062b03a9fffbbad1"
UNISWAP_V3_SWAP_TOPIC: Final = "0xc42079f94a6350d7e6235f29174924f928cc2ac818eb64fed8004e115fbcca67"

#: Every topic 0 the client asks ``eth_getLogs`` for.
LOG_TOPICS: Final = (
    TRANSFER_TOPIC,
    UNISWAP_V2_SWAP_TOPIC,
    UNISWAP_V2_SYNC_TOPIC,
    UNISWAP_V3_SWAP_TOPIC,
)


def words(data: str) -> list[int]:
    """The 32-byte words of a log's ``data`` hex string, as unsigned integers."""
    body = data[2:] if data.startswith("0x") else data
    if len(body) % 64:
        raise ValueError(f"log data is not whole 32-byte words ({len(body) // 2} bytes)")
    return [int(body[i : i + 64], 16) for i in range(0, len(body), 64)]


def signed(word: int, bits: int = 256) -> int:
    """A two's-complement ``int<bits>`` from its unsigned word."""
    word &= (1 << bits) - 1
    return word - (1 << bits) if word >> (bits - 1) else word


def topic_address(topic: str) -> str:
    """The address in an indexed ``address`` topic (its last 20 bytes), lower case."""
    body = topic[2:] if topic.startswith("0x") else topic
    if len(body) != 64:
        raise ValueError(f"topic is not 32 bytes: {topic!r}")
    return "0x" + body[-40:].lower()


def address_topic(address: str) -> str:
    """An address as an indexed topic (left-padded to 32 bytes)."""
    return "0x" + address.lower().removeprefix("0x").rjust(64, "0")


def encode_words(*values: int) -> str:
    """``data`` hex of 32-byte words (negative values as two's complement)."""
    return "0x" + "".join(format(v % (1 << 256), "064x") for v in values)


def hex_int(value: Any) -> int:
    """A JSON-RPC quantity (``"0x1a"``) or an int as an int."""
    return value if isinstance(value, int) else int(str(value), 16)
