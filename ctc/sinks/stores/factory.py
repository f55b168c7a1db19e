"""Open a hot store from a URL, the one setting the runtime and the API share.

* ``sqlite:///var/ctc/alerts.db`` — a file relative to the working directory,
  ``sqlite:////abs/path/alerts.db`` an absolute one (the SQLAlchemy convention; folders
  are created), ``sqlite:///:memory:`` a private in-memory store.
* ``dynamodb://PREFIX?region=eu-west-1&endpoint_url=http://127.0.0.1:5000&create=true`` —
  tables ``PREFIX-alerts|market|status|windows|catalog``; ``create=true`` creates missing
  tables (local runs and tests; in AWS Terraform creates them).
"""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlsplit

from ctc.sinks.stores.base import AlertStore

_DYNAMO_PARAMS = {"region", "endpoint_url", "create"}
_TRUE = {"1", "true", "yes", "on"}


def open_store(url: str) -> AlertStore:
    """The store named by ``url`` (see the module docstring); ValueError if malformed."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        from ctc.sinks.stores.sqlite_store import SqliteAlertStore

        if parts.netloc or not parts.path.startswith("/") or parts.query:
            raise ValueError(
                f"expected sqlite:///relative/file.db or sqlite:////abs/file.db: {url}"
            )
        path = unquote(parts.path[1:])
        if not path:
            raise ValueError(f"no file in {url}")
        return SqliteAlertStore(path)
    if parts.scheme == "dynamodb":
        from ctc.sinks.stores.dynamodb_store import DynamoDBAlertStore

        prefix = parts.netloc
        if not prefix or parts.path not in ("", "/"):
            raise ValueError(f"expected dynamodb://TABLE_PREFIX?region=...: {url}")
        query = parse_qs(parts.query, strict_parsing=False)
        unknown = set(query) - _DYNAMO_PARAMS
        if unknown:
            raise ValueError(f"unknown parameters {sorted(unknown)} in {url}")
        params = {k: v[-1] for k, v in query.items()}
        store = DynamoDBAlertStore(
            prefix, region=params.get("region"), endpoint_url=params.get("endpoint_url")
        )
        if params.get("create", "").lower() in _TRUE:
            store.create_tables()
        return store
    raise ValueError(f"unknown store URL scheme {parts.scheme!r} (sqlite:// or dynamodb://): {url}")
