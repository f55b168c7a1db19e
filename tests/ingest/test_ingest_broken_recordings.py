"""A corpus of broken recordings, generated here: each gives its one-line error (path, what
is wrong, line or byte), a non-zero exit and no traceback; what is intact is landed first."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
import zstandard
from click.testing import CliRunner, Result
from synthetic import binance_lines, write_gz

from ctc.ingest.cli import ingest


def _run(path: Path, landing: Path, *extra: str) -> Result:
    return CliRunner().invoke(
        ingest, ["--replay", str(path), "--sink", f"landing:{landing}", *extra]
    )


def _landed(landing: Path) -> list[str]:
    return [
        json.loads(line)["event_id"]
        for p in sorted(landing.glob("*.jsonl"))
        for line in p.read_text().splitlines()
    ]


def _error_line(result: Result) -> str:
    assert "Traceback" not in result.output, result.output
    lines = [ln for ln in result.output.splitlines() if ln.startswith("ctc: error: ")]
    assert len(lines) == 1, result.output
    return lines[0].removeprefix("ctc: error: ")


def _gz_bytes(lines: list[str]) -> bytes:
    return gzip.compress("".join(lines).encode("utf-8"))


CASES = {
    # name: (file name, content builder, expected message after the path)
    "directory": ("dir.gz", None, ": is a directory, not a recording file"),
    "empty": ("empty.gz", b"", ": empty file (byte 0)"),
    "random bytes as gzip": ("noise.gz", bytes(range(256)) * 4, ": not gzip data (byte 0): "),
    "random bytes as zstd": (
        "noise.jsonl.zst",
        b"\x00\x01garbage" * 50,
        ": not zstd data (byte 0): ",
    ),
    "not UTF-8 text": (
        "noise.0",
        b'1617566592.6: {"a":1}\n\xff\xfe\x00junk\n',
        ": not UTF-8 text (line 2, byte 22)",
    ),
    "JSON with the wrong fields": (
        "wrong.jsonl.zst",
        zstandard.ZstdCompressor().compress(b'{"x":1}\n{"y":2}\n'),
        ": no websocket frames in 2 lines; line 1: not a cryptofeed record with 't' "
        "(and 'ts', 'data')",
    ),
    "frames of an unknown shape only": (
        "shapes.gz",
        _gz_bytes([f'{1723161254000000000 + i} {{"foo":{i}}}\n' for i in range(5)]),
        ': none of its 5 frames has a known binance shape (line 1: {"foo":0}; line 2: '
        '{"foo":1}; line 3: {"foo":2})',
    ),
    "time unit changes": (
        "units.gz",
        _gz_bytes(
            binance_lines("BTCUSDT", range(1, 4))
            + binance_lines("BTCUSDT", range(4, 5), unit_ns=1000)
        ),
        ": receive time 1723161254000000 is not in ns like the first one (line 4)",
    ),
    "mixed spot and futures": (
        "mixed.gz",
        _gz_bytes(
            binance_lines("BTCUSDT", range(1, 3))
            + binance_lines("BTCUSDT", range(3, 5), futures=True)
        ),
        ': mixes spot trade frames (with "M", line 1) and USD-M futures trade frames '
        '(without "M", line 3); split it into one file per market',
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_broken_recording_gives_its_one_line_error(case: str, tmp_path: Path) -> None:
    name, content, message = CASES[case]
    path = tmp_path / name
    if content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
    result = _run(path, tmp_path / "landing")
    assert result.exit_code == 1
    line = _error_line(result)
    assert line.startswith(f"{path}{message}"), line
    assert _landed(tmp_path / "landing") == []


def test_a_truncated_gzip_lands_the_intact_frames_then_fails(tmp_path: Path) -> None:
    lines = binance_lines("BTCUSDT", range(1, 2001))
    data = _gz_bytes(lines)
    path = tmp_path / "cut.gz"
    path.write_bytes(data[: len(data) * 2 // 3])
    # independently: the complete lines a plain decompressor gets out of the cut bytes
    partial = gzip.GzipFile(fileobj=__import__("io").BytesIO(path.read_bytes()))
    text = b""
    with pytest.raises(EOFError):
        while chunk := partial.read1(1024):
            text += chunk
    intact = text.count(b"\n")
    result = _run(path, tmp_path / "landing")
    assert result.exit_code == 1
    assert _error_line(result) == (
        f"{path}: gzip data ends early, truncated after line {intact} "
        f"(byte {len(path.read_bytes())}); the {intact} lines before it were read"
    )
    assert _landed(tmp_path / "landing") == [f"binance:BTCUSDT:{i}" for i in range(1, intact + 1)]


def test_unknown_frames_are_counted_with_a_few_examples(tmp_path: Path) -> None:
    good = binance_lines("BTCUSDT", range(1, 51))
    bad = [f'{1723161255000000000 + i} {{"stream":"x","data":{i}}}\n' for i in range(170)]
    path = write_gz(tmp_path / "some-bad.gz", good[:25] + bad + good[25:])
    result = _run(path, tmp_path / "landing")
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    warnings = [ln for ln in result.output.splitlines() if ln.startswith("ctc: warning: ")]
    assert warnings == [
        f"ctc: warning: {path}: 170 of 220 frames have an unknown shape (line 26: "
        '{"stream":"x","data":0}; line 27: {"stream":"x","data":1}; line 28: '
        '{"stream":"x","data":2})'
    ]
    assert len(_landed(tmp_path / "landing")) == 50


def test_microsecond_times_are_detected_and_play_at_their_pace(tmp_path: Path) -> None:
    from ctc.ingest.recordings import load_recording

    path = write_gz(tmp_path / "old.dat.gz", binance_lines("BTCUSDT", range(1, 11), unit_ns=1000))
    rec = load_recording(path)
    assert rec.time_unit == "us"
    # 1 ms apart in the file whatever the unit: the replay paces them 1 ms apart
    assert [
        b.recv_ns - a.recv_ns for a, b in zip(rec.frames[:-1], rec.frames[1:], strict=True)
    ] == [1_000_000] * 9


def test_a_declared_time_unit_the_magnitudes_contradict_is_an_error(tmp_path: Path) -> None:
    path = write_gz(tmp_path / "old.dat.gz", binance_lines("BTCUSDT", range(1, 11), unit_ns=1000))
    result = _run(path, tmp_path / "landing", "--time-unit", "ns")
    assert result.exit_code == 1
    assert _error_line(result) == (
        f"{path}: receive time 1723161254000000 looks like us, not the declared "
        "--time-unit ns (line 1)"
    )
    ok = _run(path, tmp_path / "landing", "--time-unit", "us")
    assert ok.exit_code == 0, ok.output and len(_landed(tmp_path / "landing")) == 10
