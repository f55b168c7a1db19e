"""The AWS hot store: five DynamoDB tables, ``<prefix>-alerts``, ``-market``, ``-status``,
``-windows`` (the dashboard's chart series) and ``-catalog`` (what the alerts name, and
the detector catalog each application publishes).

Alerts: partition key ``alert_id``, sort key ``detected_at``; every GSI sorts on
``detected_at_id`` (``detected_at + "#" + alert_id``), so a page is newest first with ties
broken by alert_id desc and ``detected_at_id >= since`` is exactly ``detected_at >= since``:

* ``type-time``   (alert_type, detected_at_id)  — ``?type=``, and ``?type=&symbol=`` no
* ``symbol-time`` (symbol, detected_at_id)      — ``?symbol=`` and ``?type=&symbol=``
  (filtered on type)
* ``all-time``    (all_pk = "all", detected_at_id) — neither; one partition holds every
  alert, fine at alert rates (a partition takes ~1000 writes/s).

Catalog: partition key ``facet`` (``symbol``, ``exchange`` or ``alert_type``), sort key
``value``, and ``ttl_epoch`` the latest ttl of the alerts carrying that value: written by
``put_alerts`` (a conditional update per new value or later ttl), so the catalog is three
Queries and expires with the last alert of a value. Every read of the API is a Query or a
GetItem; only ``purge_expired`` scans. The detector catalog of application ``app`` is one
item of the same table, facet ``detectors`` and value ``app``, its JSON text in ``document``
and no ttl (a few KB, far below DynamoDB's 400 KB item limit): one GetItem reads it.

Windows: partition key ``series`` (``kind#symbol``), sort key ``window_key``
(``window_start#exchange``, exchange ``""`` for cross-exchange series), so one Query reads a
chart's rows in time order.

TTL on ``ttl_epoch`` (alerts and windows); on-demand billing. Numbers go in as Decimal;
``details`` and a status
are JSON strings.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import boto3
from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

from ctc.sinks.stores.base import AlertStore, Catalog, Page
from ctc.sinks.stores.cursor import decode_cursor, encode_cursor
from ctc.sinks.stores.records import (
    ALERT_COLUMNS,
    MARKET_COLUMNS,
    check_kind,
    check_limit,
    iso_utc,
    normalise_alert,
    normalise_market,
    normalise_window,
)

TYPE_INDEX = "type-time"
SYMBOL_INDEX = "symbol-time"
ALL_INDEX = "all-time"
#: GSI sort key: detected_at, then alert_id (fixed-width time, so text order is the order).
SORT_ATTR = "detected_at_id"
#: Constant partition of the all-time GSI.
ALL_ATTR, ALL_VALUE = "all_pk", "all"
#: Items read per request when a filter (type on the symbol index) drops some.
_FILTERED_READ = 200
#: Keys of the windows table.
SERIES_ATTR, WINDOW_KEY_ATTR = "series", "window_key"
#: Keys of the catalog table, and its facets (alert fields).
FACET_ATTR, VALUE_ATTR = "facet", "value"
CATALOG_FACETS = ("symbol", "exchange", "alert_type")
#: The catalog table's facet of the detector catalogs (value: the application) and the
#: attribute holding one as JSON text.
DETECTORS_FACET, DOCUMENT_ATTR = "detectors", "document"


def _sort_key(detected_at: str, alert_id: str) -> str:
    return f"{detected_at}#{alert_id}"


def _to_dynamo(value: Any) -> Any:
    """Python value → DynamoDB value: floats to Decimal (non-finite to None), recursively."""
    if isinstance(value, bool) or value is None or isinstance(value, str | int | Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value)) if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): _to_dynamo(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_to_dynamo(v) for v in value]
    return str(value)


def _from_dynamo(value: Any) -> Any:
    """DynamoDB value → Python: Decimal to int when integral, else float."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _from_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_dynamo(v) for v in value]
    return value


def _alert_from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    record = {name: _from_dynamo(item.get(name)) for name in ALERT_COLUMNS}
    if record["ttl_epoch"] is not None:
        record["ttl_epoch"] = int(record["ttl_epoch"])
    return record


