"""`ctc diff` as a user and a CI job run it: git refs, exit statuses, errors, the Markdown
the pull-request workflow posts, and the impact of a whale threshold change checked against
an independent count of the input's trades."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from spec_texts import WHALE_WHEN

from ctc.cli import main
from ctc.review.cli import split_arguments

ROOT = Path(__file__).resolve().parents[2]
DETECTORS = ROOT / "detectors"
WORKFLOW = ROOT / ".github" / "workflows" / "detector-review.yml"


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


def _repo(tmp_path: Path, specs: list[str] | None = None) -> Path:
    """A git repository with a commit of the shipped detectors (or only ``specs``)."""
    repo = tmp_path / "repo"
    (repo / "detectors").mkdir(parents=True)
    for f in DETECTORS.iterdir():
        if f.is_file() and (specs is None or f.name in specs or f.name == "quality.yaml"):
            shutil.copy(f, repo / "detectors" / f.name)
        elif f.is_dir() and specs is None:
            shutil.copytree(f, repo / "detectors" / f.name)
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "detectors")
    return repo


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1
    path.write_text(text.replace(old, new), encoding="utf-8")


def _run(args: list[str]) -> Any:
    return CliRunner().invoke(main, args, catch_exceptions=False)


def test_arguments_split_into_base_head_and_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _repo(tmp_path, ["whale.yaml"])
    monkeypatch.chdir(repo)
    assert split_arguments(["main"]) == ("main", None, [Path("detectors")])
    assert split_arguments(["main", "HEAD"]) == ("main", "HEAD", [Path("detectors")])
    assert split_arguments(["main", "HEAD", "detectors/whale.yaml"]) == (
        "main",
        "HEAD",
        [Path("detectors/whale.yaml")],
    )
    assert split_arguments(["main", "detectors/whale.yaml"]) == (
        "main",
        None,
        [Path("detectors/whale.yaml")],
    )
    assert split_arguments(["detectors", "detectors"]) == ("detectors", "detectors", [])


def test_git_refs_and_exit_statuses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = _repo(tmp_path)
    monkeypatch.chdir(repo)
    same = _run(["diff", "HEAD"])
    assert same.exit_code == 0, same.output
    assert "no detector changed" in same.output

    _edit(repo / "detectors" / "whale.yaml", "whale_usd: 100000 ", "whale_usd: 250000 ")
    working = _run(["diff", "HEAD"])
    assert working.exit_code == 1, working.output
    assert "MOD-002 whale-detector: non-breaking" in working.output
    assert "whale_usd: 100000 → 250000 (reaches alerts, output)" in working.output
    case = "quote_volume > CASE WHEN instrument = 'perpetual' THEN 500000 ELSE {} END"
    assert f"-WHERE ({case.format(100000)})" in working.output
    assert f"+WHERE ({case.format(250000)})" in working.output

    _git(repo, "commit", "-qam", "raise the whale threshold")
    committed = _run(["diff", "HEAD~1", "HEAD", "--format", "json"])
    assert committed.exit_code == 1
    doc = json.loads(committed.output)
    assert [(c["module"], c["classification"]) for c in doc["changes"]] == [
        ("MOD-002", "non-breaking")
    ]
    assert _run(["diff", "HEAD", "HEAD"]).exit_code == 0
    # only the paths asked for
    assert _run(["diff", "HEAD~1", "HEAD", "--", "detectors/spread-calculator.yaml"]).exit_code == 0


def test_errors_exit_2_with_file_line_col(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = _repo(tmp_path, ["whale.yaml"])
    monkeypatch.chdir(repo)
    _edit(repo / "detectors" / "whale.yaml", WHALE_WHEN, "    when: qty > 1")
    broken = _run(["diff", "HEAD"])
    assert broken.exit_code == 2
    assert "detectors/whale.yaml:22:" in broken.output and "unknown column 'qty'" in broken.output
    assert "Traceback" not in broken.output

    # a broken spec in the base commit is named by the ref
    _git(repo, "commit", "-qam", "broken")
    _edit(repo / "detectors" / "whale.yaml", "when: qty > 1", "when: quote_volume > 1")
    base_broken = _run(["diff", "HEAD"])
    assert base_broken.exit_code == 2
    assert "HEAD:detectors/whale.yaml:22:" in base_broken.output

    unknown = _run(["diff", "no-such-ref"])
    assert unknown.exit_code == 2
    assert "neither a file, a folder nor a git ref" in unknown.output


def _workflow_diff_command() -> list[str]:
    """The `ctc diff` command line of the pull-request workflow."""
    doc = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    steps = doc["jobs"]["review"]["steps"]
    run = next(s["run"] for s in steps if s.get("name") == "ctc diff")
    line = next(ln for ln in run.replace("\\\n", " ").splitlines() if "ctc diff" in ln)
    return shlex.split(line.strip())


def _quote_volumes(path: Path) -> list[float]:
    return [json.loads(ln)["quote_volume"] for ln in path.read_text().splitlines() if ln]


def _whale_counts(volumes: list[float], threshold: float) -> dict[str, int]:
    """The oracle: whale.yaml's bands, counted over the input's trades in plain Python."""
    counts: dict[str, int] = {}
    for v in volumes:
        if v > threshold:
            level = "critical" if v > 1_000_000 else "high" if v > 500_000 else "medium"
            counts[level] = counts.get(level, 0) + 1
    return counts


def test_workflow_markdown_and_impact(
    spark: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The workflow's own command on a fixture pair (whale threshold raised), over a
    simulated sample: the Markdown names the change, and its before/after counts equal an
    independent count of the trades over each threshold."""
    from ctc.simulate import simulate

    repo = _repo(tmp_path, ["whale.yaml"])
    _git(repo, "checkout", "-qb", "change")
    sample = repo / "var" / "review-sample.jsonl"
    simulate(1.0, sample, seed=11)
    volumes = _quote_volumes(sample)
    whales = sorted(v for v in volumes if v > 100_000)
    assert len(whales) >= 2, "the sample must hold whale trades"
    new_threshold = int(whales[len(whales) // 2])  # about half of them stop alerting
    _edit(repo / "detectors" / "whale.yaml", "whale_usd: 100000 ", f"whale_usd: {new_threshold} ")
    _git(repo, "commit", "-qam", "raise the whale threshold")
    monkeypatch.chdir(repo)

    argv = _workflow_diff_command()
    assert argv[:2] == [".venv/bin/ctc", "diff"]
    args = [a.replace("origin/${{ github.base_ref }}", "main") for a in argv[1:]]
    args = [a.replace("var/review.md", str(tmp_path / "review.md")) for a in args]
    args.insert(1, f"--cache={tmp_path / 'cache'}")
    result = _run(args)
    assert result.exit_code == 1, result.output
    md = (tmp_path / "review.md").read_text(encoding="utf-8")
    assert "### ctc diff main → HEAD: 1 detector changed (1 non-breaking)" in md
    assert "| MOD-002 whale-detector | **non-breaking** |" in md
    assert f"whale_usd: 100000 → {new_threshold}" in md
    assert "```diff" in md

    before = _whale_counts(volumes, 100_000)
    after = _whale_counts(volumes, new_threshold)
    for level in sorted(set(before) | set(after)):
        row = f"| MOD-002 | whale_trade | {level} | {before.get(level, 0)} | {after.get(level, 0)}"
        assert row in md, (row, md)
    removed = sum(before.values()) - sum(after.values())
    assert removed > 0
    assert f"- {removed} removed, e.g.:" in md
