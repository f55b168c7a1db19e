"""A spec's version (ctc.dsl.canonical): what alert provenance records. The same detector
written differently has one version; any edit to what it computes or says gives another."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import yaml

from ctc.compiler import compile_paths
from ctc.dsl.canonical import spec_version
from ctc.dsl.load import load_spec

DETECTORS = Path(__file__).resolve().parents[1] / "detectors"


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_comments_formatting_key_order_and_file_do_not_change_it(tmp_path: Path) -> None:
    original = DETECTORS / "whale.yaml"
    doc = yaml.safe_load(original.read_text(encoding="utf-8"))
    # no comments, keys sorted, flow style: the same mapping written another way
    other = _write(
        tmp_path, "renamed.yaml", yaml.safe_dump(doc, sort_keys=True, default_flow_style=True)
    )
    params_reordered = dict(reversed(list(doc["params"].items())))
    reordered = _write(
        tmp_path, "reordered.yaml", yaml.safe_dump({**doc, "params": params_reordered})
    )
    want = spec_version(load_spec(original))
    assert re.fullmatch(r"[0-9a-f]{16}", want)
    assert spec_version(load_spec(other)) == want
    assert spec_version(load_spec(reordered)) == want


def test_a_duration_in_another_unit_is_the_same_version(tmp_path: Path) -> None:
    text = (DETECTORS / "volume-anomaly.yaml").read_text(encoding="utf-8")
    assert "size: 60 seconds" in text
    minute = _write(tmp_path, "v.yaml", text.replace("size: 60 seconds", "size: 1 minute"))
    assert spec_version(load_spec(minute)) == spec_version(
        load_spec(DETECTORS / "volume-anomaly.yaml")
    )


def test_every_edit_of_what_it_computes_or_says_is_a_new_version(tmp_path: Path) -> None:
    text = (DETECTORS / "whale.yaml").read_text(encoding="utf-8")
    base = spec_version(load_spec(DETECTORS / "whale.yaml"))
    edits = {
        "param": ("whale_usd: 100000", "whale_usd: 250000"),
        "title": ("title: Whale trades", "title: Big trades"),
        "band": ("- level: high", "- level: low"),
        "message": ("Whale {{ side }}", "Big {{ side }}"),
    }
    versions = set()
    for name, (old, new) in edits.items():
        assert text.count(old) == 1, name
        versions.add(
            spec_version(load_spec(_write(tmp_path, f"{name}.yaml", text.replace(old, new))))
        )
    assert len(versions) == len(edits) and base not in versions


def test_a_spec_changed_in_memory_has_the_version_of_the_file_it_would_be(tmp_path: Path) -> None:
    """A review's variant (one param replaced) is stamped as what it computes."""
    spec = load_spec(DETECTORS / "whale.yaml")
    params = tuple((k, 250000 if k == "whale_usd" else v) for k, v in spec.params)
    text = (DETECTORS / "whale.yaml").read_text(encoding="utf-8")
    edited = _write(tmp_path, "w.yaml", text.replace("whale_usd: 100000", "whale_usd: 250000"))
    assert spec_version(replace(spec, params=params)) == spec_version(load_spec(edited))


def test_every_compiled_plan_carries_its_specs_version() -> None:
    for plan in compile_paths([DETECTORS]):
        assert plan.spec_version == spec_version(load_spec(plan.spec_path)), plan.module
