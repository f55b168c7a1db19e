"""``ctc --help``: every command with its one-line summary and an example."""

from __future__ import annotations

from typing import Final

import click

#: One example of each command, in the order a newcomer meets them.
EXAMPLES: Final = {
    "validate": "ctc validate detectors/",
    "compile": "ctc compile --explain detectors/whale.yaml",
    "simulate": "ctc simulate --hours 3 --out var/trades.jsonl",
    "backtest": "ctc backtest detectors/ --input var/trades.jsonl",
    "test": "ctc test detectors/",
    "demo": "ctc demo --hours 1",
    "ingest": "ctc ingest --replay RECORDING.gz --sink landing:var/landing",
    "labels": "ctc labels load",
    "run": "ctc run --tier small --until-idle",
    "serve": "ctc serve --store sqlite:///var/ctc/alerts.db",
    "diff": "ctc diff origin/main --input var/trades.jsonl",
    "sweep": "ctc sweep detectors/whale.yaml --param whale_usd=50000:500000:10 "
    "--input var/trades.jsonl",
    "alert": "ctc alert ALERT_ID --input var/trades.jsonl",
    "deploy": "ctc deploy --outputs ctc-outputs.json --dry-run",
}


class CommandsWithExamples(click.Group):
    """A command group whose help lists each command with an example, in the order of
    :data:`EXAMPLES` (then any other command, with ``--help`` as its example)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """The commands, those with an example first, in the order of the examples."""
        names = super().list_commands(ctx)
        return [n for n in EXAMPLES if n in names] + [n for n in names if n not in EXAMPLES]

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Each command's summary, and below it an example."""
        rows: list[tuple[str, str]] = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is None or command.hidden:
                continue
            rows.append((name, command.get_short_help_str(limit=200)))
            rows.append(("", f"e.g. {EXAMPLES.get(name, f'ctc {name} --help')}"))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)
