"""Read detector spec files into :class:`~ctc.dsl.model.Spec` objects, or positioned errors."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ctc.dsl.durations import Duration, parse_duration
from ctc.dsl.errors import Position, SpecError, SpecErrors
from ctc.dsl.limits import MAX_PARAM_INT, MAX_SPEC_BYTES
from ctc.dsl.model import (
    AlertRule,
    Baseline,
    Enrich,
    Lookup,
    Output,
    Publish,
    Reference,
    Running,
    Series,
    SeverityBand,
    Source,
    Spec,
    Sql,
    Window,
)
from ctc.dsl.references import reference_file_problem
from ctc.dsl.schema_check import check_schema
from ctc.dsl.yaml_loader import Located, Path_, load_yaml

#: Files in a detectors folder that are not detector specs.
NOT_SPECS = {"quality.yaml", "symbols.yaml"}


def _sqls(data: dict[str, str] | None, at: Path_) -> tuple[tuple[str, Sql], ...]:
    return tuple((k, Sql(v, (*at, k))) for k, v in (data or {}).items())


def _reference(d: dict[str, Any]) -> Reference:
    return Reference(
        name=d["name"],
        path=d["path"],
        format=d["format"],
        refresh=d.get("refresh", "daily"),
        columns=tuple(d["columns"].items()),
    )


def _severity(
    bands: list[dict[str, Any]], at: Path_, loc: Located, path: str
) -> tuple[tuple[SeverityBand, ...], list[SpecError]]:
    errors: list[SpecError] = []
    out = []
    for i, band in enumerate(bands):
        when = band.get("when")
        last = i == len(bands) - 1
        if last and when is not None:
            errors.append(
                SpecError(
                    path,
                    loc.key_at((*at, i, "when")),
                    "the last severity band must have no 'when': it is the "
                    "level of every alert that no band above matched",
                )
            )
        if not last and when is None:
            errors.append(
                SpecError(
                    path, loc.at((*at, i)), "only the last severity band may leave out 'when'"
                )
            )
        out.append(SeverityBand(band["level"], Sql(when, (*at, i, "when")) if when else None))
    return tuple(out), errors


def _param_errors(d: dict[str, Any], loc: Located, path: str) -> list[SpecError]:
    """Params must be finite numbers within Spark's bigint range, texts or booleans.

    ``.inf`` would compile to the bare word ``inf``, which a spec can define as a column.
    """
    errors = []
    for name, value in (d.get("params") or {}).items():
        at = loc.at(("params", name))
        if isinstance(value, float) and not math.isfinite(value):
            errors.append(
                SpecError(path, at, f"params.{name} must be a finite number, got {value!r}")
            )
        elif (
            isinstance(value, int)
            and not isinstance(value, bool)
            and not -MAX_PARAM_INT - 1 <= value <= MAX_PARAM_INT
        ):
            errors.append(
                SpecError(
                    path,
                    at,
                    f"params.{name} is out of range: whole numbers must be between "
                    f"{-MAX_PARAM_INT - 1} and {MAX_PARAM_INT}",
                )
            )
    return errors


def _reference_errors(d: dict[str, Any], loc: Located, path: str) -> list[SpecError]:
    """Reference paths must name files inside the spec's folder; each name is used once."""
    refs: list[tuple[tuple[str | int, ...], dict[str, Any]]] = []
    if "reference" in d["source"]:
        refs.append((("source", "reference"), d["source"]["reference"]))
    refs += [
        (("enrich", i, "reference"), e["reference"]) for i, e in enumerate(d.get("enrich") or [])
    ]
    errors = []
    base = Path(path).parent
    seen: set[str] = set()
    for at, ref in refs:
        problem = reference_file_problem(base, ref["path"])
        if problem is not None:
            errors.append(SpecError(path, loc.at((*at, "path")), problem))
        if ref["name"] in seen:
            errors.append(
                SpecError(
                    path,
                    loc.at((*at, "name")),
                    f"reference name '{ref['name']}' is used twice in this spec: "
                    "each reference needs its own name (it becomes a view)",
                )
            )
        seen.add(ref["name"])
    return errors


def _publish(d: dict[str, Any] | None) -> Publish | None:
    """The ``publish:`` section as the model (columns are checked by the compiler)."""
    if d is None:
        return None
    return Publish(
        tuple(
            Series(
                name=name,
                value=s["value"],
                label=s.get("label"),
                description=s.get("description"),
                unit=s.get("unit"),
                time=s.get("time"),
                symbol=s.get("symbol"),
                exchange=s.get("exchange"),
                details=tuple(s.get("details", ())),
                chart=s.get("chart", "line"),
                markers=tuple(s["markers"]) if "markers" in s else None,
                guides=tuple(s.get("guides", ())),
                metric=s.get("metric"),
                missing=s.get("missing"),
            )
            for name, s in d["series"].items()
        )
    )


def _running(d: dict[str, Any] | None) -> Running | None:
    """The ``running:`` section (None: the spec has none)."""
    if d is None:
        return None
    return Running(d.get("order_by"), _sqls(d["columns"], ("running", "columns")))


