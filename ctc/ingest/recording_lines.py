"""The lines of a recording file (plain, gzip or zstd), each with its line number, and the
one error type of a recording that cannot be read: ``path: what is wrong (line N / byte N)``.

Decompression is incremental, so every complete line before a truncation or a corrupt block
is yielded first; the problem is then raised as :class:`RecordingError` with the line it
came after and the byte of the compressed file where reading stopped.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Final

_CHUNK: Final = 1 << 20


class RecordingError(ValueError):
    """A recording that cannot be read (or read to its end); the message is one line,
    ``path: what is wrong (line N / byte N)``."""


def _gzip_decoder() -> Any:
    return zlib.decompressobj(wbits=31)


def _zstd_decoder() -> Any:
    import zstandard

    return zstandard.ZstdDecompressor().decompressobj()


def _compressed_chunks(
    path: Path, kind: str, new_decoder: Callable[[], Any], errors: tuple[type[Exception], ...]
) -> Iterator[tuple[bytes, int]]:
    """Decompressed chunks with the compressed bytes read so far; handles concatenated
    members/frames; raises RecordingError on corrupt or truncated data."""
    decoder = new_decoder()
    consumed = 0
    started = False
    member_open = False  # a member/frame began and has not ended yet
    with open(path, "rb") as fh:
        while raw := fh.read(_CHUNK):
            while raw:
                try:
                    out = decoder.decompress(raw)
                except errors as exc:
                    where = "byte 0" if not started else f"byte {consumed}"
                    what = f"not {kind} data" if not started else f"corrupt {kind} data"
                    raise RecordingError(f"{path}: {what} ({where}): {exc}") from exc
                started = member_open = True
                unused = decoder.unused_data if decoder.eof else b""
                consumed += len(raw) - len(unused)
                if out:
                    yield out, consumed
                if not decoder.eof:
                    break
                member_open = False
                decoder = new_decoder()
                raw = unused
    if member_open:
        # the last member/frame never ended: a sentinel the line reader reports
        yield b"", -consumed


def _chunks(path: Path) -> Iterator[tuple[bytes, int]]:
    name = path.name
    if name.endswith(".gz"):
        yield from _compressed_chunks(path, "gzip", _gzip_decoder, (zlib.error,))
    elif name.endswith(".zst"):
        import zstandard

        yield from _compressed_chunks(path, "zstd", _zstd_decoder, (zstandard.ZstdError,))
    else:
        with open(path, "rb") as fh:
            read = 0
            while chunk := fh.read(_CHUNK):
                read += len(chunk)
                yield chunk, read


def iter_lines(path: str | Path) -> Iterator[tuple[int, str]]:
    """``(line number, text without the newline)`` for each line of the file at ``path``.

    Raises :class:`RecordingError` for a directory, an empty file, undecodable compressed
    data, text that is not UTF-8, or compressed data that ends early (after yielding every
    complete line before that point).
    """
    source = Path(path)
    if source.is_dir():
        raise RecordingError(f"{source}: is a directory, not a recording file")
    if source.stat().st_size == 0:
        raise RecordingError(f"{source}: empty file (byte 0)")
    pending = b""
    line_no = 0
    offset = 0  # uncompressed bytes of the lines already yielded
    kind = "zstd" if source.name.endswith(".zst") else "gzip"
    for chunk, consumed in _chunks(source):
        if consumed < 0:
            raise RecordingError(
                f"{source}: {kind} data ends early, truncated after line {line_no} "
                f"(byte {-consumed}); the {line_no} lines before it were read"
            )
        pending += chunk
        *complete, pending = pending.split(b"\n")
        for raw in complete:
            line_no += 1
            yield line_no, _decode(source, raw, line_no, offset)
            offset += len(raw) + 1
    if pending:
        line_no += 1
        yield line_no, _decode(source, pending, line_no, offset)


def _decode(path: Path, raw: bytes, line_no: int, offset: int) -> str:
    try:
        return raw.decode("utf-8").rstrip("\r")
    except UnicodeDecodeError as exc:
        raise RecordingError(
            f"{path}: not UTF-8 text (line {line_no}, byte {offset + exc.start})"
        ) from None
