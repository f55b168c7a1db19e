"""Docs that quote the code or point into the repository say what is there."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ADRS = ROOT / "docs" / "adr"


def test_the_readmes_whale_spec_is_detectors_whale_yaml() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    intro = "The shortest one, `detectors/whale.yaml`:\n\n```yaml\n"
    assert intro in readme
    snippet = readme.split(intro, 1)[1].split("```", 1)[0]
    assert snippet == (ROOT / "detectors" / "whale.yaml").read_text(encoding="utf-8")


def test_every_adr_link_names_an_adr() -> None:
    texts = [ROOT / "pyproject.toml", ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    texts += sorted((ROOT / "ctc").rglob("*.py"))
    numbers = {p.name[:4] for p in ADRS.glob("*.md")}
    names = {p.name for p in ADRS.glob("*.md")}
    for path in texts:
        text = path.read_text(encoding="utf-8")
        for m in re.finditer(r"docs/adr/(\d{4})([-\w]*\.md)?", text):
            assert m.group(1) in numbers, f"{path.name}: {m.group(0)}"
            if m.group(2):
                assert f"{m.group(1)}{m.group(2)}" in names, f"{path.name}: {m.group(0)}"
