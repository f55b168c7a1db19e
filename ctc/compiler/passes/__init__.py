"""The lowering of a spec to a plan, one pass per construct, in plan order.

Each pass reads and extends a shared :class:`~ctc.compiler.passes.context.LoweringContext`:
it adds its stage (or none, when the spec does not use its construct), records every
problem it finds, and leaves the view and columns the next pass reads. The driver,
:func:`ctc.compiler.lower.lower`, runs them in the order of :data:`PASSES` and builds the
Plan. Each pass has its fixtures (spec fragment → expected stage) in
``tests/compiler/passes/fixtures/<pass>/``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Final

from ctc.compiler.passes import (
    aggregate,
    alerts,
    baseline,
    derive,
    enrich,
    filter_rows,
    lookup,
    output,
    prepare,
    running,
    source,
    window,
    window_rows,
)
from ctc.compiler.passes.context import LoweringContext

Pass = Callable[[LoweringContext], None]

#: The passes by name, in the order they run (the order of the plan's stages).
PASSES: Final[Mapping[str, Pass]] = MappingProxyType(
    {
        "source": source.run,
        "enrich": enrich.run,
        "lookup": lookup.run,
        "prepare": prepare.run,
        "filter": filter_rows.run,
        "window": window.run,
        "running": running.run,
        "aggregate": aggregate.run,
        "baseline": baseline.run,
        "derive": derive.run,
        "window_rows": window_rows.run,
        "alerts": alerts.run,
        "output": output.run,
    }
)

__all__ = ["PASSES", "LoweringContext", "Pass"]
