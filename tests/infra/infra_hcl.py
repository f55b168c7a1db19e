"""Read the Terraform of infra/ with python-hcl2, normalised: strings unquoted, block
markers dropped, each file's resources/data/locals as plain dicts."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import hcl2

INFRA = Path(__file__).resolve().parents[2] / "infra"


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return value[1:-1] if len(value) >= 2 and value[0] == value[-1] == '"' else value
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items() if k != "__is_block__"}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def tf_files() -> list[Path]:
    """Every .tf file under infra/."""
    return sorted(INFRA.rglob("*.tf"))


@cache
def parse(path: Path) -> dict[str, Any]:
    """One .tf file, normalised."""
    with open(path, encoding="utf-8") as fh:
        return dict(_clean(hcl2.load(fh)))


def module(name: str) -> dict[str, Any]:
    """A module's (or ``envs/dev``'s) files merged: ``resource`` and ``data`` as
    ``{type: {name: body}}``, ``locals``, ``variable``, ``output`` and ``module`` by name."""
    folder = INFRA / ("envs/dev" if name == "dev" else f"modules/{name}")
    merged: dict[str, Any] = {
        "resource": {},
        "data": {},
        "locals": {},
        "variable": {},
        "output": {},
        "module": {},
    }
    for path in sorted(folder.glob("*.tf")):
        doc = parse(path)
        for kind in ("resource", "data"):
            for block in doc.get(kind, []):
                for typ, named in block.items():
                    merged[kind].setdefault(typ, {}).update(named)
        for block in doc.get("locals", []):
            merged["locals"].update(block)
        for kind in ("variable", "output", "module"):
            for block in doc.get(kind, []):
                merged[kind].update(block)
    return merged


def policy_documents() -> list[tuple[str, str, dict[str, Any]]]:
    """Every aws_iam_policy_document in infra/: (module, name, body)."""
    out = []
    for folder in sorted((INFRA / "modules").iterdir()):
        for name, body in module(folder.name)["data"].get("aws_iam_policy_document", {}).items():
            out.append((folder.name, name, body))
    return out
