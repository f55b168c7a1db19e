"""Compile a set of specs together, in dependency order (chained detectors and alert readers)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from ctc.compiler.lower import lower
from ctc.compiler.plan import Plan
from ctc.compiler.publish import series_collisions
from ctc.dsl.errors import Position, SpecError, SpecErrors
from ctc.dsl.load import load_specs, spec_files
from ctc.dsl.model import Reference, Spec


def _deps(spec: Spec) -> tuple[str, ...]:
    if spec.source.detector:
        return (spec.source.detector,)
    return spec.source.alerts


def _duplicates(specs: Sequence[Spec]) -> list[SpecError]:
    """Two specs compiled together may not share a module id or a name (their views)."""
    errors = []
    for field, what in (("module", "module id"), ("name", "name")):
        first: dict[str, Spec] = {}
        for s in specs:
            value = getattr(s, field)
            other = first.setdefault(value, s)
            if other is not s and Path(other.path).resolve() != Path(s.path).resolve():
                errors.append(
                    SpecError(
                        s.path,
                        s.located.at((field,)),
                        f"{what} {value} is also used by {other.path}",
                    )
                )
                errors.append(
                    SpecError(
                        other.path,
                        other.located.at((field,)),
                        f"{what} {value} is also used by {s.path}",
                    )
                )
    return errors


def _references(spec: Spec) -> list[tuple[tuple[str | int, ...], Reference]]:
    """A spec's references with the path of their node."""
    refs: list[tuple[tuple[str | int, ...], Reference]] = []
    if spec.source.reference is not None:
        refs.append((("source", "reference"), spec.source.reference))
    refs += [(("enrich", i, "reference"), e.reference) for i, e in enumerate(spec.enrich)]
    return refs


def _view_collisions(specs: Sequence[Spec], plans: Mapping[str, Plan]) -> list[SpecError]:
    """Output tables and reference tables become views of one shared Spark session: no two
    specs may define the same one differently, or one could replace what another reads."""
    errors: list[SpecError] = []
    owners: dict[str, tuple[str, Spec, object]] = {}  # view -> (what, spec, definition)

    def claim(view: str, what: str, spec: Spec, at: tuple[str | int, ...], key: object) -> None:
        prior = owners.get(view)
        if prior is None:
            owners[view] = (what, spec, key)
            return
        if prior[0] == what == "reference" and prior[2] == key:
            return  # the same reference file, read by two specs
        errors.append(
            SpecError(
                spec.path,
                spec.located.at(at),
                f"{what} name '{view}' is also used by {prior[1].path} (as its {prior[0]})",
            )
        )

    for spec in specs:
        claim(plans[spec.module].output_table, "output table", spec, ("output", "table"), None)
    for spec in specs:
        base = Path(spec.path).parent.resolve()
        for at, ref in _references(spec):
            key = ((base / ref.path).resolve(), ref.format, ref.columns)
            claim(ref.name, "reference", spec, (*at, "name"), key)
    return errors


def compile_specs(
    specs: Sequence[Spec], context: Sequence[Spec] = (), with_dependencies: bool = False
) -> list[Plan]:
    """Compile ``specs`` (in their order); ``context`` may supply the specs they depend on.

    With ``with_dependencies``, the Plans of the context specs they read follow theirs.
    Raises SpecErrors with every problem of every spec.
    """
    errors: list[SpecError] = _duplicates(specs)
    by_module: dict[str, Spec] = {}
    ambiguous: dict[str, list[str]] = {}
    for c in context:
        if c.module in by_module:
            ambiguous.setdefault(c.module, [by_module[c.module].path]).append(c.path)
        by_module[c.module] = c
    for s in specs:
        by_module[s.module] = s
        ambiguous.pop(s.module, None)
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
            if dep in ambiguous:
                errors.append(
                    SpecError(
                        spec.path,
                        spec.located.at(("source",)),
                        f"depends on {dep}, which more than one spec defines: "
                        + ", ".join(ambiguous[dep]),
                    )
                )
                continue
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
    errors += _view_collisions([by_module[m] for m in plans], plans)
    errors += series_collisions([by_module[m] for m in plans], plans)
    if errors:
        raise SpecErrors(errors)
    wanted = [plans[s.module] for s in specs]
    if with_dependencies:
        wanted += [p for m, p in plans.items() if m not in {s.module for s in specs}]
    return wanted


def compile_paths(paths: Sequence[str | Path], with_dependencies: bool = False) -> list[Plan]:
    """Load and compile the specs at ``paths`` (files or folders).

    Specs they depend on are looked up in the same folders (read only when a spec depends
    on one not given); with ``with_dependencies`` their Plans are returned too, after
    those asked for. Raises SpecErrors.
    """
    files = spec_files(paths)
    if not files:
        raise SpecErrors(
            [SpecError(str(p), Position(1, 1), "no detector specs (*.yaml) here") for p in paths]
        )
    specs = load_specs(files)
    given = {s.module for s in specs}
    if all(dep in given for s in specs for dep in _deps(s)):
        # nothing to look up: the folders' other specs are not read (a folder of many
        # specs made every `ctc validate` of one of them parse them all)
        return compile_specs(specs, (), with_dependencies)
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