def _build(loc: Located, path: str) -> tuple[Spec | None, list[SpecError]]:
    d: dict[str, Any] = loc.data
    errors: list[SpecError] = _param_errors(d, loc, path) + _reference_errors(d, loc, path)
    src = d["source"]
    source = Source(
        stream=src.get("stream"),
        detector=src.get("detector"),
        alerts=tuple(src.get("alerts", ())),
        reference=_reference(src["reference"]) if "reference" in src else None,
    )
    window = None
    if "window" in d:
        w = d["window"]
        window = Window(
            type=w.get("type", "tumbling"),
            size=parse_duration(w["size"]),
            slide=parse_duration(w["slide"]) if "slide" in w else None,
            watermark=parse_duration(w["watermark"]),
            time=w.get("time"),
        )
        if window.slide and window.size.seconds % window.slide.seconds:
            errors.append(
                SpecError(
                    path,
                    loc.at(("window", "slide")),
                    "window.size must be a whole multiple of window.slide",
                )
            )
    baseline = None
    if "baseline" in d:
        b = d["baseline"]
        baseline = Baseline(parse_duration(b["lookback"]), _sqls(b["stats"], ("baseline", "stats")))
        if window and baseline.lookback.seconds < window.size.seconds:
            errors.append(
                SpecError(
                    path,
                    loc.at(("baseline", "lookback")),
                    "baseline.lookback must be at least one window long",
                )
            )
    rules = []
    for i, a in enumerate(d["alerts"]):
        at: Path_ = ("alerts", i)
        bands, errs = _severity(a["severity"], (*at, "severity"), loc, path)
        errors += errs
        rules.append(
            AlertRule(
                type=a["type"],
                when=Sql(a["when"], (*at, "when")),
                severity=bands,
                message=Sql(a["message"], (*at, "message")),
                symbol=Sql(a["symbol"], (*at, "symbol")) if "symbol" in a else None,
                exchange=Sql(a["exchange"], (*at, "exchange")) if "exchange" in a else None,
                key=tuple(a["key"]) if "key" in a else None,
                details=tuple(a.get("details", ())),
                path=at,
                label=a.get("label"),
                per=a.get("per"),
            )
        )
    lookups = []
    for name, lk in (d.get("lookups") or {}).items():
        at = ("lookups", name)
        lookups.append(
            Lookup(
                name=name,
                source=lk["from"],
                value=lk["value"],
                match=_sqls(lk["match"], (*at, "match")),
                at=Sql(lk["at"], (*at, "at")),
                within=parse_duration(lk["within"]) if "within" in lk else Duration(3600, "1 hour"),
            )
        )
    out = d["output"]
    spec = Spec(
        path=path,
        module=d["module"],
        name=d["name"],
        title=d.get("title", d["name"]),
        description=d.get("description", "").strip(),
        tier=d["tier"],
        mode=d.get("mode", "streaming"),
        schedule=d.get("schedule"),
        params=tuple((d.get("params") or {}).items()),
        source=source,
        filter=Sql(d["filter"], ("filter",)) if "filter" in d else None,
        enrich=tuple(
            Enrich(
                _reference(e["reference"]),
                Sql(e["on"], ("enrich", i, "on")),
                _sqls(e["columns"], ("enrich", i, "columns")),
            )
            for i, e in enumerate(d.get("enrich") or [])
        ),
        lookups=tuple(lookups),
        prepare=_sqls(d.get("prepare"), ("prepare",)),
        window=window,
        group_by=tuple(d.get("group_by") or ()),
        aggregate=_sqls(d.get("aggregate"), ("aggregate",)),
        baseline=baseline,
        derive=_sqls(d.get("derive"), ("derive",)),
        alerts=tuple(rules),
        output=Output(out["table"], tuple(out.get("partition_by", ())), out.get("rows", "all")),
        located=loc,
        raw=d,
        publish=_publish(d.get("publish")),
        running=_running(d.get("running")),
    )
    return spec, errors


def parse_spec(text: str, path: str) -> Spec:
    """Parse and validate one spec's text; raise :class:`SpecErrors` with every problem."""
    loc, errors = load_yaml(text, path)
    if loc is None:
        raise SpecErrors(errors)
    if not isinstance(loc.data, dict):
        raise SpecErrors([SpecError(path, loc.at(()), "a detector spec must be a YAML mapping")])
    errors += check_schema(loc, path)
    if errors:
        raise SpecErrors(errors)
    spec, errors = _build(loc, path)
    if errors or spec is None:
        raise SpecErrors(errors)
    return spec


def load_spec(path: str | Path) -> Spec:
    """Load one spec file; raise :class:`SpecErrors` listing every problem in it."""
    p = Path(path)
    try:
        with p.open("rb") as f:
            data = f.read(MAX_SPEC_BYTES + 1)
        if len(data) > MAX_SPEC_BYTES:
            raise SpecErrors(
                [
                    SpecError(
                        str(path),
                        Position(1, 1),
                        f"spec file too large: more than {MAX_SPEC_BYTES} bytes",
                    )
                ]
            )
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecErrors(
            [SpecError(str(path), Position(1, 1), f"cannot read file: {exc}")]
        ) from exc
    return parse_spec(text, str(path))


def spec_files(paths: Iterable[str | Path]) -> list[Path]:
    """Expand files and folders to the detector spec files they hold, sorted, no duplicates."""
    found: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found += sorted(
                f
                for f in p.glob("*.yaml")
                if f.name not in NOT_SPECS and not f.name.startswith(".")
            )
        else:
            found.append(p)
    seen: set[Path] = set()
    unique = []
    for f in found:
        if f.resolve() not in seen:
            seen.add(f.resolve())
            unique.append(f)
    return unique


def load_specs(paths: Sequence[str | Path]) -> list[Spec]:
    """Load every spec under ``paths``; raise :class:`SpecErrors` with all problems of all files."""
    specs: list[Spec] = []
    errors: list[SpecError] = []
    for f in spec_files(paths):
        try:
            specs.append(load_spec(f))
        except SpecErrors as exc:
            errors += exc.errors
    if errors:
        raise SpecErrors(errors)
    return specs
