"""The built dashboard in headless Debian Chromium against `ctc serve` over sample data:
all six sections show real data. The screenshot goes to the test's temporary folder, or
to $CTC_SCREENSHOT (the README's picture: CTC_SCREENSHOT=docs/dashboard.png pytest ...)."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Any

import pytest
from browser import SECTIONS_READY_JS, chromium, missing_browser
from servekit import Server, start_server, stop_server

from ctc.serve.sample import fill_store
from ctc.serve.server import STATIC_DIR
from ctc.sinks.stores.sqlite_store import SqliteAlertStore

ROOT = Path(__file__).resolve().parents[2]

_why = missing_browser() or (
    None
    if (STATIC_DIR / "index.html").is_file()
    else "dashboard not built (scripts/build-dashboard.sh)"
)
pytestmark = pytest.mark.skipif(_why is not None, reason=_why or "")


def test_dashboard_renders_every_section_with_real_data(
    live_server: Server, tmp_path: Path
) -> None:
    screenshot = Path(os.environ.get("CTC_SCREENSHOT", tmp_path / "dashboard.png"))
    with chromium() as driver:
        driver.set_page_load_timeout(30)
        driver.get(f"{live_server.url}/")
        deadline = time.monotonic() + 30
        ready: dict[str, bool] = {}
        while time.monotonic() < deadline:
            ready = driver.execute_script(SECTIONS_READY_JS)
            if all(ready.values()):
                break
            time.sleep(0.2)
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(screenshot))
        assert screenshot.stat().st_size > 10_000
        assert all(ready.values()), (
            f"sections without data: {[k for k, v in ready.items() if not v]}"
        )

        page = driver.find_element("tag name", "body").text
        assert "For educational and analytical purposes only. Not financial advice." in page
        assert "Coat Tail Capital" in page
        messages = driver.find_elements("css selector", "[data-testid=alert-message]")
        assert len(messages) == 50 and any("Whale" in m.text for m in messages)
        assert driver.find_elements("css selector", "[data-testid=whale-row]")
        spikes = driver.find_elements(
            "css selector",
            "[data-testid=volume-chart] .recharts-line-dot, "
            "[data-testid=volume-chart] .recharts-dot",
        )
        assert spikes, "no anomaly markers on the volume chart"
        quality = driver.find_element("css selector", "[data-testid=health-quality]").text
        assert quality.endswith("%") and float(quality[:-1]) > 95
        assert driver.find_element("css selector", "[data-testid=health-job]").text == "running"

        # pause and resume polling
        indicator = driver.find_element("css selector", "[data-testid=live-indicator]")
        indicator.click()
        assert indicator.get_attribute("data-state") == "paused"
        indicator.click()
        assert indicator.get_attribute("data-state") == "live"

        # another symbol: the charts follow
        driver.execute_script(
            "const s = document.querySelector('[data-testid=symbol-select]');"
            "const set = Object.getOwnPropertyDescriptor(HTMLSelectElement.prototype, 'value').set;"
            "set.call(s, 'ETH-USDT'); s.dispatchEvent(new Event('change', {bubbles: true}));"
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            title = driver.find_element("css selector", "[data-testid=volume-chart] h2").text
            if "ETH-USDT" in title.upper():
                break
            time.sleep(0.2)
        assert "ETH-USDT" in title.upper()
        errors = (
            [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
            if hasattr(driver, "get_log")
            else []
        )
        assert not errors, errors


#: In the page: every element's own text that is a dash standing for a missing value, and
#: each chart's state (drawn, or a frame saying why not).
_HONEST_JS = """
const dashes = [...document.querySelectorAll('body *')]
  .filter((e) => [...e.childNodes].some((n) => n.nodeType === 3 && /[–—]/.test(n.textContent)))
  .map((e) => (e.dataset.testid || e.tagName) + ': ' + e.textContent.trim().slice(0, 60));
