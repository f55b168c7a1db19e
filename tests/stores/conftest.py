"""Store fixtures: each test gets a fresh store of each kind (the moto server is shared,
see tests/conftest.py; every DynamoDB store gets its own table prefix)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from ctc.sinks.stores.base import AlertStore
from ctc.sinks.stores.dynamodb_store import DynamoDBAlertStore
from ctc.sinks.stores.sqlite_store import SqliteAlertStore


def new_dynamodb_store(endpoint: str) -> DynamoDBAlertStore:
    """A DynamoDB store with fresh tables on the moto server at ``endpoint``."""
    store = DynamoDBAlertStore(
        f"t{uuid.uuid4().hex[:12]}", region="us-east-1", endpoint_url=endpoint
    )
    store.create_tables()
    return store


@pytest.fixture
def dynamodb_store(moto_endpoint: str, aws_env: None) -> Iterator[DynamoDBAlertStore]:
    """A DynamoDB store on moto; its tables are dropped afterwards."""
    store = new_dynamodb_store(moto_endpoint)
    yield store
    client = boto3.client("dynamodb", region_name="us-east-1", endpoint_url=moto_endpoint)
    for table in (store.alerts, store.market, store.status, store.windows, store.catalog_table):
        client.delete_table(TableName=table.name)


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[SqliteAlertStore]:
    """A SQLite store in a fresh file."""
    store = SqliteAlertStore(tmp_path / "hot" / "alerts.db")
    yield store
    store.close()


@pytest.fixture(params=["sqlite", "dynamodb"])
def store(request: pytest.FixtureRequest) -> AlertStore:
    """Each implementation in turn: the conformance tests run against both."""
    return request.getfixturevalue(f"{request.param}_store")  # type: ignore[no-any-return]
