"""``ctc alert ALERT_ID``: one alert, the detector version that raised it, its window and
key, the stage SQL and (with --input) the window's input rows, recomputed."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import click

from ctc.cli_errors import fail, reports_errors
from ctc.cli_options import (
    DEFAULT_STORE_URL,
    cache_option,
    detectors_option,
    input_option,
    quality_option,
)
from ctc.review.origin import Origin
from ctc.review.versions import Version


@contextlib.contextmanager
def _version_of(origin: Origin) -> Iterator[tuple[Version, str]]:
    """The compiled version of the alert's spec that shows its SQL, and its label: the one
    that raised it when found, the working tree's otherwise."""
    from ctc.review.versions import open_version

    assert origin.spec_path is not None
    if origin.commit is not None:
        with open_version(origin.commit, [origin.spec_path]) as version:
            yield version, f"the version that raised it, commit {origin.commit[:12]}"
        return
    with open_version(None, [origin.spec_path]) as version:
        if origin.same:
            label = "the version that raised it, the working tree's"
        else:
            label = "the working tree's version, NOT the one that raised the alert"
        yield version, label


@click.command(
    "alert",
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="Examples:\n\n"
    "  ctc alert 3f5c…e1                              # from var/ctc/alerts.db\n\n"
    "  ctc alert 3f5c…e1 --input var/trades.jsonl     # with the window's input rows\n\n"
    "  ctc alert 3f5c…e1 --store dynamodb://ctc-prod?region=eu-west-1",
)
@click.argument("alert_id")
@click.option(
    "--store",
    "store_url",
    default=DEFAULT_STORE_URL,
    show_default=True,
    envvar="CTC_STORE_URL",
    help="Hot store: sqlite:///FILE or dynamodb://PREFIX?region=R (env CTC_STORE_URL).",
)
@detectors_option("The working tree's specs, where the alert's detector is looked up.")
@input_option(
    "Back-test the alert's window only over these trades (JSON lines, a file or a folder) "
    "and print the window's input rows.",
    required=False,
)
@click.option(
    "--rows",
    "max_rows",
    default=50,
    show_default=True,
    type=click.IntRange(1),
    help="Input rows printed at most.",
)
@quality_option("quality.yaml in the detectors folder")
@cache_option
@reports_errors
def alert_command(
    alert_id: str,
    store_url: str,
    detectors_dir: Path,
    input_path: Path | None,
    max_rows: int,
    quality: str | None,
    cache_dir: Path,
) -> None:
    """Explain one alert: the alert; the version of its detector spec that raised it, and
    whether the spec in the working tree still has that version (else the commit that
    has it, searched in the spec file's git history); the window and its key; the stage
    SQL of that version; and with --input the input rows of that window, recomputed by a
    back-test of that window only (with the history the detector reads before it).

    Exit status: 0, or 1 when the alert is not in the store or its spec is not found.
    """
    from ctc.review.alert_report import (
        alert_lines,
        rerun_lines,
        sql_lines,
        version_lines,
        window_lines,
    )
    from ctc.review.alert_window import window_of
    from ctc.review.origin import origin_of
    from ctc.sinks.stores.factory import open_store

    store = open_store(store_url)
    try:
        alert = store.get_alert(alert_id)
    finally:
        store.close()
    if alert is None:
        fail(f"no alert {alert_id} in {store_url}")
    module = str(alert.get("module_id"))
    origin = origin_of(module, alert.get("spec_version"), detectors_dir)
    out = [f"alert {alert_id}", *alert_lines(alert), "", "provenance:"]
    out += version_lines(origin, alert.get("ctc_version"))
    if origin.spec_path is None:
        click.echo("\n".join(out))
        fail(f"no spec of {module} in {detectors_dir}: its window and SQL are unknown")
    detected = datetime.fromisoformat(str(alert["detected_at"])).astimezone(UTC)
    with _version_of(origin) as (version, label):
        plan = version.plans[module]
        window = window_of(plan, alert, detected)
        out += ["", "window and key:", *window_lines(plan, window)]
        if input_path is not None:
            from ctc.progress import stderr_note
            from ctc.review.alert_window import rerun_window
            from ctc.runtime.quality_rules import rules_beside
            from ctc.runtime.spark import get_spark

            stderr_note("starting Spark for a back-test of the window")
            rerun = rerun_window(
                get_spark("ctc-alert"),
                version,
                plan,
                alert,
                window,
                input_path.resolve(),
                rules_beside(detectors_dir, quality),
                cache_dir,
                stderr_note,
            )
            out += [
                "",
                f"input of the window ({label}):",
                *rerun_lines(plan, alert, rerun, max_rows),
            ]
        out += ["", *sql_lines(plan, label)]
    click.echo("\n".join(out))
