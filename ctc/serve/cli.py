"""``ctc serve``: the API and the dashboard on a local HTTP server.

Registered by ctc.cli: ``main.add_command(serve_command)``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--store",
    "store_url",
    default="sqlite:///var/ctc/alerts.db",
    show_default=True,
    envvar="CTC_STORE_URL",
    help="Hot store: sqlite:///FILE or dynamodb://PREFIX?region=R (env CTC_STORE_URL).",
)
@click.option(
    "--static",
    "static_dir",
    default=None,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of the built dashboard [default: the one shipped in ctc/serve/static].",
)
@click.option("--app", default="ctc", show_default=True, help="Runtime status entry to report.")
@click.option("--quiet", is_flag=True, help="No access log.")
def serve_command(
    host: str, port: int, store_url: str, static_dir: Path | None, app: str, quiet: bool
) -> None:
    """Serve the read API (/api/alerts, /api/metrics/SYMBOL, /api/health, /api/series/...,
    also at the bare paths) and the dashboard at / from one hot store.

    The API is described at /api/openapi.json (docs/api.md). Stop with Ctrl-C.
    """
    from ctc.serve.server import STATIC_DIR, make_server
    from ctc.sinks.stores.factory import open_store

    try:
        store = open_store(store_url)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--store") from exc
    try:
        server = make_server(
            store, host, port, static_dir=static_dir or STATIC_DIR, app=app, quiet=quiet
        )
    except OSError as exc:
        click.echo(f"ctc: error: cannot listen on {host}:{port}: {exc}", err=True)
        sys.exit(1)
    bound_host, bound_port = str(server.server_address[0]), int(server.server_address[1])
    click.echo(
        f"ctc serve: http://{bound_host}:{bound_port}/ (API /api/alerts, store {store_url})",
        err=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("ctc serve: stopping", err=True)
    finally:
        server.server_close()
        store.close()
