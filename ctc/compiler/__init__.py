"""Spec → Plan: sqlglot-checked SQL fragments lowered to Spark SQL stages."""

from ctc.compiler.lower import lower
from ctc.compiler.plan import Plan, Stage
from ctc.compiler.project import compile_paths, compile_specs

__all__ = ["Plan", "Stage", "compile_paths", "compile_specs", "lower"]
