"""Debian's chromium driven by Selenium, for the tests that look at pages as a person does (skips without chromium,
chromium-driver or the other tools a test names; fails instead under CI=true)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from tests.conftest import unavailable

CHROMIUM, DRIVER = shutil.which("chromium") or "/usr/bin/chromium", shutil.which("chromedriver") or "/usr/bin/chromedriver"


def chrome(width: int, height: int, *, tools: tuple[str, ...] = (), extra: tuple[str, ...] = ()) -> Any:
    """A headless chromium window of ``width`` x ``height`` CSS pixels (``tools``: other programs the test needs)."""
    if not (Path(CHROMIUM).exists() and Path(DRIVER).exists() and all(shutil.which(t) for t in tools)):
        unavailable(f"chromium, chromium-driver{''.join(', ' + t for t in tools)} are not installed "
                    "(apt-get install chromium chromium-driver poppler-utils)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", f"--window-size={width},{height}", *extra):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service(DRIVER), options=options)


def click(driver: Any, by: str, value: str, timeout: float = 30) -> None:
    """Find and click an element of a page that may still be re-rendering (Airflow's React UI): a click on an
    element replaced meanwhile (StaleElementReferenceException) is retried on the new one, until ``timeout``."""
    import time

    from selenium.common.exceptions import StaleElementReferenceException

    deadline = time.monotonic() + timeout
    while True:
        try:
            driver.find_element(by, value).click()
            return
        except StaleElementReferenceException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
