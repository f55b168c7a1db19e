"""Compile a set of specs together, in dependency order (chained detectors and alert readers)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ctc.compiler.lower import lower
from ctc.compiler.plan import Plan
from ctc.dsl.errors import Position, SpecError, SpecErrors
from ctc.dsl.load import load_specs, spec_files
from ctc.dsl.model import Spec


def _deps(spec: Spec) -> tuple[str, ...]:
    if spec.source.detector:
        return (spec.source.detector,)
    return spec.source.alerts


def compile_specs(
    specs: Sequence[Spec], context: Sequence[Spec] = (), with_dependencies: bool = False
) -> list[Plan]:
    """Compile ``specs`` (in their order); ``context`` may supply the specs they depend on.

    With ``with_dependencies``, the Plans of the context specs they read follow theirs.
    Raises SpecErrors with every problem of every spec.
    """
    by_module: dict[str, Spec] = {s.module: s for s in context}
    errors: list[SpecError] = []
    for s in specs:
        other = by_module.get(s.module)
        if other is not None and other.path != s.path and other in specs:
            errors.append(
                SpecError(
                    s.path,
                    s.located.at(("module",)),
                    f"module id {s.module} is also used by {other.path}",
                )
            )
        by_module[s.module] = s
    plans: dict[str, Plan] = {}
    visiting: set[str] = set()

    def build(spec: Spec) -> Plan | None:
        if spec.module in plans:
            return plans[spec.module]
        if spec.module in visiting:
            errors.append(
                SpecError(
                    spec.path,
                    spec.located.at(("source",)),
                    f"{spec.module} depends on itself through its sources",
                )
            )
            return None
        visiting.add(spec.module)
        upstream: dict[str, Plan] = {}
        for dep in _deps(spec):
            dep_spec = by_module.get(dep)
            if dep_spec is None:
                errors.append(
                    SpecError(
                        spec.path,
                        spec.located.at(("source",)),
                        f"depends on {dep}, which is not among the specs",
                    )
                )
                continue
            up = build(dep_spec)
            if up is not None:
                upstream[dep] = up
        visiting.discard(spec.module)
        try:
            plan = lower(spec, upstream)
        except SpecErrors as exc:
            errors.extend(exc.errors)
            return None
        plans[spec.module] = plan
        return plan

    for s in specs:
        build(s)
    tables: dict[str, str] = {}
    for p in plans.values():
        if p.output_table in tables:
            errors.append(
                SpecError(
                    p.spec_path,
                    Position(1, 1),
                    f"output table {p.output_table} is also written by {tables[p.output_table]}",
                )
            )
        tables[p.output_table] = p.spec_path
    if errors:
        raise SpecErrors(errors)
    wanted = [plans[s.module] for s in specs]
    if with_dependencies:
        wanted += [p for m, p in plans.items() if m not in {s.module for s in specs}]
    return wanted


def compile_paths(paths: Sequence[str | Path], with_dependencies: bool = False) -> list[Plan]:
    """Load and compile the specs at ``paths`` (files or folders).

    Specs they depend on are looked up in the same folders; with ``with_dependencies``
    their Plans are returned too, after those asked for. Raises SpecErrors.
    """
    files = spec_files(paths)
    if not files:
        raise SpecErrors(
            [SpecError(str(p), Position(1, 1), "no detector specs (*.yaml) here") for p in paths]
        )
    specs = load_specs(files)
    folders = sorted({f.parent for f in files})
    context_files = [
        f for f in spec_files(folders) if f.resolve() not in {g.resolve() for g in files}
    ]
    context: list[Spec] = []
    for f in context_files:
        try:
            context += load_specs([f])
        except SpecErrors:
            continue  # a broken neighbour only matters if it is needed
    return compile_specs(specs, context, with_dependencies)
