"""What a detector publishes for the API and the dashboard: its alert types in words and
its chart series (the spec's ``publish:`` section), checked against the plan's output.

Metadata only: nothing here changes a stage or its SQL. Each series' columns must be
output columns of the plan (its value numeric, its time a timestamp); its markers alert
types of the same spec whose details carry that time (the chart places a marker at the
alert's ``details.<time>``); a guide a number or a numeric param. Every problem is a
positioned :class:`~ctc.dsl.errors.SpecError`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from ctc.compiler.plan import Plan, PublishPlan, SeriesPlan
from ctc.dsl.errors import SpecError, SpecErrors
from ctc.dsl.model import Series, Spec
from ctc.events import METRICS_FIELDS
from ctc.labels import label_of

#: Spark types a series value may have.
NUMERIC_TYPES = frozenset({"double", "float", "bigint", "int", "smallint", "tinyint"})

#: Defaults of a series' time and symbol columns.
DEFAULT_TIME, DEFAULT_SYMBOL = "window_start", "symbol"

#: The fields a stored series row has of its own (ctc.sinks.stores.records: WINDOW_COLUMNS,
#: and the keys normalise_window skips; a test keeps them in step): no detail may be named so.
POINT_FIELDS = ("symbol", "exchange", "window_start", "value", "kind", "ttl_epoch")

#: Spark types a detail may have besides numbers: text, and times (kept as ISO text).
DETAIL_TYPES = frozenset({"string", "timestamp"})

Path_ = tuple[str | int, ...]


def _numeric(spark_type: str) -> bool:
    return spark_type in NUMERIC_TYPES or spark_type.startswith("decimal")


class _Checker:
    """Collects the positioned problems of one spec's publish section."""

    def __init__(self, spec: Spec, columns: Mapping[str, str]) -> None:
        self.spec = spec
        self.columns = columns
        self.errors: list[SpecError] = []

    def err(self, at: Path_, message: str, key: bool = False) -> None:
        loc = self.spec.located
        self.errors.append(
            SpecError(self.spec.path, loc.key_at(at) if key else loc.at(at), message)
        )

    def column(self, name: str, at: Path_, what: str) -> bool:
        """Whether ``name`` is an output column; a positioned error if not."""
        if name in self.columns:
            return True
        from ctc.compiler.fragments.positions import suggest

        hint = suggest(name, sorted(self.columns))
        known = f" (output columns: {', '.join(self.columns)})"
        self.err(at, f"unknown column '{name}' in {what}{hint or known}")
        return False


def _guides(series: Series, at: Path_, spec: Spec, check: _Checker) -> tuple[float, ...]:
    params = spec.param_map
    out: list[float] = []
    for i, guide in enumerate(series.guides):
        if isinstance(guide, int | float):  # the schema lets no true/false through
            out.append(float(guide))
            continue
        sign, name = (-1.0, guide[1:]) if guide.startswith("-") else (1.0, guide)
        param = name.removeprefix("params.")
        value = params.get(param)
        if not name.startswith("params.") or param not in params:
            from ctc.compiler.fragments.positions import suggest

            hint = suggest(param, sorted(params)) if name.startswith("params.") else ""
            check.err(
                (*at, "guides", i),
                f"guide {guide!r} is neither a number nor params.<name> of a declared param{hint}",
            )
        elif isinstance(value, bool) or not isinstance(value, int | float):
            check.err((*at, "guides", i), f"guide {guide!r} names a param that is not a number")
        else:
            out.append(sign * float(value))
    return tuple(out)


def _markers(series: Series, at: Path_, spec: Spec, time: str, check: _Checker) -> tuple[str, ...]:
    rules = {r.type: r for r in spec.alerts}
    if series.markers is None:
        return tuple(r.type for r in spec.alerts if time in r.details)
    for i, kind in enumerate(series.markers):
        rule = rules.get(kind)
        if rule is None:
            check.err(
                (*at, "markers", i),
                f"unknown alert type '{kind}' in markers (this spec raises: {', '.join(rules)})",
            )
        elif time not in rule.details:
            check.err(
                (*at, "markers", i),
                f"alert type '{kind}' cannot mark this series: its details must list "
                f"'{time}', the series' time column",
            )
    return series.markers


