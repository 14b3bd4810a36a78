"""What the browser tests share: Debian's Chromium under Playwright, a fresh checked tab, sign-in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh tab at 1366×768 that fails the test on any uncaught script error."""
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert errors == [], f"script errors on the page: {errors}"


def sign_in(page: Page, key: str, url: str | None = None) -> None:
    """Open `url` (when given) and submit `key` in the page's sign-in form."""
    if url is not None:
        page.goto(url)
    page.fill("#login-key", key)
    page.press("#login-key", "Enter")


def wait_for_image(page: Page, file_id: str) -> None:
    """Wait until the file's <img> has loaded. By selector, not by element handle: a re-render
    (a later event of the job) replaces the <img>, and a handle to the old one never loads."""
    page.wait_for_function("sel => { const img = document.querySelector(sel); "
                           "return img !== null && img.complete && img.naturalWidth > 0; }",
                           arg=f'article[data-file-id="{file_id}"] figure img')