class DynamoDBAlertStore(AlertStore):
    """The hot store in DynamoDB tables named ``<prefix>-alerts|market|status|windows``."""

    def __init__(
        self,
        prefix: str,
        *,
        region: str | None = None,
        endpoint_url: str | None = None,
        resource: Any = None,
    ) -> None:
        """Use the tables of ``prefix`` through ``resource`` or a new boto3 resource for
        ``region`` / ``endpoint_url`` (credentials from the usual boto3 chain)."""
        self.prefix = prefix
        if resource is None:
            session = boto3.session.Session(region_name=region)
            resource = session.resource("dynamodb", endpoint_url=endpoint_url)
        self._resource = resource
        self._client = resource.meta.client
        self.alerts = resource.Table(f"{prefix}-alerts")
        self.market = resource.Table(f"{prefix}-market")
        self.status = resource.Table(f"{prefix}-status")
        self.windows = resource.Table(f"{prefix}-windows")
        self.catalog_table = resource.Table(f"{prefix}-catalog")
        #: (facet, value) -> the ttl last written to the catalog by this object
        self._catalog_ttl: dict[tuple[str, str], int] = {}

    # -- tables ----------------------------------------------------------------------

    def create_tables(self) -> None:
        """Create the five tables (on-demand), the GSIs and the TTL if they are missing;
        safe to call again. In AWS, Terraform owns them and this is for local runs/tests."""
        gsis = [
            (TYPE_INDEX, "alert_type"),
            (SYMBOL_INDEX, "symbol"),
            (ALL_INDEX, ALL_ATTR),
        ]
        specs: list[dict[str, Any]] = [
            {
                "TableName": self.alerts.name,
                "KeySchema": [
                    {"AttributeName": "alert_id", "KeyType": "HASH"},
                    {"AttributeName": "detected_at", "KeyType": "RANGE"},
                ],
                "AttributeDefinitions": [
                    {"AttributeName": a, "AttributeType": "S"}
                    for a in (
                        "alert_id",
                        "detected_at",
                        SORT_ATTR,
                        "alert_type",
                        "symbol",
                        ALL_ATTR,
                    )
                ],
                "GlobalSecondaryIndexes": [
                    {
                        "IndexName": name,
                        "KeySchema": [
                            {"AttributeName": pk, "KeyType": "HASH"},
                            {"AttributeName": SORT_ATTR, "KeyType": "RANGE"},
                        ],
                        "Projection": {"ProjectionType": "ALL"},
                    }
                    for name, pk in gsis
                ],
            },
            {
                "TableName": self.market.name,
                "KeySchema": [
                    {"AttributeName": "symbol", "KeyType": "HASH"},
                    {"AttributeName": "exchange", "KeyType": "RANGE"},
                ],
                "AttributeDefinitions": [
                    {"AttributeName": "symbol", "AttributeType": "S"},
                    {"AttributeName": "exchange", "AttributeType": "S"},
                ],
            },
            {
                "TableName": self.status.name,
                "KeySchema": [{"AttributeName": "app", "KeyType": "HASH"}],
                "AttributeDefinitions": [{"AttributeName": "app", "AttributeType": "S"}],
            },
            {
                "TableName": self.windows.name,
                "KeySchema": [
                    {"AttributeName": SERIES_ATTR, "KeyType": "HASH"},
                    {"AttributeName": WINDOW_KEY_ATTR, "KeyType": "RANGE"},
                ],
                "AttributeDefinitions": [
                    {"AttributeName": SERIES_ATTR, "AttributeType": "S"},
                    {"AttributeName": WINDOW_KEY_ATTR, "AttributeType": "S"},
                ],
            },
            {
                "TableName": self.catalog_table.name,
                "KeySchema": [
                    {"AttributeName": FACET_ATTR, "KeyType": "HASH"},
                    {"AttributeName": VALUE_ATTR, "KeyType": "RANGE"},
                ],
                "AttributeDefinitions": [
                    {"AttributeName": FACET_ATTR, "AttributeType": "S"},
                    {"AttributeName": VALUE_ATTR, "AttributeType": "S"},
                ],
            },
        ]
        for spec in specs:
            try:
                self._client.create_table(BillingMode="PAY_PER_REQUEST", **spec)
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "ResourceInUseException":
                    raise
        for spec in specs:
            self._client.get_waiter("table_exists").wait(
                TableName=spec["TableName"], WaiterConfig={"Delay": 1, "MaxAttempts": 60}
            )
        for table in (self.alerts.name, self.windows.name, self.catalog_table.name):
            ttl = self._client.describe_time_to_live(TableName=table)
            if ttl["TimeToLiveDescription"].get("TimeToLiveStatus") not in (
                "ENABLED",
                "ENABLING",
            ):
                self._client.update_time_to_live(
                    TableName=table,
                    TimeToLiveSpecification={"Enabled": True, "AttributeName": "ttl_epoch"},
                )

    # -- alerts ----------------------------------------------------------------------

    def put_alerts(self, alerts: Iterable[Mapping[str, Any]]) -> int:
        """Upsert alerts (batched, 25 per request, unprocessed items retried by boto3);
        return how many were given. The key is (alert_id, detected_at): detected_at is the
        event time the alert id is hashed from, so a replay lands on the same item."""
        count = 0
        latest: dict[tuple[str, str], int] = {}
        with self.alerts.batch_writer(overwrite_by_pkeys=["alert_id", "detected_at"]) as batch:
            for alert in alerts:
                record = normalise_alert(alert)
                item = {k: _to_dynamo(v) for k, v in record.items()}
                item[SORT_ATTR] = _sort_key(record["detected_at"], record["alert_id"])
                item[ALL_ATTR] = ALL_VALUE
                # No NULLs: a missing index key just leaves the item out of that index.
                batch.put_item(Item={k: v for k, v in item.items() if v is not None})
                count += 1
                for facet in CATALOG_FACETS:
                    value = record.get(facet)
                    if isinstance(value, str) and value:
                        key = (facet, value)
                        latest[key] = max(latest.get(key, 0), int(record["ttl_epoch"]))
        self._write_catalog(latest)
        return count

    def _write_catalog(self, latest: Mapping[tuple[str, str], int]) -> None:
        """Raise the catalog ttl of each (facet, value) to ``latest`` (conditional updates,
        skipped when this object already wrote that ttl or a later one)."""
        for (facet, value), ttl in latest.items():
            if self._catalog_ttl.get((facet, value), -1) >= ttl:
                continue
            try:
                self.catalog_table.update_item(
                    Key={FACET_ATTR: facet, VALUE_ATTR: value},
                    UpdateExpression="SET ttl_epoch = :t",
                    ConditionExpression="attribute_not_exists(ttl_epoch) OR ttl_epoch < :t",
                    ExpressionAttributeValues={":t": ttl},
                )
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise
            self._catalog_ttl[(facet, value)] = ttl

    def get_alert(self, alert_id: str) -> dict[str, Any] | None:
        """One alert by id (the newest item of that id), or None."""
        resp = self.alerts.query(
            KeyConditionExpression=Key("alert_id").eq(alert_id),
            ScanIndexForward=False,
            Limit=1,
        )
        items = resp.get("Items", [])
        return _alert_from_item(items[0]) if items else None

    def query_alerts(
        self,
        *,
        alert_type: str | None = None,
        symbol: str | None = None,
        since: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page:
        """Alerts newest first from the GSI that fits (see the module docstring); reads
        ``limit + 1`` to know whether a next page exists."""
        check_limit(limit)
        if symbol is not None:
            index, pk_attr, pk_value = SYMBOL_INDEX, "symbol", symbol
        elif alert_type is not None:
            index, pk_attr, pk_value = TYPE_INDEX, "alert_type", alert_type
        else:
            index, pk_attr, pk_value = ALL_INDEX, ALL_ATTR, ALL_VALUE
        condition = Key(pk_attr).eq(pk_value)
        if since is not None:
            condition = condition & Key(SORT_ATTR).gte(iso_utc(since))
        kwargs: dict[str, Any] = {
            "IndexName": index,
            "KeyConditionExpression": condition,
            "ScanIndexForward": False,
        }
        filtered = symbol is not None and alert_type is not None
        if filtered:
            kwargs["FilterExpression"] = Attr("alert_type").eq(alert_type)
        if cursor is not None:
            after_time, after_id = decode_cursor(cursor)
            kwargs["ExclusiveStartKey"] = {
                "alert_id": after_id,
                "detected_at": after_time,
                pk_attr: pk_value,
                SORT_ATTR: _sort_key(after_time, after_id),
            }
        items: list[dict[str, Any]] = []
        while len(items) <= limit:
            wanted = limit + 1 - len(items)
            kwargs["Limit"] = max(wanted, _FILTERED_READ) if filtered else wanted
            resp = self.alerts.query(**kwargs)
            items.extend(resp.get("Items", []))
            if "LastEvaluatedKey" not in resp:
                break
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
        records = [_alert_from_item(item) for item in items[: limit + 1]]
        if len(records) <= limit:
            return Page(items=records, next_cursor=None)
        last = records[limit - 1]
        return Page(
            items=records[:limit], next_cursor=encode_cursor(last["detected_at"], last["alert_id"])
        )

    def count_alerts(self, symbol: str, since: str, cap: int) -> tuple[dict[str, int], bool]:
        """Per-type counts from Queries of the symbol index that read only ``alert_type``
        (1 MB pages), stopping at ``cap`` alerts."""
        kwargs: dict[str, Any] = {
            "IndexName": SYMBOL_INDEX,
            "KeyConditionExpression": Key("symbol").eq(symbol) & Key(SORT_ATTR).gte(iso_utc(since)),
            "ProjectionExpression": "alert_type",
        }
        counts: dict[str, int] = {}
        total = 0
        while True:
            resp = self.alerts.query(**kwargs)
            items = resp.get("Items", [])
            room = cap - total
            for item in items[:room]:
                kind = str(item.get("alert_type"))
                counts[kind] = counts.get(kind, 0) + 1
            total += min(len(items), room)
            if len(items) > room:
                return counts, True
            if "LastEvaluatedKey" not in resp:
                return counts, False
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
            if total >= cap:  # is there one more after the last page read?
                return counts, bool(self.alerts.query(**kwargs, Limit=1).get("Items"))

    def catalog(self) -> Catalog:
        """The catalog table's values: one Query per facet. Like the alerts, an entry stays
        until ``purge_expired`` or the table TTL (lazy) deletes it."""
        found: dict[str, list[str]] = {}
        for facet in CATALOG_FACETS:
            kwargs: dict[str, Any] = {"KeyConditionExpression": Key(FACET_ATTR).eq(facet)}
            values: list[str] = []
            while True:
                resp = self.catalog_table.query(**kwargs)
                values += [str(item[VALUE_ATTR]) for item in resp.get("Items", [])]
                if "LastEvaluatedKey" not in resp:
                    break
                kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
            found[facet] = sorted(values)
        return Catalog(
            symbols=found["symbol"], exchanges=found["exchange"], alert_types=found["alert_type"]
        )

    def purge_expired(self, now_epoch: int) -> int:
        """Delete alerts whose ttl_epoch <= now_epoch by a scan and batched deletes; return
        how many. In AWS the table TTL deletes them too (lazily, within days), so this
        is for tests, local runs and an exact clean-up; it reads the whole table."""
        kwargs: dict[str, Any] = {
            "FilterExpression": Attr("ttl_epoch").lte(int(now_epoch)),
            "ProjectionExpression": "alert_id, detected_at",
        }
        deleted = 0
        with self.alerts.batch_writer(overwrite_by_pkeys=["alert_id", "detected_at"]) as batch:
            while True:
                resp = self.alerts.scan(**kwargs)
                for item in resp.get("Items", []):
                    batch.delete_item(
                        Key={"alert_id": item["alert_id"], "detected_at": item["detected_at"]}
                    )
                    deleted += 1
                if "LastEvaluatedKey" not in resp:
                    break
                kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
        self._purge_windows(now_epoch)
        self._purge_catalog(now_epoch)
        return deleted

    def _purge_catalog(self, now_epoch: int) -> None:
        for facet in CATALOG_FACETS:
            kwargs: dict[str, Any] = {
                "KeyConditionExpression": Key(FACET_ATTR).eq(facet),
                "FilterExpression": Attr("ttl_epoch").lte(int(now_epoch)),
            }
            while True:
                resp = self.catalog_table.query(**kwargs)
                for item in resp.get("Items", []):
                    self.catalog_table.delete_item(
                        Key={FACET_ATTR: facet, VALUE_ATTR: item[VALUE_ATTR]}
                    )
                    self._catalog_ttl.pop((facet, str(item[VALUE_ATTR])), None)
                if "LastEvaluatedKey" not in resp:
                    break
                kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    def _purge_windows(self, now_epoch: int) -> None:
        kwargs: dict[str, Any] = {
            "FilterExpression": Attr("ttl_epoch").lte(int(now_epoch)),
            "ProjectionExpression": "#s, window_key",
            "ExpressionAttributeNames": {"#s": SERIES_ATTR},
        }
        with self.windows.batch_writer(overwrite_by_pkeys=[SERIES_ATTR, WINDOW_KEY_ATTR]) as batch:
            while True:
                resp = self.windows.scan(**kwargs)
                for item in resp.get("Items", []):
                    batch.delete_item(
                        Key={
                            SERIES_ATTR: item[SERIES_ATTR],
                            WINDOW_KEY_ATTR: item[WINDOW_KEY_ATTR],
                        }
                    )
                if "LastEvaluatedKey" not in resp:
                    break
                kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    # -- market and status -----------------------------------------------------------

    def put_market(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """Upsert market rows per (symbol, exchange), one conditional put each: a row older
        than the stored one (by updated_at) is ignored."""
        for row in rows:
            rec = normalise_market(row)
            item = {k: _to_dynamo(v) for k, v in rec.items()}
            item = {k: v for k, v in item.items() if v is not None}
            kwargs: dict[str, Any] = {"Item": item}
            if "updated_at" in item:
                kwargs["ConditionExpression"] = (
                    Attr("symbol").not_exists()
                    | Attr("updated_at").not_exists()
                    | Attr("updated_at").lte(item["updated_at"])
                )
            try:
                self.market.put_item(**kwargs)
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise

    def get_market(self, symbol: str) -> list[dict[str, Any]]:
        """The market rows of one symbol, one per exchange, ordered by exchange."""
        resp = self.market.query(KeyConditionExpression=Key("symbol").eq(symbol))
        items = resp.get("Items", [])
        while "LastEvaluatedKey" in resp:
            resp = self.market.query(
                KeyConditionExpression=Key("symbol").eq(symbol),
                ExclusiveStartKey=resp["LastEvaluatedKey"],
            )
            items.extend(resp.get("Items", []))
        out = []
        for item in items:
            rec = {k: _from_dynamo(v) for k, v in item.items()}
            for name in MARKET_COLUMNS:
                rec.setdefault(name, None)
            for name in ("price", "volume_1h"):
                if rec[name] is not None:
                    rec[name] = float(rec[name])
            out.append(rec)
        return out

    def put_status(self, app: str, status: Mapping[str, Any]) -> None:
        """Replace the status of ``app`` (kept as one JSON string)."""
        text = json.dumps(dict(status), default=str, ensure_ascii=False)
        self.status.put_item(Item={"app": app, "status": text})

    def get_status(self, app: str) -> dict[str, Any] | None:
        """The last status written for ``app``, or None."""
        item = self.status.get_item(Key={"app": app}).get("Item")
        return json.loads(item["status"]) if item else None

    def put_detector_catalog(self, app: str, catalog: Mapping[str, Any]) -> None:
        """Replace the detector catalog of ``app``: one item of the catalog table."""
        text = json.dumps(dict(catalog), ensure_ascii=False, allow_nan=False)
        self.catalog_table.put_item(
            Item={FACET_ATTR: DETECTORS_FACET, VALUE_ATTR: app, DOCUMENT_ATTR: text}
        )

    def get_detector_catalog(self, app: str) -> dict[str, Any] | None:
        """The detector catalog last written for ``app`` (one GetItem), or None."""
        key = {FACET_ATTR: DETECTORS_FACET, VALUE_ATTR: app}
        item = self.catalog_table.get_item(Key=key).get("Item")
        return json.loads(str(item[DOCUMENT_ATTR])) if item else None

    # -- chart series ------------------------------------------------------------------

    def put_windows(self, kind: str, rows: Iterable[Mapping[str, Any]]) -> None:
        """Upsert series rows of ``kind`` (batched puts; the key is ``kind#symbol`` and
        ``window_start#exchange``, so a rewritten window replaces itself)."""
        check_kind(kind)
        keys = [SERIES_ATTR, WINDOW_KEY_ATTR]
        with self.windows.batch_writer(overwrite_by_pkeys=keys) as batch:
            for row in rows:
                rec = normalise_window(row)
                item = {k: _to_dynamo(v) for k, v in rec.items()}
                item[SERIES_ATTR] = f"{kind}#{rec['symbol']}"
                item[WINDOW_KEY_ATTR] = f"{rec['window_start']}#{rec['exchange'] or ''}"
                batch.put_item(Item={k: v for k, v in item.items() if v is not None})

    def get_windows(
        self, kind: str, symbol: str, since: str | None = None, limit: int = 1000
    ) -> list[dict[str, Any]]:
        """The newest ``limit`` series rows of (kind, symbol) from ``since`` on, oldest
        first (one Query, newest first, reversed)."""
        check_kind(kind)
        check_limit(limit)
        condition = Key(SERIES_ATTR).eq(f"{kind}#{symbol}")
        if since is not None:
            condition = condition & Key(WINDOW_KEY_ATTR).gte(iso_utc(since))
        kwargs: dict[str, Any] = {"KeyConditionExpression": condition, "ScanIndexForward": False}
        items: list[dict[str, Any]] = []
        while len(items) < limit:
            kwargs["Limit"] = limit - len(items)
            resp = self.windows.query(**kwargs)
            items.extend(resp.get("Items", []))
            if "LastEvaluatedKey" not in resp:
                break
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
        out = []
        for item in reversed(items[:limit]):
            rec = {
                k: _from_dynamo(v)
                for k, v in item.items()
                if k not in (SERIES_ATTR, WINDOW_KEY_ATTR, "ttl_epoch")
            }
            rec.setdefault("exchange", None)
            rec.setdefault("value", None)
            out.append(
                {
                    k: float(v) if isinstance(v, int) and not isinstance(v, bool) else v
                    for k, v in rec.items()
                }
            )
        return out
