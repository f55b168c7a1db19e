"""Spec → Plan: sqlglot-checked SQL fragments lowered to Spark SQL stages.

The names below are imported on first use, so that reading the catalog
(:mod:`ctc.compiler.catalog`) or registering the ``ctc`` commands does not load sqlglot.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ctc.compiler.lower import lower
    from ctc.compiler.plan import Plan, Stage
    from ctc.compiler.project import compile_paths, compile_specs

__all__ = ["Plan", "Stage", "compile_paths", "compile_specs", "lower"]

_HOMES = {
    "lower": "ctc.compiler.lower",
    "Plan": "ctc.compiler.plan",
    "Stage": "ctc.compiler.plan",
    "compile_paths": "ctc.compiler.project",
    "compile_specs": "ctc.compiler.project",
}


def __getattr__(name: str) -> Any:
    """The public names, imported from their modules on first use."""
    if name not in _HOMES:
        raise AttributeError(f"module 'ctc.compiler' has no attribute {name!r}")
    return getattr(import_module(_HOMES[name]), name)
