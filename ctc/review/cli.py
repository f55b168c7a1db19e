"""``ctc diff``: review a detector change, as a person or a CI job reads it."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import click

from ctc.cli_errors import reports_errors_with
from ctc.cli_options import cache_option, input_option, quality_option

#: exit statuses, as diff(1) has them
SAME, DIFFERENT, TROUBLE = 0, 1, 2


def split_arguments(args: Sequence[str]) -> tuple[str, str | None, list[Path]]:
    """BASE, HEAD (None: the working tree) and PATHS from ``BASE [HEAD] [PATHS...]``.

    BASE a file or folder: HEAD is the second argument, and there are no PATHS. BASE a git
    ref: the second argument is HEAD when it is a ref and not a path on disk; every other
    argument is a path (``detectors`` when none is given).
    """
    from ctc.review.versions import is_git_ref

    if not args:
        raise click.UsageError("BASE is missing: a git ref, or a file or folder")
    base, rest = args[0], list(args[1:])
    if Path(base).exists():
        if len(rest) != 1:
            raise click.UsageError(
                f"{base} is a file or folder: give the other version as one file or folder"
            )
        return base, rest[0], []
    head = None
    if rest and not Path(rest[0]).exists() and is_git_ref(rest[0]):
        head = rest.pop(0)
    missing = [p for p in rest if not Path(p).exists()]
    if missing:
        raise click.UsageError(f"{missing[0]}: no such file or folder (nor a git ref)")
    return base, head, [Path(p) for p in rest] or [Path("detectors")]


@click.command(
    "diff",
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="Examples:\n\n"
    "  ctc diff origin/main                       # detectors/ in the working tree vs main\n\n"
    "  ctc diff --input var/trades.jsonl origin/main HEAD -- detectors/whale.yaml\n\n"
    "  (options go before --: after it, every word is a version or a path)\n\n"
    "  ctc diff old/whale.yaml new/whale.yaml --format markdown",
)
@click.argument("versions", nargs=-1, required=True)
@input_option(
    "Back-test both versions over these trades (JSON lines, a file or a folder) and "
    "report the alerts added, removed and changed.",
    required=False,
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "markdown", "json"]),
    default="text",
    show_default=True,
    help="text for a terminal, markdown for a pull-request comment, json for tools.",
)
@click.option(
    "--out",
    "out_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the review here instead of stdout.",
)
@quality_option("quality.yaml beside the working tree's specs")
@cache_option
@reports_errors_with(TROUBLE)
def diff_command(
    versions: Sequence[str],
    input_path: Path | None,
    fmt: str,
    out_file: Path | None,
    quality: str | None,
    cache_dir: Path,
) -> None:
    """Review a detector change: what changed, whether the running stream's state survives
    it, and (with --input) what it does to the alerts.

    VERSIONS is BASE [HEAD] [-- PATHS...]: git refs (HEAD defaults to the working tree;
    PATHS default to detectors/), or two files or folders. Each detector added, removed or
    changed is classified: breaking (it reaches the window, watermark, source or a stage
    whose state the stream keeps: a new checkpoint and a re-run are needed), non-breaking
    (only later stages: alerts change, the state stays valid) or cosmetic (no stage
    changes). Exit status: 0 no detector changed, 1 something changed, 2 an error.
    """
    from ctc.progress import stderr_note as stderr_progress
    from ctc.review.changes import compare_versions
    from ctc.review.render import RENDERERS
    from ctc.review.versions import open_version

    base, head, paths = split_arguments(versions)
    head_label = head or "working tree"
    with open_version(base, paths) as old, open_version(head, paths) as new:
        changes = compare_versions(old, new)
        impact = None
        if input_path is not None and any(c.classification != "cosmetic" for c in changes):
            from ctc.review.impact import measure
            from ctc.runtime.quality_rules import rules_beside
            from ctc.runtime.spark import get_spark

            # the same rules for both versions, from the working tree's side
            rules = rules_beside(Path(head) if head and Path(base).exists() else paths[0], quality)
            impact = measure(
                lambda: get_spark("ctc-diff"),
                changes,
                old,
                new,
                input_path.resolve(),
                rules,
                cache_dir,
                stderr_progress,
            )
    text = RENDERERS[fmt](changes, impact, base, head_label)
    if out_file:
        out_file.parent.mkdir(parents=True, exist_ok=True)
        out_file.write_text(text, encoding="utf-8")
        stderr_progress(f"wrote {out_file}")
    else:
        click.echo(text, nl=False)
    sys.exit(DIFFERENT if changes else SAME)


@click.command(
    "sweep",
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="Example:\n\n"
    "  ctc sweep detectors/whale.yaml --param whale_usd=50000:500000:10 "
    "--input var/trades.jsonl",
)
@click.argument("spec", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--param",
    "param_range",
    required=True,
    help="NAME=FROM:TO:STEPS: the param and the values to try (STEPS values, both ends "
    "included; the spec's current value is added).",
)
@input_option("Trades to back-test over (JSON lines, a file or a folder).")
@click.option(
    "--chart",
    "chart_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the chart here: .html (a self-contained page) or .svg "
    "[default: var/sweep-<detector>-<param>.html].",
)
@quality_option("quality.yaml beside the spec")
@cache_option
@reports_errors_with(1)
def sweep_command(
    spec: Path,
    param_range: str,
    input_path: Path,
    chart_path: Path | None,
    quality: str | None,
    cache_dir: Path,
) -> None:
    """Sweep one param of one detector and count its alerts per severity at each value.

    Answers "where should this threshold be?" on recorded or simulated trades: a table on
    stdout, and a chart (stacked bars per severity, the current value marked). A param that
    reaches only the alerts (a threshold, a severity band) is evaluated for every value in
    one pass over the detector's cached stages; one that reaches an earlier stage costs a
    back-test per value.
    """
    from ctc.progress import stderr_note
    from ctc.review.chart import html, svg
    from ctc.review.sweep import parse_range, sweep, table
    from ctc.review.versions import open_version
    from ctc.runtime.quality_rules import rules_beside
    from ctc.runtime.spark import get_spark

    with open_version(None, [spec]) as version:
        (module,) = version.selected
        name = param_range.partition("=")[0].strip()
        current = version.selected[module].param_map.get(name)
        if current is None:
            known = ", ".join(version.selected[module].param_map) or "none"
            raise click.UsageError(f"{spec} has no param {name!r} (its params: {known})")
        param, values = parse_range(param_range, current)
        rules = rules_beside(spec, quality)
        stderr_note("starting Spark")
        result = sweep(
            get_spark("ctc-sweep"),
            version,
            module,
            param,
            values,
            input_path.resolve(),
            rules,
            cache_dir,
            stderr_note,
        )
    text = table(result)
    click.echo(text, nl=False)
    out = chart_path or Path("var") / f"sweep-{result.name}-{param}.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(svg(result) if out.suffix == ".svg" else html(result, text), encoding="utf-8")
    stderr_note(f"chart: {out}")
