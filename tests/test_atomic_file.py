"""ctc.atomic_file: a reader sees the old file or the whole new one, and a failed write
leaves neither a half-written file nor its temporary file."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctc.atomic_file import write_text_atomic


@pytest.mark.parametrize("durable", [False, True])
def test_the_new_text_replaces_the_old(tmp_path: Path, durable: bool) -> None:
    target = tmp_path / "made" / "status.json"  # the folder is made
    write_text_atomic(target, "old\n", durable=durable)
    write_text_atomic(target, "new\r\nlines\n", durable=durable)
    assert target.read_bytes() == b"new\r\nlines\n"  # newlines as given
    assert [p.name for p in target.parent.iterdir()] == ["status.json"]


def test_a_write_that_fails_midway_keeps_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "known_wallets.csv"
    write_text_atomic(target, "address,name\n")
    with pytest.raises(UnicodeEncodeError):  # a lone surrogate fails as it is encoded
        write_text_atomic(target, "address,name\n" + "x" * 100_000 + "\ud800\n")
    assert target.read_text(encoding="utf-8") == "address,name\n"
    assert [p.name for p in tmp_path.iterdir()] == ["known_wallets.csv"]
