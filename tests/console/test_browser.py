"""The console in a real browser: Debian's headless Chromium, driven by Selenium
through chromium-driver, against the console served on 127.0.0.1 and the local TikTok
emulator. The whole journey of a new operator (authorize a credential, add a
destination from listed choices, test it, validate, send examples/events.csv, watch it
finish, open the run, download its rejects); the refusals without the token and
without the CSRF token; a crawl of every page after a credential was added by hand,
which finds its secrets nowhere. Each screen is saved as a screenshot
(``browser_support.SCREENSHOTS``)."""

from __future__ import annotations

import csv
import sys
from collections import deque
from pathlib import Path
from urllib.parse import urlsplit

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from browser_support import (
    Served,
    chromium_paths,
    new_browser,
    policy_violations,
    screenshot,
    wait_until,
)
from cli_support import start_console, stop_console

import amp_destinations as amp

pytest.importorskip("selenium", reason="the browser tests need selenium (the [test] extra)")
if chromium_paths() is None:
    pytest.skip(
        "Debian's chromium and chromium-driver are not installed "
        "(apt-get install chromium chromium-driver; .ci/run does)",
        allow_module_level=True,
    )

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from amp_destinations.console import create_app
from tiktok_ads_events.emulator import Emulator

sys.path.insert(0, str(Path(__file__).parents[2] / "plugins" / "tiktok_ads_events" / "tests"))
import e2e_support as e2e

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

CREDENTIAL = "tiktok-demo"
DESTINATION = "tiktok-store-sales"


@pytest.fixture
def emulator():
    with Emulator() as emu:
        yield emu


@pytest.fixture
def app(home):
    return create_app(home, registry=amp.load_plugins())


@pytest.fixture
def served(app):
    with Served(app) as served:
        yield served


@pytest.fixture
def operator_console(tmp_path):
    """``amp-dest console`` as a new operator starts it: its address with the token,
    and its home."""
    process, url = start_console(tmp_path)
    yield url, tmp_path / "home"
    assert stop_console(process) == 0


@pytest.fixture
def downloads(tmp_path):
    path = tmp_path / "downloads"
    path.mkdir()
    return path


@pytest.fixture
def driver(tmp_path, downloads):
    browser = new_browser(tmp_path / "profile", downloads)
    yield browser
    browser.quit()


def sign_in(driver, served, app) -> None:
    driver.get(f"{served.base_url}/?token={app.state.token}")
    wait_until(lambda: driver.find_elements(By.CSS_SELECTOR, "h1"), "the first page")
    assert "token=" not in driver.current_url


def text(driver) -> str:
    return driver.find_element(By.TAG_NAME, "body").text


def fill(driver, element_id: str, value: str) -> None:
    element = driver.find_element(By.ID, element_id)
    element.clear()
    element.send_keys(value)


def choose_listed(driver, setting: str) -> str:
    """Press the setting's "List from the remote system" and pick the first value."""
    driver.find_element(By.ID, f"list-{setting}").click()
    select = wait_until(
        lambda: [
            element
            for element in driver.find_elements(By.CSS_SELECTOR, f"select#in-{setting}")
            if len(element.find_elements(By.TAG_NAME, "option")) > 1
        ],
        f"the values listed for {setting}",
    )[0]
    Select(select).select_by_index(1)
    return select.get_attribute("value")


def wait_for_run_end(driver) -> str:
    """Stay on the run's page until it ended (the progress fragment updates it, then
    the page reloads to its summary); its final status."""
    wait_until(
        lambda: driver.find_elements(By.CSS_SELECTOR, "#progress:not([hx-get])"),
        "the run to end",
        timeout=120,
    )
    return driver.find_element(By.ID, "run-status").text