def _series(series: Series, spec: Spec, check: _Checker) -> SeriesPlan:
    at: Path_ = ("publish", "series", series.name)
    cols = check.columns
    where = f"publish.series.{series.name}"
    has_value = check.column(series.value, (*at, "value"), f"{where}.value")
    if has_value and not _numeric(cols[series.value]):
        check.err(
            (*at, "value"),
            f"value column '{series.value}' is {cols[series.value]}: a series draws a number",
        )
    time = series.time or DEFAULT_TIME
    if series.time is None and time not in cols:
        check.err(at, f"these rows have no '{time}' column: set the series' time:", key=True)
    elif check.column(time, (*at, "time"), f"{where}.time") and cols[time] != "timestamp":
        check.err((*at, "time"), f"time column '{time}' is {cols[time]}, not a timestamp")
    symbol = series.symbol or DEFAULT_SYMBOL
    if series.symbol is None and symbol not in cols:
        check.err(at, f"these rows have no '{symbol}' column: set the series' symbol:", key=True)
    elif series.symbol is not None:
        check.column(symbol, (*at, "symbol"), f"{where}.symbol")
    if series.exchange is not None:
        check.column(series.exchange, (*at, "exchange"), f"{where}.exchange")
    for i, name in enumerate(series.details):
        if name in POINT_FIELDS:
            check.err(
                (*at, "details", i),
                f"'{name}' is a field of every point already ({', '.join(POINT_FIELDS)}): "
                "it cannot be a detail",
            )
        elif check.column(name, (*at, "details", i), f"{where}.details"):
            kind = cols[name]
            if not (_numeric(kind) or kind in DETAIL_TYPES):
                check.err(
                    (*at, "details", i),
                    f"detail column '{name}' is {kind}: details are numbers, text or times",
                )
    if series.metric is not None:
        if series.exchange is not None:
            check.err(
                (*at, "metric"),
                "metric: is for a cross-exchange series (one value per symbol); this one has "
                "an exchange:",
            )
        if series.metric in METRICS_FIELDS:
            check.err(
                (*at, "metric"),
                f"metric name '{series.metric}' is a field of GET /metrics already "
                f"({', '.join(METRICS_FIELDS)})",
            )
    label = series.label or label_of(series.name)
    window = spec.window.size.text if spec.window else None
    per = f"per {window} window" if window else "per row"
    return SeriesPlan(
        name=series.name,
        label=label,
        description=series.description
        or f"{label} {per}{' and exchange' if series.exchange else ''}",
        unit=series.unit or "",
        value=series.value,
        time=time,
        symbol=symbol,
        exchange=series.exchange,
        details=series.details,
        chart=series.chart,
        markers=_markers(series, at, spec, time, check),
        guides=_guides(series, at, spec, check),
        metric=series.metric,
        missing=series.missing or "",
    )


def with_publish(spec: Spec, plan: Plan) -> Plan:
    """``plan`` with what ``spec`` publishes (alert labels, chart series); raises
    :class:`SpecErrors` naming every series column that is not an output column, and
    every other problem of the section, at its place in the file."""
    check = _Checker(spec, dict(plan.output_columns))
    labels = tuple((r.type, r.label or label_of(r.type)) for r in spec.alerts)
    series = tuple(_series(s, spec, check) for s in (spec.publish.series if spec.publish else ()))
    if check.errors:
        raise SpecErrors(check.errors)
    return replace(plan, publish=PublishPlan(alert_labels=labels, series=series))


def series_collisions(specs: Sequence[Spec], plans: Mapping[str, Plan]) -> list[SpecError]:
    """Series names and metric names are shared by every detector run together (the
    store keys series rows by name; /metrics has one field per metric): no two specs may
    publish the same one."""
    errors: list[SpecError] = []
    owners: dict[tuple[str, str], Spec] = {}
    for spec in specs:
        plan = plans.get(spec.module)
        if plan is None:
            continue
        for s in plan.publish.series:
            claims: list[tuple[str, str, Path_, bool]] = [
                ("series", s.name, ("publish", "series", s.name), True)
            ]
            if s.metric:
                claims.append(("metric", s.metric, ("publish", "series", s.name, "metric"), False))
            for what, name, at, key in claims:
                prior = owners.setdefault((what, name), spec)
                if prior is not spec:
                    pos = spec.located.key_at(at) if key else spec.located.at(at)
                    errors.append(
                        SpecError(
                            spec.path,
                            pos,
                            f"{what} name '{name}' is also published by {prior.path}",
                        )
                    )
    return errors
