"""Lower a validated Spec to a Plan: one Spark SQL stage per construct.

Every SQL fragment is checked by :mod:`ctc.compiler.expressions` against the
columns in scope at its stage; all problems of a spec are collected and
raised together as :class:`~ctc.dsl.errors.SpecErrors`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace

from sqlglot import exp

from ctc.compiler.catalog import ALERTS, STREAMS, SourceSchema, reserved_name_problem
from ctc.compiler.expressions import (
    FragmentError,
    Scope,
    check_fragment,
    error_at,
    fragment_error,
    to_sql,
)
from ctc.compiler.plan import AlertRulePlan, Plan, Stage, StageKind, StateBound, WindowPlan
from ctc.compiler.publish import with_publish
from ctc.compiler.templates import compile_template
from ctc.dsl.canonical import spec_version
from ctc.dsl.errors import SpecError, SpecErrors
from ctc.dsl.limits import (
    MAX_EXPRESSION_DEPTH,
    MAX_EXPRESSION_NODES,
    MAX_LOOKUP_WITHIN_SECONDS,
    MAX_WINDOWS_PER_EVENT,
    MAX_WINDOWS_PER_KEY,
)
from ctc.dsl.model import Spec, Sql
from ctc.events import ALERT_FIELDS, ALERT_TTL_SECONDS

_INDENT = "  "


def _select(
    items: list[str],
    source: str,
    where: str | None = None,
    group_by: list[str] | None = None,
    joins: list[str] | None = None,
) -> str:
    lines = ["SELECT"]
    lines += [f"{_INDENT}{item}{',' if i < len(items) - 1 else ''}" for i, item in enumerate(items)]
    lines.append(f"FROM {source}")
    lines += joins or []
    if where:
        lines.append(f"WHERE {where}")
    if group_by:
        lines.append("GROUP BY")
        lines += [
            f"{_INDENT}{g}{',' if i < len(group_by) - 1 else ''}" for i, g in enumerate(group_by)
        ]
    return "\n".join(lines)


def _q(name: str) -> str:
    """Quote an identifier for Spark SQL when it needs it."""
    return name if name.isidentifier() and name.lower() not in _RESERVED else f"`{name}`"


_RESERVED = {
    "timestamp",
    "window",
    "date",
    "end",
    "start",
    "order",
    "group",
    "from",
    "select",
    "where",
    "table",
    "user",
    "time",
    "interval",
}


def _qualify(tree: exp.Expr, alias: str, own: Mapping[str, str]) -> exp.Expr:
    """Prefix unqualified columns of this spec's own rows with ``alias``."""

    def fix(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Column) and not node.table and node.name in own:
            return exp.column(node.name, table=alias, quoted=None)
        return node

    return tree.transform(fix, copy=True)


#: The type given to a column whose type could not be inferred or whose expression did
#: not compile: an error is reported with it, so no plan ever carries it.
_UNTYPED = "unknown"

_SPARK_TYPES = {
    "string",
    "double",
    "bigint",
    "int",
    "boolean",
    "timestamp",
    "date",
    "float",
    "smallint",
    "tinyint",
}


class TypeUnknown(Exception):
    """The Spark type of an expression cannot be inferred (the message says why)."""


#: Functions sqlglot leaves untyped, by the Spark type they return.
_RETURN_TYPES: dict[str, str] = {
    "timestamp_seconds": "timestamp",
    "timestamp_millis": "timestamp",
    "format_number": "string",
    "isnull": "boolean",
    "isnotnull": "boolean",
}


def _typeable(node: exp.Expr) -> exp.Expr:
    """``node`` rewritten, for inference only, so that sqlglot can type what it cannot
    type itself: ``MAX_BY(v, k)`` has the type of ``v``, a known function its return type."""
    if isinstance(node, exp.ArgMax | exp.ArgMin):
        return node.this
    if isinstance(node, exp.TimestampTrunc):
        return exp.cast(exp.Null(), "timestamp")
    if isinstance(node, exp.Anonymous) and node.name.lower() in _RETURN_TYPES:
        return exp.cast(exp.Null(), _RETURN_TYPES[node.name.lower()])
    return node


