"""The console served for real (uvicorn on 127.0.0.1, a free port) and Debian's
headless Chromium driving it through Selenium and chromium-driver. Nothing is
downloaded: the browser and its driver are the system's, named by path, so Selenium's
own driver manager never runs.

Screenshots of each screen go to ``AMP_DEST_SCREENSHOTS`` (default:
``build/console-screenshots`` in the repository), the browser tests' artifacts.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

import uvicorn

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(os.environ.get("AMP_DEST_SCREENSHOTS", REPO / "build" / "console-screenshots"))
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1000",
)
WAIT_SECONDS = 30.0


def chromium_paths() -> tuple[str, str] | None:
    """Debian's chromium and its chromedriver, or None when either is missing."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


class Served:
    """An ASGI app served by uvicorn in a thread, on a free port of 127.0.0.1."""

    def __init__(self, app):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.base_url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def __enter__(self) -> Served:
        self.thread.start()
        deadline = time.monotonic() + WAIT_SECONDS
        while not self.server.started:
            assert time.monotonic() < deadline, "the console did not start"
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(WAIT_SECONDS)
        self.sock.close()


def new_browser(user_data_dir: Path, downloads: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    paths = chromium_paths()
    assert paths is not None
    browser, driver = paths
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={user_data_dir}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # CSP reports, below
    options.add_experimental_option(
        "prefs",
        {
            "download.default_directory": str(downloads),
            "download.prompt_for_download": False,
            "safebrowsing.enabled": False,
        },
    )
    return webdriver.Chrome(service=Service(executable_path=driver), options=options)


def wait_until(condition: Callable[[], object], what: str, timeout: float = WAIT_SECONDS):
    """``condition()`` once it is true. An element that went away while it was read (the
    page changed under it: a submit, a reload, an htmx swap) counts as not yet."""
    from selenium.common.exceptions import StaleElementReferenceException

    deadline = time.monotonic() + timeout
    while True:
        try:
            found = condition()
        except StaleElementReferenceException:
            found = None
        if found:
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def screenshot(driver, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    # The whole page: as tall as its content, as wide as the window.
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, max(700, min(int(height) + 120, 4000)))
    driver.save_screenshot(str(path))
    driver.set_window_size(1280, 1000)
    return path


def policy_violations(driver) -> list[str]:
    """What the browser's console said about the Content-Security-Policy since the last
    call: a refused script, style or request is reported there."""
    return [
        entry["message"]
        for entry in driver.get_log("browser")
        if "Content Security Policy" in entry["message"] or "Refused to" in entry["message"]
    ]
