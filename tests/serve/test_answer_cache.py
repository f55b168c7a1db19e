"""API answers kept while the store is unchanged (ctc.serve.answer_cache): served again
without a query, never older than the data, never for an answer that reads the clock."""

from __future__ import annotations

import json
from collections.abc import Hashable
from pathlib import Path
from typing import Any

from servekit import END

from ctc.serve.answer_cache import AnswerCache
from ctc.serve.site import Site
from ctc.sinks.stores.sqlite_store import SqliteAlertStore


class CountingStore(SqliteAlertStore):
    """A SQLite store that counts the reads the API makes."""

    def __init__(self, path: Path, token: bool = True) -> None:
        super().__init__(path)
        self.reads = 0
        self.token = token

    def query_alerts(self, **kwargs: Any) -> Any:
        self.reads += 1
        return super().query_alerts(**kwargs)

    def get_status(self, app: str) -> Any:
        self.reads += 1
        return super().get_status(app)

    def change_token(self) -> tuple[int, int] | None:  # type: ignore[override]
        return super().change_token() if self.token else None


def _alert(n: int) -> dict[str, Any]:
    return {
        "alert_id": f"a{n}",
        "alert_type": "whale_trade",
        "module_id": "MOD-002",
        "symbol": "BTC-USDT",
        "exchange": "binance",
        "severity": "medium",
        "detected_at": END.replace(minute=n),
        "message": f"whale {n}",
        "details": {"price": 1.0},
    }


def _ids(answer: tuple[int, dict[str, str], bytes]) -> list[str]:
    return [a["alert_id"] for a in json.loads(answer[2])["alerts"]]


def test_an_unchanged_store_answers_from_the_cache_and_a_write_elsewhere_refreshes_it(
    tmp_path: Path,
) -> None:
    store = CountingStore(tmp_path / "a.db")
    store.put_alerts([_alert(1)])
    site = Site(store, None)
    first = site.answer("GET", "/api/alerts?limit=5")
    assert site.answer("GET", "/api/alerts?limit=5") == first
    assert site.answer("HEAD", "/api/alerts?limit=5") == first
    assert store.reads == 1
    tag = first[1]["ETag"]
    assert site.answer("GET", "/api/alerts?limit=5", if_none_match=tag)[0] == 304
    assert store.reads == 1
    writer = SqliteAlertStore(tmp_path / "a.db")  # the runtime, another connection
    writer.put_alerts([_alert(2)])
    writer.close()
    fresh = site.answer("GET", "/api/alerts?limit=5", if_none_match=tag)
    assert fresh[0] == 200 and _ids(fresh) == ["a2", "a1"] and store.reads == 2
    assert _ids(site.answer("GET", "/api/alerts?limit=1")) == ["a2"]  # its own entry
    assert store.reads == 3


def test_clock_answers_errors_and_stores_without_a_token_are_never_kept(tmp_path: Path) -> None:
    store = CountingStore(tmp_path / "a.db")
    site = Site(store, None)
    for _ in range(2):
        site.answer("GET", "/api/health")  # its age comes from the clock
        assert site.answer("GET", "/api/alerts?limit=0")[0] == 400
    assert (
        store.reads == 2 and site.answers.get("/api/alerts?limit=0", store.change_token()) is None
    )
    untokened = CountingStore(tmp_path / "b.db", token=False)
    site = Site(untokened, None)
    for _ in range(2):
        site.answer("GET", "/api/alerts")
    assert untokened.reads == 2


def test_the_cache_is_bounded_and_keyed_by_token() -> None:
    cache = AnswerCache(max_answers=2)
    answer = (200, {"ETag": '"x"'}, b"{}")
    token: Hashable = (1, 0)
    cache.put("/a", token, answer)
    cache.put("/b", token, answer)
    assert cache.get("/a", token) == answer and cache.get("/a", (2, 0)) is None
    cache.put("/c", token, answer)  # full: emptied first
    assert cache.get("/a", token) is None and cache.get("/c", token) == answer


def test_details_are_parsed_once_but_each_answer_has_its_own() -> None:
    from ctc.serve.handler import details_object

    text = '{"z_score": 3.5, "n": 1}'
    first = details_object(text)
    first["z_score"] = None  # a caller changing its copy
    assert details_object(text) == {"z_score": 3.5, "n": 1}
    assert details_object("[1, 2]") == {"raw": "[1, 2]"} and details_object("{oops") == {
        "raw": "{oops"
    }