def _infer_type(
    tree: exp.Expr,
    columns: Mapping[str, str],
    tables: Mapping[str, Mapping[str, str]] | None = None,
) -> str:
    """The Spark type of an expression over typed columns (for lake table schemas).

    Columns are resolved against ``columns`` and, when qualified, ``tables``. Raises
    :class:`TypeUnknown` when the type cannot be inferred or is not a column type
    (a bare NULL, a struct): the spec then names it with a CAST.
    """
    from sqlglot.optimizer.annotate_types import annotate_types
    from sqlglot.optimizer.qualify import qualify

    flat = {name: typ for name, typ in columns.items()}
    for table, cols in (tables or {}).items():
        flat.update({f"{table}__{c}": t for c, t in cols.items()})

    def rename(n: exp.Expr) -> exp.Expr:
        if isinstance(n, exp.Column) and n.table:
            return exp.column(f"{n.table}__{n.name}")
        return _typeable(n)

    expr = tree.transform(rename, copy=True)
    schema: dict[str, object] = {"__t": flat}
    try:
        select = exp.select(exp.alias_(expr, "__x")).from_("__t")
        select = qualify(select, schema=schema, dialect="spark", validate_qualify_columns=False)
        t = annotate_types(select, schema=schema, dialect="spark").selects[0].type
    except Exception as err:  # sqlglot's optimizer raises many kinds
        raise TypeUnknown(f"sqlglot could not type it ({type(err).__name__})") from err
    if t is None or t.this == exp.DataType.Type.UNKNOWN:
        raise TypeUnknown("its type is not known")
    name = t.sql("spark").lower()
    if name.startswith("decimal"):
        return "double"
    if name not in _SPARK_TYPES:
        raise TypeUnknown(f"its type {name} is not a column type")
    return name


def _own_columns(tree: exp.Expr) -> list[exp.Column]:
    """The unqualified columns ``tree`` reads."""
    return [c for c in tree.find_all(exp.Column) if not c.table]


def _inlined_size(tree: exp.Expr, sizes: Mapping[str, tuple[int, int]]) -> tuple[int, int]:
    """(nodes, depth) of ``tree`` once the earlier columns in ``sizes`` are inlined into it,
    computed without building it: each column may use the ones above it twice, so the
    written-out expression can double with every column."""
    nodes, deepest = 0, 0
    stack: list[tuple[exp.Expr, int]] = [(tree, 1)]
    while stack:
        node, d = stack.pop()
        if isinstance(node, exp.Column) and not node.table and node.name in sizes:
            n, below = sizes[node.name]
            nodes += n + 1  # the bracket around it
            deepest = max(deepest, d + below)
            continue
        nodes += 1
        deepest = max(deepest, d)
        stack += [(child, d + 1) for child in node.iter_expressions()]
    return nodes, deepest


def _bracketed(sql: str) -> str:
    """``sql`` in brackets unless it is a lone name (Spark reads ``WHERE (flag)`` as an
    alias list)."""
    return sql if re.fullmatch(r"\w+|`[^`]+`", sql) else f"({sql})"


def _identifier(name: str) -> exp.Column:
    """A column named ``name``, quoted as :func:`_q` quotes it."""
    return exp.Column(this=exp.Identifier(this=name, quoted=_q(name) != name))


def _earlier_windows(keys: tuple[str, ...], lookback_seconds: int) -> exp.Window:
    """``OVER`` the same key's windows that started in the ``lookback_seconds`` before
    this one (the current window excluded); ``this`` is a placeholder."""
    return exp.Window(
        this=exp.Anonymous(this="__agg__"),
        partition_by=[_identifier(k) for k in keys],
        order=exp.Order(
            expressions=[
                exp.Ordered(
                    this=exp.UnixSeconds(this=_identifier("window_start")), nulls_first=True
                )
            ]
        ),
        spec=exp.WindowSpec(
            kind="RANGE",
            start=exp.Literal.number(lookback_seconds),
            start_side="PRECEDING",
            end=exp.Literal.number(1),
            end_side="PRECEDING",
        ),
        over="OVER",
    )


def _over(aggregate: exp.Expr, over: exp.Window) -> exp.Expr:
    """``aggregate`` with the OVER clause of the window expression ``over``."""
    window = over.copy()
    window.set("this", aggregate)
    return window


