"""Alert provenance: each alert is stamped with the version of the detector that raised it.

The one place both paths go through: the back-test stamps the alerts it collects
(:mod:`ctc.runtime.backtest`), the streaming sink the alerts it publishes to the hot store
and the lake (:mod:`ctc.runtime.publish`). The compiled SQL does not carry it, so the
alert stream that chained detectors read is the base record alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pyarrow as pa

from ctc import __version__
from ctc.compiler.plan import Plan
from ctc.events import PROVENANCE_FIELDS


def provenance(plan: Plan) -> dict[str, str]:
    """The provenance fields (``ctc.events.PROVENANCE_FIELDS``) of ``plan``'s alerts."""
    return {"spec_version": plan.spec_version, "ctc_version": __version__}


class Provenance:
    """The provenance of the alerts of a set of plans, by module."""

    def __init__(self, plans: Iterable[Plan]) -> None:
        """Provenance of the alerts of ``plans`` (an alert of another module gets None)."""
        self.by_module = {p.module: provenance(p) for p in plans}

    def of(self, module: str | None) -> dict[str, str | None]:
        """The provenance fields of an alert of ``module``."""
        found = self.by_module.get(module or "")
        return dict(found) if found else dict.fromkeys(PROVENANCE_FIELDS)

    def stamp(self, alerts: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """The alert records with their provenance fields set."""
        return [{**a, **self.of(a.get("module_id"))} for a in alerts]

    def stamp_table(self, alerts: pa.Table) -> pa.Table:
        """An Arrow table of alerts with a column per provenance field (by ``module_id``)."""
        modules = alerts.column("module_id").to_pylist()
        fields = [self.of(m) for m in modules]
        out = alerts
        for name in PROVENANCE_FIELDS:
            values = pa.array([f[name] for f in fields], type=pa.string())
            if name in out.column_names:
                out = out.set_column(out.column_names.index(name), name, values)
            else:
                out = out.append_column(name, values)
        return out
