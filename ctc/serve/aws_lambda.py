"""AWS Lambda entry point (API Gateway proxy integration, REST v1 or HTTP API v2 events).

Handler setting: ``ctc.serve.aws_lambda.lambda_handler``. The store comes from the
environment: ``CTC_STORE_URL`` (e.g. ``dynamodb://ctc-prod?region=eu-west-1``), opened
once per container; ``CTC_APP`` names the runtime's status entry (default ``ctc``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from ctc.serve.handler import DEFAULT_APP, handle_json
from ctc.sinks.stores.base import AlertStore

_STORE: AlertStore | None = None


def _store() -> AlertStore:
    global _STORE
    if _STORE is None:
        from ctc.sinks.stores.factory import open_store

        url = os.environ.get("CTC_STORE_URL")
        if not url:
            raise RuntimeError("CTC_STORE_URL is not set (e.g. dynamodb://ctc-prod?region=...)")
        _STORE = open_store(url)
    return _STORE


def set_store(store: AlertStore | None) -> None:
    """Use ``store`` for the following invocations (tests); None re-reads the environment."""
    global _STORE
    _STORE = store


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def request_of(event: Mapping[str, Any]) -> tuple[str, str, dict[str, str]]:
    """``(method, path, query)`` of a REST (v1) or HTTP API (v2) proxy event; the last value
    of a repeated parameter wins (v1; v2 joins them with commas, taken as one value)."""
    ctx = event.get("requestContext")
    http = ctx.get("http") if isinstance(ctx, Mapping) else None
    method = _text(event.get("httpMethod")) or (
        _text(http.get("method")) if isinstance(http, Mapping) else ""
    )
    path = _text(event.get("rawPath")) or _text(event.get("path")) or "/"
    query: dict[str, str] = {}
    multi = event.get("multiValueQueryStringParameters")
    single = event.get("queryStringParameters")
    if isinstance(multi, Mapping):
        for key, values in multi.items():
            if isinstance(values, list) and values:
                query[str(key)] = _text(values[-1])
    elif isinstance(single, Mapping):
        for key, value in single.items():
            query[str(key)] = _text(value)  # v2 joins repeated values with commas
    return method or "GET", path, query


def lambda_handler(event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
    """Answer one API Gateway proxy event: ``{statusCode, headers, body, isBase64Encoded}``."""
    method, path, query = request_of(event if isinstance(event, Mapping) else {})
    app = os.environ.get("CTC_APP", DEFAULT_APP)
    status, headers, body = handle_json(method, path, query, _store(), app=app)
    text = b"" if method.upper() == "HEAD" else body
    return {
        "statusCode": status,
        "headers": headers,
        "body": text.decode("utf-8"),
        "isBase64Encoded": False,
    }
