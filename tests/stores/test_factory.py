"""open_store: the URL forms for SQLite and DynamoDB."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from store_helpers import make_alert

from ctc.sinks.stores.dynamodb_store import DynamoDBAlertStore
from ctc.sinks.stores.factory import open_store
from ctc.sinks.stores.sqlite_store import SqliteAlertStore


def test_sqlite_relative_and_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    rel = open_store("sqlite:///var/hot/alerts.db")
    assert isinstance(rel, SqliteAlertStore)
    assert (tmp_path / "var" / "hot" / "alerts.db").is_file()
    rel.close()
    target = tmp_path / "abs dir" / "x.db"
    absolute = open_store(f"sqlite:///{target}")  # /tmp/... gives four slashes
    absolute.put_alerts([make_alert(1)])
    assert absolute.get_alert("a000001") is not None
    assert target.is_file()
    absolute.close()
    memory = open_store("sqlite:///:memory:")
    assert memory.get_status("x") is None


def test_dynamodb_url_creates_tables_on_request(moto_endpoint: str, aws_env: None) -> None:
    store = open_store(
        f"dynamodb://ctc-factory?region=us-east-1&endpoint_url={moto_endpoint}&create=true"
    )
    assert isinstance(store, DynamoDBAlertStore)
    assert store.alerts.name == "ctc-factory-alerts"
    store.put_alerts([make_alert(1)])
    # a second store on the same tables (the API) reads what the first wrote
    reader = open_store(f"dynamodb://ctc-factory?endpoint_url={moto_endpoint}&region=us-east-1")
    assert reader.get_alert("a000001") == make_alert(1)
    assert os.environ["AWS_ACCESS_KEY_ID"] == "testing"


@pytest.mark.parametrize(
    "url",
    [
        "postgres://x",
        "sqlite://host/file.db",
        "sqlite:///",
        "sqlite:///x.db?mode=ro",
        "dynamodb://",
        "dynamodb://prefix/path",
        "dynamodb://prefix?regoin=us-east-1",
    ],
)
def test_bad_urls_raise_value_error(url: str) -> None:
    with pytest.raises(ValueError):
        open_store(url)
