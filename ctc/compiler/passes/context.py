"""What the lowering passes share: the spec, the stages built so far, the view the next
stage reads and its columns, and every problem found (all are reported together)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlglot import exp

from ctc.compiler.catalog import SourceSchema
from ctc.compiler.expressions import FragmentError, Scope, check_fragment
from ctc.compiler.fragments.infer_type import UNTYPED, TypeUnknown, infer_type
from ctc.compiler.fragments.positions import error_at, fragment_error
from ctc.compiler.plan import AlertRulePlan, LookupPlan, Plan, Stage, WindowPlan
from ctc.dsl.errors import SpecError
from ctc.dsl.model import ParamValue, Spec, Sql

#: A path into the spec's YAML, e.g. ``("alerts", 0, "when")``.
YamlPath = tuple[str | int, ...]


@dataclass
class LoweringContext:
    """The state the passes read and extend, in plan order (see ``ctc.compiler.passes``)."""

    spec: Spec
    #: the Plans of the detectors this spec reads (``source.detector``)
    upstream: Mapping[str, Plan]
    errors: list[SpecError] = field(default_factory=list)
    stages: list[Stage] = field(default_factory=list)
    #: the source's view and columns (the source pass)
    source: SourceSchema | None = None
    #: the event-time column (None: static rows) (the source pass)
    time_column: str | None = None
    #: the view the next stage reads, and its columns
    current: str = ""
    columns: dict[str, str] = field(default_factory=dict)
    #: the view whose rows carry the event time (the window pass)
    event_view: str = ""
    window: WindowPlan | None = None
    #: the column that becomes an alert's detected_at (the window pass)
    detected_at: str = ""
    #: the rows carry their window as window_start, window_end (the running pass expanded
    #: them into their windows): the aggregate groups by those columns
    window_columns: bool = False
    rules: list[AlertRulePlan] = field(default_factory=list)
    #: the as-of lookups (the lookup pass)
    lookups: list[LookupPlan] = field(default_factory=list)
    #: the event rows with their window's figures, which ``per: row`` rules read, and
    #: its columns ("": no such stage) (the window_rows pass)
    rows_view: str = ""
    row_columns: dict[str, str] = field(default_factory=dict)

    @property
    def params(self) -> Mapping[str, ParamValue]:
        """The spec's params by name."""
        return self.spec.param_map

    def frag(self, sql: Sql, scope: Scope) -> exp.Expr | None:
        """The checked fragment ``sql``, or None with its error recorded."""
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
            return infer_type(tree, columns, tables)
        except TypeUnknown as unknown:
            message = (
                f"cannot infer the type of {what}: {unknown}; "
                "give it one with CAST(... AS double|bigint|string|boolean|timestamp)"
            )
            self.errors.append(fragment_error(self.spec, sql, FragmentError(1, 1, message)))
            return UNTYPED

    def err(self, path: YamlPath, message: str, key: bool = False) -> None:
        """Record a problem at the YAML node (or its key) at ``path``."""
        self.errors.append(error_at(self.spec, path, message, key))

    def view(self, kind: str) -> str:
        """The name of this spec's view for a stage: ``<name>__<kind>``."""
        return f"{self.spec.stem}__{kind}"

    def add(self, stage: Stage) -> None:
        """Append ``stage`` to the plan, leaving what the next stage reads as it is."""
        self.stages.append(stage)

    def advance(self, stage: Stage) -> None:
        """Append ``stage``; the next stage reads its view and columns."""
        self.stages.append(stage)
        self.current = stage.view
        self.columns = dict(stage.columns)

    def new_names(self, names: list[tuple[str, YamlPath]], existing: Mapping[str, str]) -> None:
        """Record a problem for each new column whose name is already a column here."""
        for name, path in names:
            if name in existing:
                self.err(path, f"'{name}' is already a column here; choose another name", key=True)
