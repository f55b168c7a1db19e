"""The local server of ``ctc serve``: the API (``/api/...`` and the bare paths) and the
built dashboard (``ctc/serve/static``) as one WSGI app, served by gunicorn (docs/adr/0010).

gunicorn runs ``workers`` processes of ``threads`` threads each (the ``gthread`` worker:
HTTP/1.1 keep-alive, idle connections wait in a poller, not in a thread) on one listening
socket with a backlog of 2048. Each worker opens its own store from the URL after the
fork (a SQLite connection must not cross a fork; WAL lets the processes read at once).
The listening socket is bound here, before gunicorn starts, so a busy port is a clean
error and port 0 works (``listen_socket``).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import quote

from gunicorn.app.base import BaseApplication

from ctc.serve.handler import DEFAULT_APP
from ctc.serve.site import Site
from ctc.serve.static_files import STATIC_DIR
from ctc.sinks.stores.factory import open_store

#: Pending connections the kernel queues before accept (the stdlib server kept 5).
BACKLOG = 2048
#: Seconds an idle keep-alive connection is kept (a dashboard polls every 10 s).
KEEPALIVE_SECONDS = 30

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def wsgi_app(site: Site) -> WsgiApp:
    """The WSGI callable answering every request from ``site``."""

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        status, headers, body = site.answer(
            method,
            request_target(environ),
            if_none_match=environ.get("HTTP_IF_NONE_MATCH"),
            accept_encoding=str(environ.get("HTTP_ACCEPT_ENCODING", "")),
        )
        fields = list(headers.items())
        bodiless = method == "HEAD" or status in (204, 304)
        if status not in (204, 304):
            fields.append(("Content-Length", str(len(body))))
        start_response(f"{status} {_phrase(status)}", fields)
        return [] if bodiless else [body]

    return app


def request_target(environ: dict[str, Any]) -> str:
    """The request's path and query as sent (percent-encoded): gunicorn's ``RAW_URI``, or
    ``PATH_INFO`` (decoded by the server) quoted again with ``QUERY_STRING``."""
    raw = environ.get("RAW_URI")
    if isinstance(raw, str) and raw.startswith("/"):
        return raw
    path = str(environ.get("PATH_INFO", "/")).encode("latin-1").decode("utf-8", "replace")
    query = environ.get("QUERY_STRING")
    return quote(path) + (f"?{query}" if query else "")


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def listen_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` (0: a free port) and listening with BACKLOG;
    OSError when the address cannot be used."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(BACKLOG)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


@dataclass
class ServeOptions:
    """How ``serve`` runs: processes, threads each, dashboard folder, app name, access log."""

    workers: int = 2
    threads: int = 4
    static_dir: Path | None = STATIC_DIR
    app: str = DEFAULT_APP
    quiet: bool = False


class _Gunicorn(BaseApplication):
    """gunicorn, configured in code; ``load`` runs in each worker after the fork."""

    def __init__(self, store_url: str, fd: int, options: ServeOptions) -> None:
        self.store_url, self.fd, self.options = store_url, fd, options
        super().__init__()

    def load_config(self) -> None:
        settings: dict[str, Any] = {
            "bind": [f"fd://{self.fd}"],
            "backlog": BACKLOG,
            "workers": self.options.workers,
            "threads": self.options.threads,
            "worker_class": "gthread",
            "keepalive": KEEPALIVE_SECONDS,
            # request lines up to gunicorn's 1 MB bound, not 4 KB: a too long parameter
            # is the handler's JSON 400 naming it, never an HTML 414
            "limit_request_line": 0,
            "accesslog": None if self.options.quiet else "-",
            "loglevel": "warning",
            "proc_name": "ctc-serve",
        }
        for key, value in settings.items():
            self.cfg.set(key, value)

    def load(self) -> WsgiApp:
        site = Site(open_store(self.store_url), self.options.static_dir, self.options.app)
        return wsgi_app(site)


def serve(store_url: str, sock: socket.socket, options: ServeOptions | None = None) -> None:
    """Serve ``store_url`` on the listening ``sock`` (gunicorn takes it over) until SIGINT
    or SIGTERM; returns in the master process once gunicorn has stopped its workers."""
    master = os.getpid()
    try:
        _Gunicorn(store_url, sock.detach(), options or ServeOptions()).run()
    except SystemExit as exc:  # gunicorn's master and workers leave by sys.exit
        if os.getpid() != master or exc.code not in (None, 0):
            raise