class _Lowering:
    def __init__(self, spec: Spec, upstream: Mapping[str, Plan]) -> None:
        self.spec = spec
        self.upstream = upstream
        self.params = spec.param_map
        self.errors: list[SpecError] = []
        self.stages: list[Stage] = []
        self.view_prefix = spec.stem

    # -- helpers -------------------------------------------------------------------------
    def frag(self, sql: Sql, scope: Scope) -> exp.Expr | None:
        try:
            return check_fragment(sql.text, self.params, scope)
        except FragmentError as err:
            self.errors.append(fragment_error(self.spec, sql, err))
            return None

    def typed(
        self,
        tree: exp.Expr,
        sql: Sql,
        what: str,
        columns: Mapping[str, str],
        tables: Mapping[str, Mapping[str, str]] | None = None,
    ) -> str:
        """The Spark type of ``tree`` (the fragment ``sql``, named ``what``); when it
        cannot be inferred, an error at the fragment (and a placeholder type)."""
        try:
            return _infer_type(tree, columns, tables)
        except TypeUnknown as unknown:
            message = (
                f"cannot infer the type of {what}: {unknown}; "
                "give it one with CAST(... AS double|bigint|string|boolean|timestamp)"
            )
            self.errors.append(fragment_error(self.spec, sql, FragmentError(1, 1, message)))
            return _UNTYPED

    def err(self, path: tuple[str | int, ...], message: str, key: bool = False) -> None:
        self.errors.append(error_at(self.spec, path, message, key))

    def view(self, kind: str) -> str:
        return f"{self.view_prefix}__{kind}"

    def add(self, stage: Stage) -> None:
        self.stages.append(stage)

    def new_names(
        self, names: list[tuple[str, tuple[str | int, ...]]], existing: Mapping[str, str]
    ) -> None:
        for name, path in names:
            if name in existing:
                self.err(path, f"'{name}' is already a column here; choose another name", key=True)

    # -- source --------------------------------------------------------------------------
    def source(self) -> SourceSchema | None:
        s = self.spec.source
        if s.stream:
            return STREAMS[s.stream]
        if s.alerts:
            return ALERTS
        if s.detector:
            up = self.upstream.get(s.detector)
            if up is None:
                self.err(
                    ("source", "detector"),
                    f"detector {s.detector} was not found among the "
                    "specs being compiled or in the same folder",
                )
                return None
            return SourceSchema(
                up.output_table,
                dict(up.output_columns),
                "detected_at",
                up.id_column if up.id_column in dict(up.output_columns) else None,
            )
        ref = s.reference
        assert ref is not None
        problem = reserved_name_problem(ref.name, "reference")
        if problem:
            self.err(("source", "reference", "name"), problem)
        if self.spec.mode != "batch":
            self.err(
                ("source", "reference"),
                "a reference table is static: a spec that reads "
                "one as its source must have mode: batch (or enrich a stream with it)",
            )
        return SourceSchema(ref.name, dict(ref.columns), None, None)

    # -- lowering ------------------------------------------------------------------------
    def lower(self) -> Plan:
        spec = self.spec
        src = self.source()
        if src is None:
            raise SpecErrors(self.errors)
        columns: dict[str, str] = dict(src.columns)
        current = src.view
        time_col = spec.window.time if spec.window and spec.window.time else src.time_column
        if spec.window and time_col is None:
            self.err(("window",), "this source has no event time: windows need window.time")
        watermark = spec.window.watermark.seconds if spec.window else 0

        # input: the source rows this detector reads
        where = None
        if spec.source.alerts:
            mods = ", ".join(f"'{m}'" for m in spec.source.alerts)
            where = f"module_id IN ({mods})"
        self.add(
            Stage(
                StageKind.INPUT,
                self.view("input"),
                (current,),
                _select([_q(c) for c in columns], current, where=where),
                f"rows of {current}"
                + (f" from {', '.join(spec.source.alerts)}" if spec.source.alerts else ""),
                "stateless" if time_col else "static",
                tuple(columns.items()),
            )
        )
        current = self.view("input")

        # enrich: stream-static left joins with reference tables
        for i, en in enumerate(spec.enrich):
            problem = reserved_name_problem(en.reference.name, "reference")
            if problem:
                self.err(("enrich", i, "reference", "name"), problem)
            ref_cols = dict(en.reference.columns)
            scope = Scope(columns, tables={en.reference.name: ref_cols}, what=f"enrich[{i}]")
            on = self.frag(en.on, scope)
            new_items = []
            self.new_names([(n, ("enrich", i, "columns", n)) for n, _ in en.columns], columns)
            added: dict[str, str] = {}
            for name, sql in en.columns:
                tree = self.frag(sql, scope)
                if tree is not None:
                    new_items.append(f"{to_sql(_qualify(tree, 'src', columns))} AS {_q(name)}")
                    added[name] = self.typed(
                        tree, sql, f"enrich[{i}].{name}", columns, {en.reference.name: ref_cols}
                    )
            if on is None:
                continue
            items = [f"src.{_q(c)}" for c in columns] + new_items
            join = [
                f"LEFT JOIN {en.reference.name}",
                f"{_INDENT}ON {to_sql(_qualify(on, 'src', columns))}",
            ]
            view = self.view(f"enrich_{en.reference.name}")
            columns = {**columns, **added}
            self.add(
                Stage(
                    StageKind.ENRICH,
                    view,
                    (current, en.reference.name),
                    _select(items, f"{current} AS src", joins=join),
                    f"left join with reference {en.reference.name}",
                    f"stream-static join; {en.reference.name} reloaded {en.reference.refresh}",
                    tuple(columns.items()),
                )
            )
            current = view

        # lookups (batch): last value of another source at or before a time
        for lk in spec.lookups:
            other = STREAMS[lk.source]
            at = ("lookups", lk.name)
            if lk.value not in other.columns:
                self.err((*at, "value"), f"unknown column '{lk.value}' of {lk.source}")
                continue
            self.new_names([(lk.name, at)], columns)
            if lk.within.seconds > MAX_LOOKUP_WITHIN_SECONDS:
                self.err(
                    (*at, "within"),
                    f"lookups.{lk.name}.within may be at most "
                    f"{MAX_LOOKUP_WITHIN_SECONDS // 3600} hours (its cost grows with the "
                    "rows inside it)",
                )
            scope = Scope(columns, what=f"lookups.{lk.name}")
            at_tree = self.frag(lk.at, scope)
            conds = []
            for col, sql in lk.match:
                if col not in other.columns:
                    self.err(
                        (*at, "match", col), f"unknown column '{col}' of {lk.source}", key=True
                    )
                    continue
                tree = self.frag(sql, scope)
                if tree is not None:
                    conds.append(f"lk.{_q(col)} = {to_sql(_qualify(tree, 'src', columns))}")
            if at_tree is None or src.id_column is None:
                if src.id_column is None:
                    self.err(at, "lookups need a source whose rows have an id")
                continue
            at_sql = to_sql(_qualify(at_tree, "src", columns))
            tcol = other.time_column
            conds += [
                f"lk.{_q(tcol or '')} <= {at_sql}",
                f"lk.{_q(tcol or '')} > {at_sql} - INTERVAL {lk.within.seconds} SECONDS",
            ]
            inner = _select(
                [f"src.{_q(c)}" for c in columns]
                + [
                    f"lk.{_q(lk.value)} AS {_q(lk.name)}",
                    f"ROW_NUMBER() OVER (PARTITION BY src.{_q(src.id_column)} "
                    f"ORDER BY lk.{_q(tcol or '')} DESC) AS __lookup_rank",
                ],
                f"{current} AS src",
                joins=[f"LEFT JOIN {other.view} AS lk", f"{_INDENT}ON " + "\n  AND ".join(conds)],
            )
            columns = {**columns, lk.name: other.columns[lk.value]}
            view = self.view(f"lookup_{lk.name}")
            body = "\n".join(_INDENT + line for line in inner.splitlines())
            lookup_sql = _select(
                [_q(c) for c in columns], f"(\n{body}\n)", where="__lookup_rank = 1"
            )
            self.add(
                Stage(
                    StageKind.LOOKUP,
                    view,
                    (current, other.view),
                    lookup_sql,
                    f"as-of lookup of {lk.source}.{lk.value} at {lk.at.text}",
                    "batch only",
                    tuple(columns.items()),
                )
            )
            current = view

        # prepare: row-level columns before the filter and the window
        current, columns = self.row_stage(
            StageKind.PREPARE,
            spec.prepare,
            current,
            columns,
            "row-level columns computed before the filter and the window",
        )
        if time_col is not None and time_col not in columns:
            self.err(("window", "time"), f"unknown time column '{time_col}'")

        # filter
        if spec.filter:
            tree = self.frag(spec.filter, Scope(columns, what="filter"))
            if tree is not None:
                view = self.view("filter")
                self.add(
                    Stage(
                        StageKind.FILTER,
                        view,
                        (current,),
                        _select([_q(c) for c in columns], current, where=to_sql(tree)),
                        "rows where the filter holds",
                        "stateless",
                        tuple(columns.items()),
                    )
                )
                current = view

        event_view = current
        if spec.window and time_col:
            self.stages[-1] = replace(
                self.stages[-1],
                streaming=f"{self.stages[-1].streaming}; the runtime sets the watermark on "
                f"{time_col} ({spec.window.watermark.text}) on these rows",
            )
        window_plan = None
        keys: tuple[str, ...] = spec.group_by
        if spec.window:
            current, columns, window_plan = self.aggregate(current, columns, time_col or "")
            if spec.baseline and window_plan:
                current, columns = self.baseline(current, columns, window_plan)
                window_plan = replace(
                    window_plan, baseline_lookback_seconds=spec.baseline.lookback.seconds
                )
        elif spec.aggregate:
            self.err(("aggregate",), "aggregate: needs a window:", key=True)

        # derive: row-level columns after the window (or of each row)
        current, columns = self.row_stage(
            StageKind.DERIVE, spec.derive, current, columns, "row-level derived columns"
        )

        # detected_at: the event time at which a row's condition holds
        detected = "window_end" if spec.window else (time_col or "")
        rules, alert_sql = self.alerts(current, columns, detected, keys)
        self.add(
            Stage(
                StageKind.ALERTS,
                self.view("alerts"),
                (current,),
                alert_sql,
                "base alert records, one per rule that holds",
                "stateless; written through the shared alert sink (idempotent by alert_id)",
                tuple(ALERT_FIELDS.items()),
            )
        )

        # output table rows
        out_cols = dict(columns)
        out_items = [_q(c) for c in columns]
        if "detected_at" not in out_cols and detected:
            out_items.append(f"{_q(detected)} AS detected_at")
            out_cols["detected_at"] = "timestamp"
        where = None
        if spec.output.rows == "alerted" and rules:
            where = " OR ".join(_bracketed(r.when_sql) for r in rules)
        problem = reserved_name_problem(spec.output.table, "output table")
        if problem:
            self.err(("output", "table"), problem)
        for i, part in enumerate(spec.output.partition_by):
            col = part.split("(")[-1].rstrip(")")
            if col not in out_cols:
                self.err(
                    ("output", "partition_by", i),
                    f"unknown column '{col}' in partition_by"
                    " (output columns: " + ", ".join(out_cols) + ")",
                )
        self.add(
            Stage(
                StageKind.OUTPUT,
                self.view("output"),
                (current,),
                _select(out_items, current, where=where),
                f"rows for lake table {spec.output.table}"
                + (" (alerted rows only)" if where else ""),
                "stateless; appended to the lake table",
                tuple(out_cols.items()),
            )
        )

        if self.errors:
            raise SpecErrors(self.errors)
        depends = (spec.source.detector,) if spec.source.detector else spec.source.alerts
        return Plan(
            module=spec.module,
            name=spec.name,
            title=spec.title,
            description=spec.description,
            spec_path=spec.path,
            tier=spec.tier,
            mode=spec.mode,
            schedule=spec.schedule,
            params=spec.params,
            source_kind=spec.source.kind,
            source_view=src.view,
            source_modules=spec.source.alerts,
            time_column=time_col or "",
            id_column=src.id_column,
            watermark_seconds=watermark,
            event_view=event_view,
            window=window_plan,
            stages=tuple(self.stages),
            alert_rules=tuple(rules),
            output_table=spec.output.table,
            output_partition_by=spec.output.partition_by,
            output_rows=spec.output.rows,
            depends_on=tuple(d for d in depends if d),
            references=tuple(
                (r.name, r.path, r.format, r.columns)
                for r in [e.reference for e in spec.enrich]
                + ([spec.source.reference] if spec.source.reference else [])
            ),
            spec_version=spec_version(spec),
        )

    def row_stage(
        self,
        kind: StageKind,
        entries: tuple[tuple[str, Sql], ...],
        current: str,
        columns: dict[str, str],
        note: str,
    ) -> tuple[str, dict[str, str]]:
        """A SELECT adding named row-level expressions; each may use the ones above it."""
        if not entries:
            return current, columns
        derived: dict[str, exp.Expr] = {}
        out = dict(columns)
        failed: set[str] = set()
        sizes: dict[str, tuple[int, int]] = {}  # (nodes, depth) of each, inlined
        items = [_q(c) for c in columns]
        for name, sql in entries:
            self.new_names([(name, (kind, name))], columns)
            scope = Scope(out, what=f"{kind}.{name}")
            tree = self.frag(sql, scope)
            if tree is None or any(c.name in failed for c in _own_columns(tree)):
                failed.add(name)  # reported already: no second error about its type
                derived[name] = exp.Null()
                out[name] = _UNTYPED
                continue
            size, depth = _inlined_size(tree, sizes)
            if size > MAX_EXPRESSION_NODES or depth > MAX_EXPRESSION_DEPTH:
                self.err(
                    (kind, name),
                    f"{kind}.{name} is too large once the {kind} columns it uses are "
                    f"written out ({size} nodes, {depth} levels; at most "
                    f"{MAX_EXPRESSION_NODES} and {MAX_EXPRESSION_DEPTH})",
                )
                failed.add(name)
                derived[name] = exp.Null()
                out[name] = _UNTYPED
                sizes[name] = (1, 1)
                continue
            sizes[name] = (size, depth)
            tree = tree.transform(
                lambda n: (
                    exp.Paren(this=derived[n.name].copy())
                    if isinstance(n, exp.Column) and not n.table and n.name in derived
                    else n
                ),
                copy=True,
            )
            derived[name] = tree
            out[name] = self.typed(tree, sql, f"{kind}.{name}", columns)
            items.append(f"{to_sql(tree)} AS {_q(name)}")
        view = self.view(kind)
        self.add(
            Stage(
                kind,
                view,
                (current,),
                _select(items, current),
                note,
                "stateless",
                tuple(out.items()),
            )
        )
        return view, out

    def aggregate(
        self, current: str, columns: dict[str, str], time_col: str
    ) -> tuple[str, dict[str, str], WindowPlan | None]:
        spec = self.spec
        w = spec.window
        assert w is not None
        for i, k in enumerate(spec.group_by):
            if k not in columns:
                from ctc.compiler.expressions import _suggest

                self.err(
                    ("group_by", i),
                    f"unknown column '{k}' in group_by{_suggest(k, sorted(columns))}",
                )
        slide = w.slide or w.size
        wp = WindowPlan(
            w.type,
            w.size.seconds,
            slide.seconds,
            w.watermark.seconds,
            time_col,
            w.size.text,
            w.watermark.text,
        )
        out: dict[str, str] = {"window_start": "timestamp", "window_end": "timestamp"}
        out.update({k: columns.get(k, "string") for k in spec.group_by})
        self.new_names([(n, ("aggregate", n)) for n, _ in spec.aggregate], out)
        items = ["window.start AS window_start", "window.end AS window_end"]
        items += [_q(k) for k in spec.group_by]
        scope = Scope(
            columns, aggregates=True, group_columns=frozenset(spec.group_by), what="aggregate"
        )
        for name, sql in spec.aggregate:
            tree = self.frag(sql, scope)
            out[name] = (
                self.typed(tree, sql, f"aggregate.{name}", columns)
                if tree is not None
                else _UNTYPED
            )
            if tree is not None:
                items.append(f"{to_sql(tree)} AS {_q(name)}")
        win = f"WINDOW({_q(time_col)}, '{w.size.spark}'" + (
            f", '{slide.spark}')" if w.slide else ")"
        )
        view = self.view("aggregate")
        open_windows = -(-(w.size.seconds + w.watermark.seconds) // slide.seconds)
        per_event = w.size.seconds // slide.seconds
        if per_event > MAX_WINDOWS_PER_EVENT:
            self.err(
                ("window", "slide"),
                f"each event would fall into {per_event} sliding windows "
                f"(size / slide); at most {MAX_WINDOWS_PER_EVENT} are allowed",
            )
        elif open_windows > MAX_WINDOWS_PER_KEY:
            self.err(
                ("window", "watermark"),
                f"each key would keep {open_windows} open windows "
                f"((size + watermark) / slide); at most {MAX_WINDOWS_PER_KEY} are allowed",
            )
        self.add(
            Stage(
                StageKind.AGGREGATE,
                view,
                (current,),
                _select(items, current, group_by=[_q(k) for k in spec.group_by] + [win]),
                f"{w.type} {w.size.text} windows per {', '.join(spec.group_by) or 'all rows'}",
                "stateful window aggregation, output mode append: each window is emitted once, "
                f"when the watermark ({w.watermark.text}) passes its end",
                tuple(out.items()),
                StateBound(
                    "open windows",
                    open_windows,
                    spec.group_by,
                    w.size.seconds + w.watermark.seconds,
                ),
            )
        )
        return view, out, wp

    def baseline(
        self, current: str, columns: dict[str, str], wp: WindowPlan
    ) -> tuple[str, dict[str, str]]:
        spec = self.spec
        b = spec.baseline
        assert b is not None
        scope = Scope(columns, aggregates=True, baseline=True, what="baseline.stats")
        self.new_names([(n, ("baseline", "stats", n)) for n, _ in b.stats], columns)
        over = _earlier_windows(spec.group_by, b.lookback.seconds)
        items = [_q(c) for c in columns]
        out = dict(columns)
        from ctc.compiler.functions import is_aggregate

        for name, sql in b.stats:
            tree = self.frag(sql, scope)
            out[name] = (
                self.typed(tree, sql, f"baseline.stats.{name}", columns)
                if tree is not None
                else _UNTYPED
            )
            if tree is None:
                continue
            # each aggregate becomes a window function over the key's earlier windows
            # (built as a tree: a bracket in a string literal cannot unbalance it)
            text = to_sql(
                tree.transform(
                    lambda n: _over(n.copy(), over) if is_aggregate(n) else n,
                    copy=True,
                )
            )
            items.append(f"{text} AS {_q(name)}")
        view = self.view("baseline")
        per_key = -(-b.lookback.seconds // wp.slide_seconds)
        if per_key > MAX_WINDOWS_PER_KEY:
            self.err(
                ("baseline", "lookback"),
                f"the baseline would keep {per_key} earlier windows per key "
                f"(lookback / slide); at most {MAX_WINDOWS_PER_KEY} are allowed",
            )
        self.add(
            Stage(
                StageKind.BASELINE,
                view,
                (current,),
                _select(items, current),
                f"statistics of the same key's windows that started in the {b.lookback.text} "
                "before this one (the current window excluded)",
                "stateful: the runtime keeps each key's closed windows of the last "
                f"{b.lookback.text} and runs this SELECT over them plus the newly closed ones",
                tuple(out.items()),
                StateBound(
                    "closed windows", per_key, spec.group_by, b.lookback.seconds + wp.size_seconds
                ),
            )
        )
        return view, out

    def alerts(
        self, current: str, columns: dict[str, str], detected: str, keys: tuple[str, ...]
    ) -> tuple[list[AlertRulePlan], str]:
        spec = self.spec
        selects: list[str] = []
        rules: list[AlertRulePlan] = []
        seen_types: set[str] = set()
        for i, rule in enumerate(spec.alerts):
            at = rule.path
            if rule.type in seen_types:
                self.err((*at, "type"), f"alert type '{rule.type}' is raised by two rules")
            seen_types.add(rule.type)
            scope = Scope(columns, what=f"alerts[{i}]")
            when = self.frag(rule.when, scope)
            bands: list[tuple[str, str | None]] = []
            for j, band in enumerate(rule.severity):
                bw = self.frag(band.when, scope) if band.when else None
                bands.append((band.level, to_sql(bw) if bw is not None else None))
                if band.when and bw is None:
                    continue
                _ = j
            symbol = self.frag(rule.symbol, scope) if rule.symbol else None
            if rule.symbol is None and "symbol" not in columns:
                self.err(at, "these rows have no 'symbol' column: set the alert's symbol:")
            exchange = self.frag(rule.exchange, scope) if rule.exchange else None
            key = (
                rule.key
                if rule.key is not None
                else (
                    keys
                    if spec.window
                    else tuple(k for k in ("symbol", "exchange") if k in columns)
                )
            )
            for k in key:
                if k not in columns:
                    self.err((*at, "key"), f"unknown column '{k}' in key")
            for n, d in enumerate(rule.details):
                if d not in columns:
                    from ctc.compiler.expressions import _suggest

                    self.err(
                        (*at, "details", n),
                        f"unknown column '{d}' in details{_suggest(d, sorted(columns))}",
                    )
            try:
                message = compile_template(rule.message.text, columns, self.params)
            except FragmentError as err:
                self.errors.append(fragment_error(spec, rule.message, err))
                message = None
            if when is None or message is None:
                continue
            anchor = (
                f"CAST(UNIX_MILLIS({_q('window_start')}) AS STRING)"
                if spec.window
                else f"CAST({_q(self.id_column() or '')} AS STRING)"
            )
            parts = [f"'{spec.module}'", f"'{rule.type}'"]
            parts += [f"CAST({_q(k)} AS STRING)" for k in key] + [anchor]
            case = (
                "CASE "
                + " ".join(f"WHEN {w} THEN '{lvl}'" for lvl, w in bands if w is not None)
                + f" ELSE '{bands[-1][0]}' END"
                if len(bands) > 1
                else f"'{bands[-1][0]}'"
            )
            exch_sql = (
                to_sql(exchange)
                if exchange is not None
                else (
                    "exchange"
                    if "exchange" in columns and "exchange" in key
                    else "CAST(NULL AS STRING)"
                )
            )
            detail_items = ", ".join(f"'{d}', {_q(d)}" for d in rule.details)
            items = [
                f"SHA2(CONCAT_WS('|', {', '.join(parts)}), 256) AS alert_id",
                f"'{rule.type}' AS alert_type",
                f"'{spec.module}' AS module_id",
                f"{to_sql(symbol) if symbol is not None else 'symbol'} AS symbol",
                f"{exch_sql} AS exchange",
                f"{case} AS severity",
                f"{_q(detected)} AS detected_at",
                f"{to_sql(message)} AS message",
                f"UNIX_SECONDS({_q(detected)}) + {ALERT_TTL_SECONDS} AS ttl_epoch",
                f"TO_JSON(NAMED_STRUCT({detail_items})) AS details"
                if rule.details
                else "'{}' AS details",
            ]
            selects.append(_select(items, current, where=to_sql(when)))
            rules.append(
                AlertRulePlan(
                    rule.type,
                    " ".join(rule.when.text.split()),
                    to_sql(when),
                    tuple(bands),
                    tuple(" ".join(b.when.text.split()) if b.when else None for b in rule.severity),
                    rule.message.text,
                    to_sql(message),
                    rule.details,
                    key,
                    "window_start (epoch ms)" if spec.window else (self.id_column() or ""),
                    detected,
                )
            )
        return rules, "\nUNION ALL\n".join(selects)

    def id_column(self) -> str | None:
        s = self.spec.source
        if s.stream:
            return STREAMS[s.stream].id_column
        if s.alerts:
            return ALERTS.id_column
        if s.detector and s.detector in self.upstream:
            return self.upstream[s.detector].id_column
        return None


def lower(spec: Spec, upstream: Mapping[str, Plan] | None = None) -> Plan:
    """Compile one spec to a Plan; ``upstream`` holds the Plans of detectors it reads.
    The plan carries what the spec publishes (ctc.compiler.publish)."""
    return with_publish(spec, _Lowering(spec, upstream or {}).lower())
