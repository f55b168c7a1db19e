"""The dashboard's polls in headless Chromium against `ctc serve`: once the data stop
changing, a poll's answers are 304s (the browser revalidates with the ETag), so each
costs a few hundred header bytes instead of the whole answer."""

from __future__ import annotations

import time

import pytest
from browser import SECTIONS_READY_JS, chromium, missing_browser
from servekit import Server

from ctc.serve.static_files import STATIC_DIR

_why = missing_browser() or (
    None if (STATIC_DIR / "index.html").is_file() else "dashboard not built"
)
pytestmark = pytest.mark.skipif(_why is not None, reason=_why or "")

#: The dashboard's poll interval (dashboard/src/App.jsx POLL_MS) plus a margin.
SECOND_POLL_AFTER_SECONDS = 11.5

_API_ENTRIES_JS = """
return performance.getEntriesByType('resource')
  .filter((e) => e.name.includes('/api/'))
  .map((e) => [e.name.split('/api/')[1], e.transferSize, e.encodedBodySize]);
"""


def test_an_unchanged_poll_transfers_headers_only(live_server: Server) -> None:
    with chromium() as driver:
        driver.get(f"{live_server.url}/")
        deadline = time.monotonic() + 30
        while not all(driver.execute_script(SECTIONS_READY_JS).values()):
            assert time.monotonic() < deadline, "the dashboard did not show its data"
            time.sleep(0.2)
        time.sleep(SECOND_POLL_AFTER_SECONDS)
        entries = driver.execute_script(_API_ENTRIES_JS)
    seen: dict[str, list[tuple[int, int]]] = {}
    for name, transferred, body in entries:
        seen.setdefault(name, []).append((transferred, body))
    alerts = seen["alerts?limit=50"]
    assert len(alerts) >= 2, seen
    (first_sent, body), (again_sent, same_body) = alerts[0], alerts[1]
    assert body == same_body > 10_000
    assert first_sent > body and again_sent < 1_000  # a 304: headers only
    for name in ("metrics/", "series/volume/", "series/spread/"):
        polls = next(v for k, v in seen.items() if k.startswith(name))
        assert len(polls) >= 2 and polls[1][0] < polls[1][1], (name, polls)