def test_the_whole_journey_of_a_new_operator(
    driver, operator_console, emulator, tmp_path, downloads
):
    url, home = operator_console
    base = url.split("/?")[0]
    driver.get(url)
    wait_until(lambda: driver.find_elements(By.CSS_SELECTOR, "h1"), "the first page")
    assert "token=" not in driver.current_url
    screenshot(driver, "01-destinations-empty")

    driver.get(f"{base}/plugins")
    assert "tiktok-offline-events" in text(driver)
    screenshot(driver, "02-plugins")

    # A credential, authorized at the emulator's page.
    driver.get(f"{base}/credentials")
    Select(driver.find_element(By.ID, "new-type")).select_by_value("tiktok-offline-events")
    driver.find_element(By.CSS_SELECTOR, "form.inline button[type=submit]").click()
    wait_until(lambda: driver.find_elements(By.ID, "authorize-form"), "the authorize form")
    fill(driver, "authorize-name", CREDENTIAL)
    fill(driver, "auth-app_id", e2e.APP_ID)
    fill(driver, "auth-app_secret", e2e.APP_SECRET)
    fill(driver, "auth-api_base_url", emulator.base_url)
    screenshot(driver, "03-credential-new")
    driver.find_element(By.ID, "authorize").click()
    link = wait_until(
        lambda: driver.find_elements(By.ID, "authorization-page"), "the authorization link"
    )[0]
    console_window = driver.current_window_handle
    screenshot(driver, "04-authorize-waiting")
    link.click()
    wait_until(lambda: len(driver.window_handles) == 2, "the authorization page's tab")
    driver.switch_to.window(next(h for h in driver.window_handles if h != console_window))
    approve = wait_until(
        lambda: driver.find_elements(By.CSS_SELECTOR, "button[value=authorize]"),
        "the emulator's Authorize button",
    )[0]
    approve.click()  # the emulator redirects to the host's loopback listener
    # The emulator is on 127.0.0.1 too: wait until the tab has left it for the host's
    # listener, or closing the tab could cancel the redirect before it is followed.
    wait_until(
        lambda: (
            driver.current_url.startswith("http://127.0.0.1")
            and not driver.current_url.startswith(emulator.base_url)
        ),
        "the redirect",
    )
    driver.close()
    driver.switch_to.window(console_window)
    wait_until(lambda: driver.find_elements(By.ID, "authorized"), "the authorization to end")
    screenshot(driver, "05-authorized")
    driver.get(f"{base}/credentials")
    assert "refresh_token: set (keyring)" in text(driver)
    screenshot(driver, "06-credentials")

    # A destination from the advertisers and event sets the account lists.
    driver.get(f"{base}/destinations")
    Select(driver.find_element(By.ID, "new-type")).select_by_value("tiktok-offline-events")
    driver.find_element(By.ID, "next").click()
    wait_until(lambda: driver.find_elements(By.ID, "destination-form"), "the destination form")
    fill(driver, "destination-name", DESTINATION)
    assert Select(driver.find_element(By.ID, "in-credential")).first_selected_option.text == (
        CREDENTIAL
    )
    assert choose_listed(driver, "advertiser_id") == e2e.ADVERTISER_ID
    assert choose_listed(driver, "event_set_id") == e2e.EVENT_SET_ID
    fill(driver, "in-event_set_name", e2e.EVENT_SET_NAME)
    fill(driver, "in-api_base_url", emulator.base_url)
    screenshot(driver, "07-destination-new")
    driver.find_element(By.ID, "save-destination").click()
    wait_until(
        lambda: driver.find_elements(By.CSS_SELECTOR, "#saved, p.error"), "the destination saved"
    )
    assert driver.find_elements(By.ID, "saved"), text(driver)
    assert "Connection OK" in text(driver)  # tested on save, each check shown

    # Tested on demand.
    driver.find_element(By.ID, "test-connection").click()
    wait_until(lambda: driver.find_elements(By.ID, "tested-now"), "the connection test")
    assert "Connection OK" in text(driver)
    screenshot(driver, "08-destination")

    # Validate, then send the shipped rows (timestamps moved to end now, as the demo does).
    events = e2e.write_refreshed_events(tmp_path / "events.csv")
    driver.find_element(By.ID, "send-here").click()
    wait_until(lambda: driver.find_elements(By.ID, "send-form"), "the send form")
    fill(driver, "in-input", str(events))
    fill(driver, "in-sample", "20")
    fill(driver, "in-test-event-code", "CONSOLE-TEST")
    screenshot(driver, "09-send")
    driver.find_element(By.ID, "validate").click()
    assert wait_for_run_end(driver) == "succeeded"
    assert "Ready" in driver.find_element(By.ID, "verdict").text
    screenshot(driver, "10-validation-run")

    driver.get(f"{base}/send?destination={DESTINATION}")
    fill(driver, "in-input", str(events))
    driver.find_element(By.ID, "send").click()
    wait_until(lambda: "/runs/" in driver.current_url, "the run's page")
    assert wait_for_run_end(driver) == "succeeded"
    run_id = int(driver.current_url.rsplit("/", 1)[1])
    with amp.Host(home) as host:  # what the console's process recorded
        run = host.run(run_id)
    assert run.rows_read == e2e.SHIPPED_ROWS == run.delivered + run.rejected
    assert run.rejected == len(e2e.make_events.expected_rejects(e2e.SHIPPED_ROWS))
    assert driver.find_elements(By.ID, "rejects-by-reason")
    assert driver.find_elements(By.CSS_SELECTOR, "#coverage meter")
    screenshot(driver, "11-run")

    driver.find_element(By.ID, "download-rejects").click()
    saved = downloads / f"run-{run_id}-rejects.csv"
    wait_until(saved.exists, "the rejects file")
    with open(saved, newline="") as handle:
        assert len(list(csv.DictReader(handle))) == run.rejected

    driver.get(f"{base}/runs")
    assert len(driver.find_elements(By.CSS_SELECTOR, "tbody tr")) == 2
    screenshot(driver, "12-runs")
    driver.get(f"{base}/destinations")
    assert f"run {run_id}" in text(driver)
    screenshot(driver, "13-destinations")
    # htmx did all of the above under the strict policy: nothing was refused.
    assert policy_violations(driver) == []


