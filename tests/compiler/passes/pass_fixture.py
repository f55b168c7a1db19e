"""Run one lowering pass over a spec fragment, as the pass fixtures describe it.

A fixture, ``fixtures/<pass>/<case>.yaml``, holds:

``spec``
    a spec fragment (YAML text); the keys it leaves out come from :data:`BASE`. The
    fragment comes first in the spec, so an error's ``line:col`` is its own.
``upstream`` (optional)
    the fragment of a spec the first one reads (``source.detector``), compiled first.
``expect``
    ``stages``: the stages the pass adds or changes, in order: ``kind``, ``view``,
    ``columns`` and ``sql``, and when given ``reads``, ``note``, ``streaming``, ``state``;
    ``context`` (optional): fields of the context after the pass (``event_view``,
    ``detected_at``, ``time_column``, ``window``);
    ``errors`` (optional): every problem, as ``line:col: message``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import yaml

from ctc.compiler.lower import lower
from ctc.compiler.passes import PASSES, LoweringContext
from ctc.compiler.plan import Plan, Stage
from ctc.dsl.errors import SpecErrors
from ctc.dsl.load import parse_spec

#: The spec keys a fragment leaves out.
BASE: dict[str, Any] = {
    "module": "MOD-900",
    "name": "fixture",
    "tier": "small",
    "source": {"stream": "trades"},
    "alerts": [
        {
            "type": "fixture_alert",
            "when": "true",
            "severity": [{"level": "low"}],
            "message": "fixture",
        }
    ],
    "output": {"table": "fixture_rows"},
}


def spec_text(fragment: str, base: dict[str, Any] = BASE) -> str:
    """``fragment`` followed by the keys of ``base`` it does not set."""
    own = yaml.safe_load(fragment) or {}
    rest = {k: v for k, v in base.items() if k not in own}
    return fragment.rstrip("\n") + "\n" + (yaml.safe_dump(rest, sort_keys=False) if rest else "")


def _upstream(fragment: str | None, where: Path) -> dict[str, Plan]:
    if fragment is None:
        return {}
    base = {**BASE, "module": "MOD-901", "name": "upstream", "output": {"table": "up_rows"}}
    plan = lower(parse_spec(spec_text(fragment, base), str(where / "upstream.yaml")))
    return {plan.module: plan}


@dataclasses.dataclass
class PassResult:
    """What one pass did: the stages it added or changed, its context, every problem."""

    stages: list[Stage]
    context: LoweringContext | None
    errors: list[str]


def run_pass(name: str, case: dict[str, Any], where: Path) -> PassResult:
    """Run the passes up to and including ``name`` over the case's spec."""
    spec = parse_spec(spec_text(case["spec"]), str(where / "fixture.yaml"))
    ctx = LoweringContext(spec, _upstream(case.get("upstream"), where))
    try:
        for pass_name, run in PASSES.items():
            before = list(ctx.stages)
            run(ctx)
            if pass_name == name:
                break
    except SpecErrors as stopped:  # the source pass stops at a source it cannot resolve
        return PassResult([], None, [_error(e) for e in stopped.errors])
    changed = [s for s in ctx.stages if s not in before]
    return PassResult(changed, ctx, sorted(_error(e) for e in SpecErrors(ctx.errors).errors))


def _error(e: Any) -> str:
    return f"{e.position.line}:{e.position.col}: {e.message}"


def stage_as_fixture(stage: Stage, keys: list[str]) -> dict[str, Any]:
    """``stage`` in a fixture's terms, limited to ``keys``."""
    full: dict[str, Any] = {
        "kind": stage.kind.value,
        "view": stage.view,
        "reads": list(stage.reads),
        "columns": dict(stage.columns),
        "note": stage.note,
        "streaming": stage.streaming,
        "state": dataclasses.asdict(stage.state) if stage.state else None,
        "sql": stage.sql + "\n",
    }
    if full["state"]:
        full["state"]["keys"] = list(full["state"]["keys"])
    return {k: full[k] for k in keys}


def context_as_fixture(ctx: LoweringContext, keys: list[str]) -> dict[str, Any]:
    """The context fields ``keys`` in a fixture's terms."""
    out: dict[str, Any] = {}
    for key in keys:
        value = getattr(ctx, key)
        out[key] = dataclasses.asdict(value) if dataclasses.is_dataclass(value) else value
    return out


def _block(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


def expect_block(path: Path) -> str:
    """The ``expect:`` block of the fixture at ``path`` as the code makes it today, for a
    person to check before pasting it into the fixture."""
    case = yaml.safe_load(path.read_text(encoding="utf-8"))
    result = run_pass(path.parent.name, case, path.parent)
    keys = ["kind", "view", "reads", "columns", "note", "streaming", "sql"]
    stages = [
        stage_as_fixture(s, [*keys[:-1], *(["state"] if s.state else []), "sql"])
        for s in result.stages
    ]
    expect: dict[str, Any] = {}
    if stages:
        expect["stages"] = stages
    if result.errors:
        expect["errors"] = result.errors
    if path.parent.name == "window" and result.context is not None:
        expect["context"] = context_as_fixture(
            result.context, ["event_view", "detected_at", "time_column", "window"]
        )
    dumper = type("BlockDumper", (yaml.SafeDumper,), {})
    dumper.add_representer(str, _block)
    return yaml.dump({"expect": expect}, Dumper=dumper, sort_keys=False, allow_unicode=True)


if __name__ == "__main__":
    import sys

    for arg in sys.argv[1:]:
        print(f"# {arg}\n{expect_block(Path(arg))}")