const charts = {};
for (const id of ['volume-chart', 'spread-chart']) {
  const card = document.querySelector(`[data-testid=${id}]`);
  if (!card) { charts[id] = ''; continue; }  // the catalog that names it has not come yet
  const drawn = !!card.querySelector('.recharts-bar-rectangle path, path.recharts-curve');
  const empty = card.querySelector('[data-testid=chart-empty]');
  charts[id] = drawn ? 'data' : empty ? empty.textContent.trim() : '';
}
return {
  dashes,
  charts,
  loading: document.querySelectorAll('[data-testid=loading]').length,
  badge: document.querySelector('[data-testid=live-indicator]').textContent.trim(),
  badgeState: document.querySelector('[data-testid=live-indicator]').dataset.state,
  job: (document.querySelector('[data-testid=health-job]') || {}).textContent || '',
  updated: document.querySelector('[data-testid=last-updated]').textContent,
};
"""


def _settled(driver: Any, url: str) -> dict[str, Any]:
    """Load ``url`` and wait until the first poll has answered (no section loading);
    return what _HONEST_JS sees then."""
    driver.set_page_load_timeout(30)
    driver.get(url)
    deadline = time.monotonic() + 30
    seen: dict[str, Any] = {}
    while time.monotonic() < deadline:
        seen = driver.execute_script(_HONEST_JS)
        if (
            not seen["loading"]
            and re.search(r"\d", seen["updated"])
            and all(seen["charts"].values())
        ):
            break
        time.sleep(0.2)
    return seen


def test_dashboard_shows_no_dash_and_every_chart_has_data(live_server: Server) -> None:
    """Over a running job's data: no value is a bare dash, both charts draw data, and the
    badge and the health panel agree that the job runs."""
    with chromium() as driver:
        seen = _settled(driver, f"{live_server.url}/")
    assert seen["loading"] == 0, seen
    assert seen["dashes"] == [], seen["dashes"]
    assert seen["charts"] == {"volume-chart": "data", "spread-chart": "data"}, seen["charts"]
    assert (seen["badge"], seen["badgeState"], seen["job"]) == ("Live", "live", "running")


def test_dashboard_after_a_finished_run_says_so_and_why_charts_are_empty(
    tmp_path: Path,
) -> None:
    """A run that stopped an hour ago, viewed for a symbol traded on one exchange only and
    without volume windows: the badge says the run finished (not "Live") and the health
    panel says stopped; each empty chart says why it is empty; no dash for a missing
    value (the Coinbase price, the spread)."""
    db = tmp_path / "alerts.db"
    store = SqliteAlertStore(db)
    fill_store(store, hours=1, seed=5, status_age_seconds=3600)
    status = store.get_status("ctc")
    assert status is not None
    store.put_status("ctc", {**status, "query_status": "stopped"})
    # XRP-USDT traded on binance alone: a price, spread windows without a spread, no volume
    at = status["max_event_time"]
    store.put_market(
        [
            {
                "symbol": "XRP-USDT",
                "exchange": "binance",
                "price": 0.52,
                "volume_1h": 9e4,
                "updated_at": at,
            }
        ]
    )
    store.put_windows(
        "spread",
        [
            {
                "symbol": "XRP-USDT",
                "exchange": None,
                "window_start": at,
                "value": None,
                "vwap_a": 0.52,
                "vwap_b": None,
            }
        ],
    )
    store.close()
    server = start_server(db, tmp_path / "serve.log")
    try:
        with chromium() as driver:
            seen = _settled(driver, f"{server.url}/?symbol=XRP-USDT")
    finally:
        stop_server(server)
    assert seen["dashes"] == [], seen["dashes"]
    assert (seen["badge"], seen["badgeState"], seen["job"]) == (
        "Run finished",
        "stopped",
        "stopped",
    )
    assert "No volume windows for XRP-USDT" in seen["charts"]["volume-chart"], seen["charts"]
    assert "needs trades on both Binance and Coinbase" in seen["charts"]["spread-chart"]
    assert "(1 window had no value)" in seen["charts"]["spread-chart"]


def test_a_published_series_and_alert_label_need_no_dashboard_change(tmp_path: Path) -> None:
    """A detector the dashboard's code has never heard of: its series (from the catalog a
    run published) gets a chart, its alerts their label in the feed."""
    db = tmp_path / "alerts.db"
    store = SqliteAlertStore(db)
    fill_store(store, hours=1, seed=5)
    catalog = store.get_detector_catalog("ctc")
    assert catalog is not None
    catalog["series"].append(
        {
            "name": "trade_rate",
            "label": "Trades per minute",
            "description": "Trades per 60 s window",
            "unit": "trades",
            "module": "MOD-090",
            "detector": "Trade rate",
            "window": "60 seconds",
            "value_column": "trades",
            "time_column": "window_start",
            "per_exchange": False,
            "details": [],
            "chart": "line",
            "markers": ["busy_minute"],
            "guides": [],
            "metric": None,
            "missing": "",
        }
    )
    catalog["alert_types"].append(
        {
            "type": "busy_minute",
            "label": "Busy minute",
            "module": "MOD-090",
            "detector": "Trade rate",
            "severities": ["low"],
        }
    )
    store.put_detector_catalog("ctc", catalog)
    at = store.get_status("ctc")["max_event_time"]  # type: ignore[index]
    starts = [f"{at[:14]}{m:02d}:00.000000Z" for m in range(0, 50, 5)]
    store.put_windows(
        "trade_rate",
        [{"symbol": "BTC-USDT", "exchange": None, "window_start": s, "value": 40.0 + n}
         for n, s in enumerate(starts)],
    )  # fmt: skip
    store.put_alerts(
        [
            {
                "alert_id": "busy-1",
                "alert_type": "busy_minute",
                "module_id": "MOD-090",
                "symbol": "BTC-USDT",
                "exchange": None,
                "severity": "low",
                "detected_at": "2099-01-01T00:00:00Z",  # the newest alert of the feed
                "message": "BTC-USDT traded 49 times in a minute",
                "details": {"window_start": starts[-1], "trades": 49},
            }
        ]
    )
    store.close()
    server = start_server(db, tmp_path / "serve.log")
    try:
        with chromium() as driver:
            driver.set_page_load_timeout(30)
            driver.get(f"{server.url}/?symbol=BTC-USDT")
            deadline = time.monotonic() + 30
            found: dict[str, Any] = {}
            while time.monotonic() < deadline:
                found = driver.execute_script(
                    "const c = document.querySelector('[data-testid=trade_rate-chart]');"
                    "const first = document.querySelector('[data-testid=alert-item]');"
                    "return {title: c ? c.querySelector('h2').textContent : '',"
                    " drawn: !!(c && c.querySelector('path.recharts-curve')),"
                    " dots: c ? c.querySelectorAll('.recharts-dot').length : 0,"
                    " feed: first ? first.textContent : ''};"
                )
                if found["drawn"] and "Busy" in found["feed"]:
                    break
                time.sleep(0.2)
    finally:
        stop_server(server)
    assert found["title"] == "Trades per minute · BTC-USDT", found
    assert found["drawn"] and found["dots"] >= 1, found
    assert "Busy minute" in found["feed"] and "busy_minute" not in found["feed"], found
