"""The built dashboard in headless Debian Chromium against `ctc serve` over sample data:
all six sections show real data. The screenshot goes to the test's temporary folder, or
to $CTC_SCREENSHOT (the README's picture: CTC_SCREENSHOT=docs/dashboard.png pytest ...)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from browser import SECTIONS_READY_JS, chromium, missing_browser
from servekit import Server

from ctc.serve.server import STATIC_DIR

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
