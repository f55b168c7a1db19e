"""The AlertStore contract, run against SQLite and against DynamoDB (moto server mode)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from store_helpers import T0, all_pages, iso, make_alert, order_key

from ctc.sinks.stores.base import AlertStore, Catalog


def _ids(items: list[dict]) -> list[str]:
    return [a["alert_id"] for a in items]


@pytest.fixture
def mixed(store: AlertStore) -> list[dict]:
    """12 alerts over two types and two symbols, written to the store."""
    alerts = [
        make_alert(
            n,
            alert_type=("volume_spike", "whale_trade")[n % 2],
            symbol=("BTC-USDT", "BTC-USDT", "ETH-USDT")[n % 3],
        )
        for n in range(12)
    ]
    assert store.put_alerts(alerts) == 12
    return alerts


def test_get_returns_the_record_as_written(store: AlertStore) -> None:
    alert = make_alert(1, message="Ballena 🐋 compró 1 200 BTC — ¡señal fuerte!")
    alert["exchange"] = None  # cross-exchange alerts have no exchange
    store.put_alerts([alert])
    assert store.get_alert(alert["alert_id"]) == alert
    assert store.get_alert("nope") is None


def test_an_alert_without_provenance_reads_back_with_none(store: AlertStore) -> None:
    """An alert written before ctc kept provenance (or by an older writer) has none."""
    alert = make_alert(2)
    del alert["spec_version"], alert["ctc_version"]
    store.put_alerts([alert])
    assert store.get_alert(alert["alert_id"]) == {
        **alert,
        "spec_version": None,
        "ctc_version": None,
    }


def test_upsert_is_idempotent_by_alert_id(store: AlertStore) -> None:
    first = make_alert(7)
    store.put_alerts([first, first])
    updated = {**first, "severity": "high", "message": "updated"}
    store.put_alerts([updated])
    page = store.query_alerts(limit=10)
    assert page.items == [updated]
    assert store.get_alert(first["alert_id"]) == updated


def test_put_normalises_time_details_and_ttl(store: AlertStore) -> None:
    alert = make_alert(3)
    alert["detected_at"] = datetime(2026, 1, 1, 0, 0, 3, tzinfo=UTC)
    alert["details"] = {"z_score": 3.25}
    del alert["ttl_epoch"]
    store.put_alerts([alert])
    got = store.get_alert(alert["alert_id"])
    assert got is not None
    assert got["detected_at"] == "2026-01-01T00:00:03.000000Z"
    assert json.loads(got["details"]) == {"z_score": 3.25}
    assert got["ttl_epoch"] == int(T0.timestamp()) + 3 + 86_400


def test_query_by_type(store: AlertStore, mixed: list[dict]) -> None:
    want = sorted(
        (a for a in mixed if a["alert_type"] == "whale_trade"), key=order_key, reverse=True
    )
    assert store.query_alerts(alert_type="whale_trade", limit=50).items == want


def test_query_by_symbol(store: AlertStore, mixed: list[dict]) -> None:
    want = sorted((a for a in mixed if a["symbol"] == "ETH-USDT"), key=order_key, reverse=True)
    assert store.query_alerts(symbol="ETH-USDT").items == want


def test_query_by_type_and_symbol(store: AlertStore, mixed: list[dict]) -> None:
    want = sorted(
        (a for a in mixed if a["symbol"] == "BTC-USDT" and a["alert_type"] == "volume_spike"),
        key=order_key,
        reverse=True,
    )
    assert want
    assert store.query_alerts(alert_type="volume_spike", symbol="BTC-USDT").items == want
    assert store.query_alerts(alert_type="nope", symbol="BTC-USDT").items == []


def test_query_with_neither(store: AlertStore, mixed: list[dict]) -> None:
    page = store.query_alerts()
    assert page.items == sorted(mixed, key=order_key, reverse=True)
    assert page.next_cursor is None


def test_since_is_inclusive_and_accepts_any_iso_form(store: AlertStore, mixed: list[dict]) -> None:
    want = _ids(
        sorted(
            (a for a in mixed if a["detected_at"] >= iso(T0.replace(second=5))),
            key=order_key,
            reverse=True,
        )
    )
    assert _ids(store.query_alerts(since="2026-01-01T00:00:05.000000Z").items) == want
    assert _ids(store.query_alerts(since="2026-01-01T00:00:05Z").items) == want
    assert _ids(store.query_alerts(since="2026-01-01T01:00:05+01:00").items) == want
    by_type = store.query_alerts(alert_type="whale_trade", since="2026-01-01T00:00:05Z").items
    assert _ids(by_type) == [i for i in want if int(i[1:]) % 2 == 1]
    both = store.query_alerts(
        alert_type="whale_trade", symbol="ETH-USDT", since="2026-01-01T00:00:05Z"
    )
    assert _ids(both.items) == ["a000011", "a000005"]
    with pytest.raises(ValueError):
        store.query_alerts(since="yesterday")


def test_ties_on_detected_at_are_broken_by_alert_id_desc(store: AlertStore) -> None:
    ids = ["m", "b", "z", "a", "q"]
    store.put_alerts([make_alert(0, seconds=10, alert_id=i) for i in ids])
    store.put_alerts(
        [make_alert(1, seconds=11, alert_id="c"), make_alert(2, seconds=9, alert_id="y")]
    )
    want = ["c", "z", "q", "m", "b", "a", "y"]
    assert _ids(store.query_alerts().items) == want
    assert _ids(store.query_alerts(alert_type="volume_spike").items) == want
    assert _ids(store.query_alerts(symbol="BTC-USDT").items) == want
    # pages that cut through the tie
    assert [_ids(p) for p in all_pages(store, 2)] == [["c", "z"], ["q", "m"], ["b", "a"], ["y"]]


@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"alert_type": "whale_trade"},
        {"symbol": "ETH-USDT"},
        {"alert_type": "whale_trade", "symbol": "BTC-USDT"},
    ],
    ids=["neither", "type", "symbol", "both"],
)
def test_pages_never_skip_or_repeat(store: AlertStore, filters: dict) -> None:
    alerts = [
        make_alert(
            n,
            seconds=n // 3,  # three alerts per second: ties everywhere
            alert_type=("volume_spike", "whale_trade")[n % 2],
            symbol=("BTC-USDT", "ETH-USDT")[(n // 2) % 2],
        )
        for n in range(90)
    ]
    store.put_alerts(alerts)
    want = sorted(
        (a for a in alerts if all(a[k] == v for k, v in filters.items())),
        key=order_key,
        reverse=True,
    )
    pages = all_pages(store, 7, **filters)
    assert len(pages) >= 3
    assert all(len(p) == 7 for p in pages[:-1]) and 1 <= len(pages[-1]) <= 7
    assert [a for p in pages for a in p] == want


def test_last_full_page_has_no_next_cursor(store: AlertStore) -> None:
    store.put_alerts([make_alert(n) for n in range(15)])
    pages = all_pages(store, 5)
    assert [len(p) for p in pages] == [5, 5, 5]
    empty = store.query_alerts(alert_type="absent")
    assert empty.items == [] and empty.next_cursor is None


def test_cursor_is_a_position_unaffected_by_new_writes(store: AlertStore) -> None:
    store.put_alerts([make_alert(n) for n in range(10)])
    first = store.query_alerts(limit=4)
    store.put_alerts([make_alert(n) for n in range(100, 105)])  # newer than everything
    store.put_alerts([make_alert(5, message="rewritten")])  # an upsert on the next page
    second = store.query_alerts(limit=4, cursor=first.next_cursor)
    assert _ids(first.items) == ["a000009", "a000008", "a000007", "a000006"]
    assert _ids(second.items) == ["a000005", "a000004", "a000003", "a000002"]
    assert second.items[0]["message"] == "rewritten"


@pytest.mark.parametrize(
    "cursor",
    ["garbage", "", "eyJ2IjoxfQ", "bm90IGpzb24", "eyJ2IjoxLCJkIjoieCIsImkiOiJhIn0", "!!!!"],
)
def test_invalid_cursor_raises_value_error(store: AlertStore, cursor: str) -> None:
    store.put_alerts([make_alert(1)])
    with pytest.raises(ValueError):
        store.query_alerts(cursor=cursor)


def test_invalid_limit_raises_value_error(store: AlertStore) -> None:
    with pytest.raises(ValueError):
        store.query_alerts(limit=0)


def test_purge_expired_removes_exactly_the_expired(store: AlertStore) -> None:
    alerts = [make_alert(n, ttl_epoch=1_000 + n) for n in range(20)]
    store.put_alerts(alerts)
    assert store.purge_expired(1_009) == 10  # ttl 1000..1009: <= now is expired
    assert _ids(store.query_alerts(limit=100).items) == [f"a{n:06d}" for n in range(19, 9, -1)]
    assert store.get_alert("a000009") is None and store.get_alert("a000010") is not None
    assert store.purge_expired(1_009) == 0


def test_market_upsert_and_get(store: AlertStore) -> None:
    assert store.get_market("BTC-USDT") == []
    store.put_market(
        [
            {
                "symbol": "BTC-USDT",
                "exchange": "binance",
                "price": 100.5,
                "volume_1h": 12.0,
                "updated_at": "2026-01-01T00:00:10.000000Z",
            },
            {
                "symbol": "BTC-USDT",
                "exchange": "coinbase",
                "price": 101.0,
                "volume_1h": 3.25,
                "updated_at": "2026-01-01T00:00:10.000000Z",
            },
            {
                "symbol": "ETH-USDT",
                "exchange": "binance",
                "price": 10.0,
                "volume_1h": 1.0,
                "updated_at": "2026-01-01T00:00:10.000000Z",
            },
        ]
    )
    store.put_market(
        [
            {
                "symbol": "BTC-USDT",
                "exchange": "binance",
                "price": 102.0,
                "volume_1h": 14.5,
                "updated_at": "2026-01-01T00:00:20Z",
            }
        ]
    )
    # an older row (a replayed batch) does not roll the figures back
    store.put_market(
        [
            {
                "symbol": "BTC-USDT",
                "exchange": "coinbase",
                "price": 1.0,
                "volume_1h": 1.0,
                "updated_at": "2026-01-01T00:00:05.000000Z",
            }
        ]
    )
    assert store.get_market("BTC-USDT") == [
        {
            "symbol": "BTC-USDT",
            "exchange": "binance",
            "price": 102.0,
            "volume_1h": 14.5,
            "updated_at": "2026-01-01T00:00:20.000000Z",
        },
        {
            "symbol": "BTC-USDT",
            "exchange": "coinbase",
            "price": 101.0,
            "volume_1h": 3.25,
            "updated_at": "2026-01-01T00:00:10.000000Z",
        },
    ]


def test_status_put_replace_get(store: AlertStore) -> None:
    assert store.get_status("ctc-stream") is None
    store.put_status("ctc-stream", {"batch_id": 1, "processed": 10, "quality_score": 99.5})
    status = {
        "batch_id": 2,
        "processed": 12,
        "quality_score": 100.0,
        "note": "ünïcode ✓",
        "sources": {"trades": {"lag_seconds": 1.5}},
    }
    store.put_status("ctc-stream", status)
    assert store.get_status("ctc-stream") == status
    assert store.get_status("other") is None


def test_detector_catalog_put_replace_get_per_app(store: AlertStore) -> None:
    assert store.get_detector_catalog("ctc") is None
    first = {"alert_types": [{"type": "whale_trade", "label": "Whale trade"}], "series": []}
    store.put_detector_catalog("ctc", first)
    second = {
        "alert_types": [{"type": "volume_spike", "label": "Volumen ✓"}],
        "series": [{"name": "volume", "guides": [0.5, -0.5], "exchange": None}],
        "exchanges": ["binance", "coinbase"],
    }
    store.put_detector_catalog("other", second)
    assert store.get_detector_catalog("ctc") == first
    store.put_detector_catalog("ctc", second)
    assert store.get_detector_catalog("ctc") == second
    # it is no alert value: the alerts' catalog does not list it, nor does a purge drop it
    assert store.catalog() == Catalog()
    store.purge_expired(2**40)
    assert store.get_detector_catalog("other") == second


def test_more_than_a_thousand_alerts(store: AlertStore) -> None:
    alerts = [
        make_alert(n, alert_type=("volume_spike", "whale_trade", "spread_divergence")[n % 3])
        for n in range(1_200)
    ]
    assert store.put_alerts(alerts) == 1_200
    pages = all_pages(store, 200)
    assert [len(p) for p in pages] == [200] * 6
    assert [a for p in pages for a in p] == sorted(alerts, key=order_key, reverse=True)
    whales = all_pages(store, 150, alert_type="whale_trade")
    assert sum(len(p) for p in whales) == 400


# -- chart series (put_windows / get_windows) ------------------------------------------


def _volume_row(minute: int, exchange: str | None = "binance", **extra: object) -> dict:
    return {
        "symbol": "BTC-USDT",
        "exchange": exchange,
        "window_start": iso(T0.replace(minute=minute)),
        "value": 1_000.0 + minute,
        "z_score": minute / 10,
        **extra,
    }


def test_windows_put_get_oldest_first(store: AlertStore) -> None:
    assert store.get_windows("volume", "BTC-USDT", None) == []
    rows = [_volume_row(m, ex) for m in (3, 1, 2) for ex in ("coinbase", "binance")]
    rows.append({**_volume_row(2), "symbol": "ETH-USDT"})
    store.put_windows("volume", rows)
    got = store.get_windows("volume", "BTC-USDT", None)
    assert [(r["window_start"][14:16], r["exchange"]) for r in got] == [
        ("01", "binance"),
        ("01", "coinbase"),
        ("02", "binance"),
        ("02", "coinbase"),
        ("03", "binance"),
        ("03", "coinbase"),
    ]
    assert got[0] == {
        "symbol": "BTC-USDT",
        "exchange": "binance",
        "window_start": "2026-01-01T00:01:00.000000Z",
        "value": 1_001.0,
        "z_score": 0.1,
    }
    assert store.get_windows("spread", "BTC-USDT", None) == []
    assert store.get_windows("volume", "SOL-USDT", None) == []


def test_windows_upsert_by_key_and_normalise(store: AlertStore) -> None:
    store.put_windows("volume", [_volume_row(1), _volume_row(1, trade_count=7)])
    store.put_windows(
        "volume",
        [{**_volume_row(1), "window_start": "2026-01-01T01:01:00+01:00", "value": 5}],
    )
    got = store.get_windows("volume", "BTC-USDT", None)
    assert got == [
        {
            "symbol": "BTC-USDT",
            "exchange": "binance",
            "window_start": "2026-01-01T00:01:00.000000Z",
            "value": 5.0,
            "z_score": 0.1,
        }
    ]
    assert isinstance(got[0]["value"], float)


def test_windows_cross_exchange_series_has_exchange_none(store: AlertStore) -> None:
    spread = [
        {
            "symbol": "ETH-USDT",
            "exchange": None,
            "window_start": iso(T0.replace(second=30 * n)),
            "value": 0.01 * n - 0.2,
            "vwap_a": 2000.5,
            "vwap_b": 2001,
        }
        for n in range(2)
    ]
    store.put_windows("spread", spread)
    store.put_windows("spread", [{**spread[1], "value": float("nan")}])
    got = store.get_windows("spread", "ETH-USDT", None)
    assert got == [
        {**spread[0], "vwap_b": 2001.0},
        {**spread[1], "value": None, "vwap_b": 2001.0},
    ]


def test_windows_since_and_limit_keep_the_newest(store: AlertStore) -> None:
    store.put_windows("volume", [_volume_row(m) for m in range(10)])
    since = store.get_windows("volume", "BTC-USDT", "2026-01-01T00:07:00Z")
    assert [r["window_start"][14:16] for r in since] == ["07", "08", "09"]
    newest = store.get_windows("volume", "BTC-USDT", None, limit=4)
    assert [r["window_start"][14:16] for r in newest] == ["06", "07", "08", "09"]
    both = store.get_windows("volume", "BTC-USDT", "2026-01-01T00:01:00Z", limit=2)
    assert [r["window_start"][14:16] for r in both] == ["08", "09"]


def test_windows_many_rows_page_through(store: AlertStore) -> None:
    rows = [
        {
            "symbol": "BTC-USDT",
            "exchange": ex,
            "window_start": iso(T0.replace(hour=h, minute=m)),
            "value": float(h * 60 + m),
        }
        for h in range(12)
        for m in range(60)
        for ex in ("binance", "coinbase")
    ]
    store.put_windows("volume", rows)
    got = store.get_windows("volume", "BTC-USDT", None, limit=1_200)
    assert len(got) == 1_200
    assert got[-1]["value"] == 719.0 and got[0]["value"] == 120.0


@pytest.mark.parametrize(
    "row",
    [
        {"exchange": "binance", "window_start": "2026-01-01T00:00:00Z", "value": 1.0},
        {"symbol": "BTC-USDT", "exchange": "binance", "value": 1.0},
        {"symbol": "BTC-USDT", "exchange": "binance", "window_start": "2026-01-01T00:00:00Z"},
        {"symbol": "BTC-USDT", "window_start": "soon", "value": 1.0},
        {"symbol": "BTC-USDT", "window_start": "2026-01-01T00:00:00Z", "value": "high"},
        {"symbol": "BTC-USDT", "window_start": "2026-01-01T00:00:00Z", "value": 1.0, "x": [1]},
    ],
    ids=["no-symbol", "no-start", "no-value", "bad-start", "bad-value", "bad-extra"],
)
def test_windows_reject_malformed_rows(store: AlertStore, row: dict) -> None:
    with pytest.raises(ValueError):
        store.put_windows("volume", [row])


def test_windows_reject_bad_arguments(store: AlertStore) -> None:
    with pytest.raises(ValueError):
        store.get_windows("volume", "BTC-USDT", "yesterday")
    with pytest.raises(ValueError):
        store.get_windows("volume", "BTC-USDT", None, limit=0)
    with pytest.raises(ValueError):
        store.put_windows("", [])


def test_purge_expired_removes_expired_windows(store: AlertStore) -> None:
    store.put_windows("volume", [_volume_row(m) for m in range(5)])
    cutoff = int(T0.timestamp()) + 86_400 + 2 * 60  # minutes 0..2 expire
    assert store.purge_expired(cutoff) == 0
    assert [r["window_start"][14:16] for r in store.get_windows("volume", "BTC-USDT")] == [
        "03",
        "04",
    ]


def test_count_alerts_per_type_from_since(store: AlertStore, mixed: list[dict]) -> None:
    since = iso(T0.replace(second=3))
    mine = [a for a in mixed if a["symbol"] == "BTC-USDT" and a["detected_at"] >= since]
    want: dict[str, int] = {}
    for a in mine:
        want[a["alert_type"]] = want.get(a["alert_type"], 0) + 1
    assert store.count_alerts("BTC-USDT", since, 1000) == (want, False)
    assert store.count_alerts("BTC-USDT", since, len(mine)) == (want, False)
    counts, capped = store.count_alerts("BTC-USDT", since, 2)
    assert capped and sum(counts.values()) == 2 and set(counts) <= set(want)
    assert store.count_alerts("XRP-USDT", since, 1000) == ({}, False)
    store.put_alerts([make_alert(50, symbol="BTC-USDT", alert_type="spread_divergence")])
    assert store.count_alerts("BTC-USDT", since, 1000)[0] == {**want, "spread_divergence": 1}


def test_catalog_lists_the_distinct_values_until_they_expire(store: AlertStore) -> None:
    assert store.catalog() == Catalog()
    store.put_alerts(
        [
            make_alert(1, symbol="BTC-USDT", alert_type="whale_trade", ttl_epoch=5_000),
            make_alert(2, symbol="ETH-USDT", alert_type="volume_spike", ttl_epoch=1_000),
            {**make_alert(3, symbol="BTC-USDT", ttl_epoch=5_000), "exchange": "coinbase"},
            {**make_alert(4, alert_type="spread_divergence", ttl_epoch=5_000), "exchange": None},
            make_alert(5, symbol="ETH-USDT", alert_type="volume_spike", ttl_epoch=2_000),
        ]
    )
    assert store.catalog() == Catalog(
        symbols=["BTC-USDT", "ETH-USDT"],
        exchanges=["binance", "coinbase"],
        alert_types=["spread_divergence", "volume_spike", "whale_trade"],
    )
    store.purge_expired(1_500)  # alert 2 only: ETH-USDT is still named by alert 5
    assert store.catalog().symbols == ["BTC-USDT", "ETH-USDT"]
    store.purge_expired(2_500)
    assert store.catalog() == Catalog(
        symbols=["BTC-USDT"],
        exchanges=["binance", "coinbase"],
        alert_types=["spread_divergence", "volume_spike", "whale_trade"],
    )
