"""Options several ``ctc`` commands share, defined once: the spec paths, the detectors
folder, the back-tests' quality rules and gated-input cache."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

#: the hot store `ctc run` writes and `ctc serve` and `ctc alert` read by default
DEFAULT_STORE_URL = "sqlite:///var/ctc/alerts.db"

#: where back-tests keep the gated input (ctc/runtime/gated_cache.py)
DEFAULT_CACHE = Path("var/cache/gated")

cache_option = click.option(
    "--cache",
    "cache_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_CACHE,
    show_default=True,
    help="Keep the gated input here as Parquet, keyed by the content of the input and the "
    "quality rules; the next back-test of the same input reads it instead of the JSON.",
)


def quality_option(
    default: str = "quality.yaml beside the first spec",
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--quality``: a quality.yaml, or 'any'; ``default`` says where it is looked for."""
    return click.option(
        "--quality",
        default=None,
        help="Quality rules (a quality.yaml), or 'any' to accept every symbol and exchange "
        f"[default: {default}, else 'any'].",
    )


def input_option(
    help_text: str, required: bool = True
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--input``: the trades a back-test reads (JSON lines, a file or a folder)."""
    return click.option(
        "--input",
        "input_path",
        required=required,
        type=click.Path(exists=True, path_type=Path),
        help=help_text,
    )


#: ``PATHS...``: spec files or folders, at least one.
spec_paths_argument = click.argument(
    "paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path)
)


def detectors_option(
    help_text: str = "The detectors folder (specs, tiers/, quality.yaml).",
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--detectors``: a detectors folder (default ``detectors``); ``help_text`` says
    what the command does with it."""
    return click.option(
        "--detectors",
        "detectors_dir",
        default="detectors",
        show_default=True,
        type=click.Path(exists=True, file_okay=False, path_type=Path),
        help=help_text,
    )
