"""Headless Debian Chromium for the dashboard tests (selenium + Debian's chromedriver)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

#: Debian's chromium and chromedriver; CTC_CHROMIUM / CTC_CHROMEDRIVER name others (e.g. on
#: GitHub's Ubuntu runners, whose Chrome and driver are preinstalled elsewhere)
CHROMIUM = Path(os.environ.get("CTC_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("CTC_CHROMEDRIVER", "/usr/bin/chromedriver"))

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--no-first-run",
    "--window-size=1440,1300",
)

#: True once every dashboard section shows real data (run in the page).
SECTIONS_READY_JS = """
const q = (s) => document.querySelector(s);
const text = (s) => (q(s) && q(s).textContent) || "";
const ready = {
  header: /Live/.test(text('[data-testid=live-indicator]'))
    && /\\d/.test(text('[data-testid=last-updated]')),
  alerts: text('[data-testid=alert-message]').length > 10 && !!q('[data-testid=severity-badge]'),
  volume: !!q('[data-testid=volume-chart] .recharts-bar-rectangle path'),
  spread: !!q('[data-testid=spread-chart] path.recharts-curve'),
  whales: !!q('[data-testid=whale-row]'),
  health: /\\d/.test(text('[data-testid=health-quality]'))
    && /\\d/.test(text('[data-testid=health-lag]')),
};
return ready;
"""


def missing_browser() -> str | None:
    """Why the browser tests cannot run here, or None."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[dev]')"
    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        return (
            "Debian chromium/chromedriver not found at /usr/bin "
            "(apt-get install -y chromium chromium-driver)"
        )
    return None


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium WebDriver with a fresh profile; quit afterwards."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="ctc-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
