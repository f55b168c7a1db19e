"""``ctc labels load``: the known-wallet labels table of the detectors folder
(:mod:`ctc.ingest.known_wallets`, docs/ingest.md "Known-wallet labels")."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import click

from ctc.cli_errors import fail, reports_errors
from ctc.cli_options import detectors_option
from ctc.ingest.known_wallets import KNOWN_WALLETS, SHARED_SOURCES, load_labels, shared_sources


@click.group("labels")
def labels_command() -> None:
    """Known-wallet labels (MOD-005, MOD-008, MOD-004): load the label sets."""


@labels_command.command("load")
@click.argument("sources", nargs=-1, type=click.Path(exists=True, path_type=Path))
@detectors_option("The detectors folder; the table goes to DETECTORS/" + KNOWN_WALLETS + ".")
@click.option(
    "--real",
    "real_dir",
    default="../shared/data/real",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the real label sets are, when no SOURCES are given: "
    + " and ".join(SHARED_SOURCES)
    + " inside it.",
)
@click.option(
    "--seed-only",
    is_flag=True,
    help="Write the hand-kept list (DETECTORS/reference/labels.csv) alone.",
)
@reports_errors
def load_command(
    sources: Sequence[Path], detectors_dir: Path, real_dir: Path, seed_only: bool
) -> None:
    """Merge the hand-kept list and label sets (SOURCES: Etherscan JSON or label CSV files,
    or folders of them) into DETECTORS/reference/labels/known_wallets.csv, one row per
    address (git-ignored: never committed). Without SOURCES, the real sets of --real.
    """
    chosen = list(sources)
    if not chosen and not seed_only:
        chosen = shared_sources(real_dir)
        if not chosen:
            fail(
                f"no label sets in {real_dir} ({', '.join(SHARED_SOURCES)}): give label files "
                "or folders, or --seed-only for the hand-kept list alone"
            )
    result = load_labels(detectors_dir, [] if seed_only else chosen)
    click.echo(result.summary())
