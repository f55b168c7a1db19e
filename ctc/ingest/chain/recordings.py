"""Recorded ERC-20 transfers (CSV) as a chain of blocks with JSON-RPC logs, for the replay
server (:mod:`ctc.ingest.chain.replay_server`).

Two CSV shapes are read (``../shared/data/real``, see its PROVENANCE.md):

* ethereum-etl ``token_transfers.csv`` (``token_address,from_address,to_address,value,
  transaction_hash,log_index,block_number``; Ethritch): raw integer values, real tx hashes
  and log indexes, **no block timestamps**: block ``n`` is given
  ``start + 12 s × (n − first block)`` (post-merge Ethereum's slot time; the real blocks of
  2021 came about 13 s apart);
* Raphtory ``token_transfers.csv`` (``block_number,transaction_index,from_address,
  to_address,time_stamp,contract_address,value``): real unix timestamps, values already in
  token units (turned back into raw integers with the token table's decimals), **no tx
  hash or log index**: the tx hash is ``sha256("raphtory:<block>:<transaction_index>")``
  and the log index the row's position in its block.

Block hashes are synthetic (``sha256("<source>:<number>:<branch>")``): the files carry none.
Every block number between the first and the last is served, empty when nothing was recorded.
"""

from __future__ import annotations

import csv
import hashlib
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from ctc.ingest.chain.abi import TRANSFER_TOPIC, address_topic, encode_words
from ctc.ingest.chain.tokens import Token

#: Seconds between the synthetic timestamps of blocks recorded without one.
BLOCK_SECONDS = 12

#: Default timestamp of the first Ethritch block (12,600,000 was mined on 2021-06-08).
DEFAULT_START = "2021-06-08T00:00:00Z"


class ChainRecordingError(ValueError):
    """A transfers file that cannot be replayed (one line for the user)."""


@dataclass(frozen=True)
class Block:
    """One block: header fields and its logs (JSON-RPC shape, without ``blockHash``)."""

    number: int
    hash: str
    parent_hash: str
    timestamp: int
    logs: tuple[dict[str, Any], ...] = field(default=())

    def header(self) -> dict[str, Any]:
        """The ``newHeads`` / ``eth_getBlockByNumber`` header."""
        return {
            "number": hex(self.number),
            "hash": self.hash,
            "parentHash": self.parent_hash,
            "timestamp": hex(self.timestamp),
        }

    def rpc_logs(self) -> list[dict[str, Any]]:
        """The logs with this block's number and hash."""
        return [
            {**lg, "blockNumber": hex(self.number), "blockHash": self.hash, "removed": False}
            for lg in self.logs
        ]


def block_hash(source: str, number: int, branch: int = 0) -> str:
    """The synthetic hash of block ``number`` of ``branch`` (0: the recorded one)."""
    return "0x" + hashlib.sha256(f"{source}:{number}:{branch}".encode()).hexdigest()


def transfer_log(
    token: str, sender: str, receiver: str, raw: int, tx: str, index: int
) -> dict[str, Any]:
    """An ERC-20 ``Transfer`` log in JSON-RPC shape."""
    return {
        "address": token.lower(),
        "topics": [TRANSFER_TOPIC, address_topic(sender), address_topic(receiver)],
        "data": encode_words(raw),
        "transactionHash": tx.lower(),
        "logIndex": hex(index),
    }


def build_chain(
    source: str, logs: Mapping[int, list[dict[str, Any]]], timestamps: Mapping[int, int]
) -> list[Block]:
    """Blocks first..last of ``logs`` (number → logs), linked by parent hash."""
    if not logs:
        raise ChainRecordingError(f"{source}: no transfers")
    first, last = min(logs), max(logs)
    blocks: list[Block] = []
    parent = block_hash(source, first - 1)
    for n in range(first, last + 1):
        ts = timestamps.get(n)
        if ts is None:  # an empty block between recorded ones: interpolate
            before = max((k for k in timestamps if k < n), default=first)
            ts = timestamps.get(before, 0) + BLOCK_SECONDS * (n - before)
        blocks.append(Block(n, block_hash(source, n), parent, ts, tuple(logs.get(n, ()))))
        parent = blocks[-1].hash
    return blocks


def _epoch(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def _read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            rows = list(reader)
            return list(reader.fieldnames or ()), rows
    except (OSError, UnicodeDecodeError) as exc:
        raise ChainRecordingError(f"{path}: cannot read: {exc}") from exc


def load_transfers(
    path: Path, tokens: Mapping[str, Token], start: str = DEFAULT_START
) -> list[Block]:
    """The blocks of a recorded transfers CSV (either shape, by its header)."""
    columns, rows = _read(path)
    logs: dict[int, list[dict[str, Any]]] = defaultdict(list)
    timestamps: dict[int, int] = {}
    source = path.name
    try:
        if "transaction_hash" in columns:
            first = min(int(r["block_number"]) for r in rows) if rows else 0
            for r in rows:
                n = int(r["block_number"])
                logs[n].append(
                    transfer_log(
                        r["token_address"],
                        r["from_address"],
                        r["to_address"],
                        int(r["value"]),
                        r["transaction_hash"],
                        int(r["log_index"]),
                    )
                )
            timestamps = {n: _epoch(start) + BLOCK_SECONDS * (n - first) for n in logs}
            source = f"ethritch:{path.name}"
        elif "time_stamp" in columns:
            for r in rows:
                n = int(r["block_number"])
                token = tokens.get(r["contract_address"].lower())
                if token is None:
                    raise ChainRecordingError(
                        f"{path}: token {r['contract_address']} is not in the token table "
                        "(its decimals are needed)"
                    )
                raw = int(Decimal(r["value"]).scaleb(token.decimals))
                tx = (
                    "0x"
                    + hashlib.sha256(f"raphtory:{n}:{r['transaction_index']}".encode()).hexdigest()
                )
                logs[n].append(
                    transfer_log(
                        r["contract_address"],
                        r["from_address"],
                        r["to_address"],
                        raw,
                        tx,
                        len(logs[n]),
                    )
                )
                timestamps[n] = int(r["time_stamp"])
            source = f"raphtory:{path.name}"
        else:
            raise ChainRecordingError(
                f"{path}: not a token_transfers CSV (columns: {', '.join(columns) or 'none'})"
            )
    except (KeyError, ValueError, InvalidOperation) as exc:
        if isinstance(exc, ChainRecordingError):
            raise
        raise ChainRecordingError(f"{path}: bad row: {exc}") from exc
    return build_chain(source, logs, timestamps)


def fork(
    blocks: list[Block],
    source: str,
    numbers: range,
    logs: Mapping[int, list[dict[str, Any]]] | None = None,
    branch: int = 1,
) -> list[Block]:
    """A competing branch for ``numbers`` (consecutive, inside ``blocks``): new hashes,
    the recorded logs unless ``logs`` gives a block's logs on the branch."""
    by_number = {b.number: b for b in blocks}
    parent = by_number[numbers[0]].parent_hash
    out = []
    for n in numbers:
        b = by_number[n]
        new = replace(
            b,
            hash=block_hash(source, n, branch),
            parent_hash=parent,
            logs=tuple((logs or {}).get(n, b.logs)),
        )
        out.append(new)
        parent = new.hash
    return out