def test_without_the_token_or_the_csrf_token_the_console_refuses(driver, served, app):
    driver.get(f"{served.base_url}/credentials")
    assert "Access refused" in text(driver)
    driver.get(f"{served.base_url}/?token=not-the-token")
    assert "Access refused" in text(driver)
    screenshot(driver, "14-refused")
    sign_in(driver, served, app)
    driver.get(f"{served.base_url}/credentials/new?type=tiktok-offline-events")
    fill(driver, "credential-name", "forged")
    driver.execute_script(
        "document.querySelector('#credential-form input[name=csrf_token]').remove()"
    )
    driver.find_element(By.ID, "add-credential").click()
    wait_until(lambda: "CSRF" in text(driver), "the refusal")
    with app.state.console.open_host() as host:
        assert host.credentials() == []
    # The policy in force: an image from another site, added to the page, is refused
    # by the browser before any request (the address is never looked up).
    policy_violations(driver)
    driver.execute_script(
        "const img = document.createElement('img');"
        "img.src = 'https://assets.example.invalid/pixel.png'; document.body.append(img);"
    )
    wait_until(lambda: policy_violations(driver), "the browser to refuse the image")
    # The token was used once: a browser without the session cannot use it again.
    driver.delete_all_cookies()
    driver.get(f"{served.base_url}/?token={app.state.token}")
    assert "Access refused" in text(driver)


def crawl(driver, base: str) -> dict[str, str]:
    """Every page of the console reachable by a link from its first page: its source."""
    seen: dict[str, str] = {}
    queue = deque(["/"])
    while queue:
        path = queue.popleft()
        if path in seen:
            continue
        driver.get(base + path)
        source = driver.page_source
        seen[path] = source
        values = driver.execute_script(
            "return Array.from(document.querySelectorAll('input, textarea, select'))"
            ".map(e => e.value).join('\\n')"
        )
        seen[path + " (values)"] = values
        for link in driver.find_elements(By.CSS_SELECTOR, "a[href]"):
            href = link.get_attribute("href")
            parts = urlsplit(href)
            if href.startswith(base) and not parts.path.endswith("/rejects"):
                queue.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return seen


