"""The detector spec language: JSON Schema, YAML loading with positions, typed model, errors."""

from ctc.dsl.errors import Position, SpecError, SpecErrors
from ctc.dsl.load import load_spec, load_specs
from ctc.dsl.model import Spec

__all__ = ["Position", "Spec", "SpecError", "SpecErrors", "load_spec", "load_specs"]
