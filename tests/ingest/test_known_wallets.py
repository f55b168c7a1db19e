"""`ctc labels load`: the known-wallet table from the hand-kept list and label sets (hand-made
files here; the real sets are checked by tests/test_oracle_labeled_whales.py)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ctc.cli import main
from ctc.dsl.references import resolve_reference
from ctc.ingest.known_wallets import (
    KNOWN_WALLETS,
    LabelSourceError,
    ensure_labels,
    load_labels,
    write_table,
)

A = "0x" + "a1" * 20
B = "0x" + "b2" * 20
C = "0x" + "c3" * 20


def _detectors(tmp_path: Path) -> Path:
    d = tmp_path / "detectors"
    (d / "reference").mkdir(parents=True)
    (d / "reference" / "labels.csv").write_text(
        f"address,name,family,type\n{A},Hand A,handfam,account\n", encoding="utf-8"
    )
    return d


def _rows(d: Path) -> dict[str, dict[str, str]]:
    with (d / KNOWN_WALLETS).open(encoding="utf-8", newline="") as fh:
        return {r["address"]: r for r in csv.DictReader(fh)}


def test_merge_precedence_and_fallbacks(tmp_path: Path) -> None:
    d = _detectors(tmp_path)
    js = tmp_path / "labels.json"
    js.write_text(
        json.dumps(
            {
                A.upper().replace("0X", "0x"): {"name": "Json A", "labels": ["jsonfam"]},
                B: {"name": "", "labels": ["phish-hack", "other"]},
                "not-an-address": {"name": "x", "labels": []},
            }
        ),
        encoding="utf-8",
    )
    tags = tmp_path / "tags.csv"
    tags.write_text(
        "address,name,family,type,website\n"
        f' {B} ,Tag "B"\\,tagfam,tokens,\n'
        f"{C},,exchange,account,\n"
        f"{C},Exchange C,exchange2,account,\n",
        encoding="utf-8",
    )
    result = load_labels(d, [js, tags])
    rows = _rows(d)
    assert result.addresses == len(rows) == 3
    # the hand-kept list wins every column it has
    assert rows[A] == {"address": A, "name": "Hand A", "family": "handfam", "type": "account"}
    # JSON: no name, family = first label; the CSV's later name fills the gap; the type
    # comes from the CSV (the JSON has none); quotes and backslashes dropped
    assert rows[B] == {"address": B, "name": "Tag B", "family": "phish-hack", "type": "tokens"}
    # first non-empty value in file order, per column
    assert rows[C] == {"address": C, "name": "Exchange C", "family": "exchange", "type": "account"}
    assert [s.skipped for s in result.sources] == [0, 1, 0]
    assert [s.first for s in result.sources] == [1, 1, 1]
    manifest = json.loads((d / KNOWN_WALLETS).with_name("known_wallets.sources.json").read_text())
    assert manifest["addresses"] == 3 and len(manifest["sources"]) == 3
    # the specs may read it: a regular file inside the detectors folder
    assert resolve_reference(d, KNOWN_WALLETS).is_file()


def test_no_name_anywhere_takes_the_family(tmp_path: Path) -> None:
    d = _detectors(tmp_path)
    tags = tmp_path / "tags.csv"
    tags.write_text(f"address,name,family,type\n{B},,0-gas-sender,account\n", encoding="utf-8")
    load_labels(d, [tags])
    assert _rows(d)[B]["name"] == "0-gas-sender"


def test_a_folder_is_its_json_and_csv_files(tmp_path: Path) -> None:
    d = _detectors(tmp_path)
    folder = tmp_path / "sets"
    folder.mkdir()
    (folder / "b.csv").write_text(f"address,name,label,type\n{C},C,fam,account\n")
    (folder / "a.json").write_text(json.dumps({B: {"name": "B", "labels": []}}))
    (folder / "notes.txt").write_text("ignored")
    result = load_labels(d, [folder])
    assert [Path(s.path).name for s in result.sources] == ["labels.csv", "a.json", "b.csv"]
    assert set(_rows(d)) == {A, B, C}


@pytest.mark.parametrize(
    ("name", "text", "where"),
    [
        ("bad.json", '{"0xabc": {"name": "x",\n  "labels": [}', "bad.json:2:14:"),
        ("list.json", "[1, 2]", "list.json:1:1:"),
        ("bad.csv", "addr,name\n0x1,a\n", "bad.csv:1:1: the header lacks address"),
    ],
)
def test_broken_sources_say_where(tmp_path: Path, name: str, text: str, where: str) -> None:
    d = _detectors(tmp_path)
    bad = tmp_path / name
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(LabelSourceError, match=f"^{tmp_path}/{where}"):
        load_labels(d, [bad])
    assert not (d / KNOWN_WALLETS).exists()


def test_ensure_writes_the_hand_kept_list_once(tmp_path: Path) -> None:
    d = _detectors(tmp_path)
    first = ensure_labels(d)
    assert first is not None and first.addresses == 1
    assert ensure_labels(d) is None


def test_cli_load(tmp_path: Path) -> None:
    d = _detectors(tmp_path)
    real = tmp_path / "real"
    (real / "raphtory-data").mkdir(parents=True)
    (real / "raphtory-data" / "etherscan_tags.csv").write_text(
        f"address,name,family,type\n{B},B,fam,account\n"
    )
    runner = CliRunner()
    done = runner.invoke(main, ["labels", "load", "--detectors", str(d), "--real", str(real)])
    assert done.exit_code == 0, done.output
    assert "2 addresses" in done.output and "etherscan_tags.csv: 1 rows" in done.output
    empty = tmp_path / "empty"
    empty.mkdir()
    done = runner.invoke(main, ["labels", "load", "--detectors", str(d), "--real", str(empty)])
    assert done.exit_code == 1 and "no label sets in" in done.output
    done = runner.invoke(main, ["labels", "load", "--detectors", str(d), "--seed-only"])
    assert done.exit_code == 0 and "1 addresses" in done.output


def test_a_missing_table_names_the_command(tmp_path: Path) -> None:
    d = _detectors(tmp_path)
    with pytest.raises(ValueError, match="ctc labels load"):
        resolve_reference(d, KNOWN_WALLETS)


def test_a_failed_write_leaves_the_table_and_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "labels" / "known_wallets.csv"
    write_table([{"address": A, "name": "A", "family": "f", "type": "account"}], target)
    before = target.read_bytes()
    with pytest.raises(ValueError):  # a field the table has no column for
        write_table([{"address": B, "name": "B", "family": "f", "type": "x", "oops": "1"}], target)
    assert target.read_bytes() == before
    assert [p.name for p in target.parent.iterdir()] == ["known_wallets.csv"]
