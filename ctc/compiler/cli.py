"""``ctc validate`` and ``ctc compile``: specs checked and compiled, no JVM started."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import click

from ctc.cli_errors import reports_errors
from ctc.cli_options import spec_paths_argument
from ctc.plural import plural


@click.command("validate")
@spec_paths_argument
@reports_errors
def validate_command(paths: Sequence[Path]) -> None:
    """Check specs (files or folders): YAML, JSON Schema, SQL, columns, functions.

    Starts no JVM. Prints one line per problem as path:line:col: message.
    """
    from ctc.compiler import compile_paths

    plans = compile_paths(list(paths))
    for p in plans:
        click.echo(f"ok  {p.module} {p.name}  ({p.spec_path})")
    click.echo(f"{plural(len(plans), 'spec')} valid")


@click.command("compile")
@spec_paths_argument
@click.option("--explain", is_flag=True, help="Describe each plan for a person.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write one SQL file per detector into this folder, named after the spec's "
    "name: field, not its file: detectors/whale.yaml gives whale-detector.sql.",
)
@reports_errors
def compile_command(paths: Sequence[Path], explain: bool, out_dir: Path | None) -> None:
    """Compile specs to Spark SQL plans (no JVM is started).

    Prints the SQL of every stage, or with --explain a readable account of the
    plan: source, stages and their SQL, window and watermark, state and its bound,
    alert rules with severity bands and params, message template, sinks. With --out
    it writes the SQL files instead of printing the SQL (--explain still prints).
    """
    from ctc.compiler import compile_paths
    from ctc.compiler.explain import explain as render

    plans = compile_paths(list(paths))
    if out_dir:
        out_dir.mkdir(parents=True, exist_ok=True)
        for p in plans:
            target = out_dir / f"{p.name}.sql"
            target.write_text(p.sql_script(), encoding="utf-8")
            click.echo(f"wrote {target}", err=True)
    if explain:
        click.echo("\n".join(render(p) for p in plans), nl=False)
    elif not out_dir:
        click.echo("\n".join(p.sql_script() for p in plans), nl=False)