def test_no_page_shows_a_secret_of_a_credential_added_by_hand(
    driver, served, app, emulator, tmp_path, home
):
    sign_in(driver, served, app)
    driver.get(f"{served.base_url}/credentials/new?type=tiktok-offline-events")
    fill(driver, "credential-name", "by-hand")
    fill(driver, "in-refresh_token", e2e.LONG_TERM_TOKEN)
    fill(driver, "in-api_base_url", emulator.base_url)
    driver.find_element(By.ID, "add-credential").click()
    wait_until(lambda: "Added." in text(driver), "the credential added")
    screenshot(driver, "15-credential")
    with app.state.console.open_host() as host:  # pages with a destination and runs too
        host.add_destination(
            DESTINATION,
            "tiktok-offline-events",
            "by-hand",
            {
                "advertiser_id": e2e.ADVERTISER_ID,
                "event_set_id": e2e.EVENT_SET_ID,
                "api_base_url": emulator.base_url,
            },
        )
        events = e2e.write_refreshed_events(tmp_path / "events.csv")
        host.send(DESTINATION, input=events, dry_run=True)
        host.send(DESTINATION, input=events)
    pages = crawl(driver, served.base_url)
    assert {"/plugins", "/credentials", "/credentials/by-hand", "/runs", "/runs/2"} <= set(pages)
    first_row = e2e.read_rows(events)[0]
    for path, source in pages.items():
        assert e2e.LONG_TERM_TOKEN not in source, path
        # Rows' personal data neither: the dry run's request bodies carry it hashed.
        assert first_row["email"] not in source and first_row["phone"] not in source, path
    assert e2e.sha256_hex(first_row["email"].strip().lower()) in pages["/runs/1"]
    for path in home.rglob("*"):
        if path.is_file():
            assert e2e.LONG_TERM_TOKEN.encode() not in path.read_bytes(), path


def replaced(element) -> bool:
    """Whether the page no longer holds ``element`` (it navigated or reloaded)."""
    from selenium.common.exceptions import StaleElementReferenceException

    try:
        element.is_enabled()
    except StaleElementReferenceException:
        return True
    return False


def test_a_run_is_watched_live_stopped_and_resumed(driver, home, registry, ready_host, tmp_path):
    """Live progress without a reload, Stop, Resume: with the recorder plugin answering
    slowly, so that the run lasts long enough to be watched."""
    # 600 batches of 10, 0.3 s each, 24 in flight: about 8 s unless stopped.
    ready_host.update_destination("rec", {"delay": 0.3})
    path = tmp_path / "in.csv"
    path.write_text("id,email\n" + "".join(f"E{i},user{i}@example.com\n" for i in range(1, 6001)))
    app = create_app(home, registry=registry)
    with Served(app) as served:
        sign_in(driver, served, app)
        driver.get(f"{served.base_url}/send?destination=rec")
        fill(driver, "in-input", str(path))
        driver.find_element(By.ID, "send").click()
        wait_until(lambda: driver.find_elements(By.ID, "stop"), "the run's page")
        driver.execute_script("window.stillThisPage = true")
        first = driver.find_element(By.ID, "counts").text
        wait_until(
            lambda: driver.find_element(By.ID, "counts").text != first, "the figures to move"
        )
        assert driver.execute_script("return window.stillThisPage === true")  # no reload
        screenshot(driver, "16-run-live")
        driver.find_element(By.ID, "stop").click()
        assert wait_for_run_end(driver) == "interrupted"
        assert "stopped by the operator" in driver.find_element(By.ID, "run-error").text
        ready_host.update_destination("rec", {"delay": 0.0})
        progress = driver.find_element(By.ID, "progress")
        driver.find_element(By.ID, "resume").click()
        wait_until(lambda: replaced(progress), "the resumed run's page")
        assert wait_for_run_end(driver) == "succeeded"
        assert "6,000 delivered" in driver.find_element(By.ID, "counts").text
        screenshot(driver, "17-run-resumed")
