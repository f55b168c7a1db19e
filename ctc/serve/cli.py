"""``ctc serve``: the API and the dashboard on a local HTTP server (gunicorn).

Registered by ctc.cli: ``main.add_command(serve_command)``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ctc.cli_options import DEFAULT_STORE_URL


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--store",
    "store_url",
    default=DEFAULT_STORE_URL,
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
@click.option(
    "--workers",
    default=2,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Server processes (one per core is right for SQLite).",
)
@click.option(
    "--threads",
    default=4,
    show_default=True,
    type=click.IntRange(1, 256),
    help="Request threads per process (more for a remote store such as DynamoDB).",
)
@click.option("--quiet", is_flag=True, help="No access log.")
def serve_command(
    host: str,
    port: int,
    store_url: str,
    static_dir: Path | None,
    app: str,
    workers: int,
    threads: int,
    quiet: bool,
) -> None:
    """Serve the read API (/api/alerts, /api/metrics/SYMBOL, /api/health, /api/series/...,
    /api/catalog, also at the bare paths) and the dashboard at / from one hot store.

    gunicorn runs WORKERS processes of THREADS threads (listen backlog 2048, keep-alive);
    answers carry an ETag and a repeated GET with If-None-Match gets 304. The API is
    described at /api/openapi.json (docs/api.md). Stop with Ctrl-C.
    """
    from ctc.serve.server import ServeOptions, listen_socket, serve
    from ctc.serve.static_files import STATIC_DIR
    from ctc.sinks.stores.factory import open_store

    try:  # opened once here to check the URL and create or migrate the tables; each
        open_store(store_url).close()  # worker opens its own after the fork
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--store") from exc
    try:
        sock = listen_socket(host, port)
    except OSError as exc:
        click.echo(f"ctc: error: cannot listen on {host}:{port}: {exc}", err=True)
        sys.exit(1)
    bound_host, bound_port = sock.getsockname()[:2]
    click.echo(
        f"ctc serve: http://{bound_host}:{bound_port}/ (API /api/alerts, store {store_url}, "
        f"{workers} workers x {threads} threads)",
        err=True,
    )
    options = ServeOptions(
        workers=workers, threads=threads, static_dir=static_dir or STATIC_DIR, app=app, quiet=quiet
    )
    serve(store_url, sock, options)
    click.echo("ctc serve: stopped", err=True)
