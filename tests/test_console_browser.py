"""The security console in a real browser: Debian's chromium driven by Playwright against the
service started as it runs (`rekisteri serve`, uvicorn on a free port).

The auditor logs in, opens the matrix, follows one masked and one denied cell to the lines
`rekisteri policy explain` names, finds a request just made in the access log, and another
role is refused. Screenshots go to var/screenshots/ (docs/console.md describes them).

Chromium is needed: without it this test fails, unless REKISTERI_SKIP_BROWSER_TESTS=1 says to
skip it (CI never sets it; `.ci/run` installs chromium).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from server.authz.policy import load_policy
from server.schema import catalogue
from server.settings import PROJECT_ROOT
from tests import factories, processes
from tests.conftest import TEST_PASSWORD, user_with_role
from tests.processes import (
    STOP_SECONDS,
    free_port,
    service_env,
    start,
    wait_until_healthy,
)

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SKIP_VARIABLE = "REKISTERI_SKIP_BROWSER_TESTS"
SCREENSHOTS = PROJECT_ROOT / "var" / "screenshots"
MASKED = ("customer_service", "customer_relationship", "Customer.personalIdentityCode")
DENIED = ("auditor", "oversight", "Customer.personalIdentityCode")
TIMEOUT_MS = 15_000


def _chromium() -> Path:
    if CHROMIUM.is_file():
        return CHROMIUM
    if os.environ.get(SKIP_VARIABLE) == "1":
        pytest.skip(f"{CHROMIUM} is missing and {SKIP_VARIABLE}=1")
    pytest.fail(
        f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium), "
        f"or set {SKIP_VARIABLE}=1 to skip the browser tests on this machine"
    )


@pytest.fixture
def service(database_url: str, tmp_path: Path) -> Iterator[str]:
    """`rekisteri serve` on a free port, on the test database; its URL."""
    port = free_port()
    env = service_env(
        database_url, AUDIT_SEAL_INTERVAL_SECONDS="1", POOL_SIZE="3", WEB_CONCURRENCY="1"
    )
    command = processes.rekisteri("serve", "--port", str(port))
    process = start(command, env, tmp_path / "serve.log")
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, process)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=STOP_SECONDS)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    executable = _chromium()
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(executable), args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            await launched.close()


def rekisteri(*arguments: str) -> str:
    """The output of a `rekisteri` command, run as the security team runs it."""
    shown = processes.run_to_end(
        processes.rekisteri(*arguments), {**os.environ, "ENVIRONMENT": "development"}
    )
    shown.check_returncode()
    return shown.stdout


async def explain_cli(role: str, purpose: str, coordinate: str) -> tuple[str, list[str]]:
    """`rekisteri policy explain`'s decision and lines."""
    shown = await asyncio.to_thread(
        rekisteri, "policy", "explain", role, coordinate, "--purpose", purpose
    )
    head, *lines = shown.strip().splitlines()
    return head.rsplit(": ", 1)[1], [line.strip() for line in lines]


async def shot(page: Page, name: str, *, full_page: bool = False) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"console-{name}.png"), full_page=full_page)


async def log_in(page: Page, url: str, username: str) -> int:
    """Log in through the form; the status of the page it lands on."""
    await page.goto(f"{url}/console/")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", TEST_PASSWORD)
    async with page.expect_navigation() as landed:
        await page.click("form button[type=submit]")
    response = await landed.value
    assert response is not None
    return response.status


async def check_cell(page: Page, role: str, purpose: str, coordinate: str, letter: str) -> None:
    """The cell's letter and colour, then its explain page against the command's output."""
    decision, lines = await explain_cli(role, purpose, coordinate)
    href = f"explain?c={coordinate}&r={role}&p={purpose}"
    cell = page.locator(f'table.grid a[href="{href}"]')
    await expect(cell).to_have_text(letter)
    colour = await cell.evaluate("a => getComputedStyle(a.parentElement).backgroundColor")
    expected = {"M": "rgb(255, 224, 143)", "D": "rgb(243, 210, 210)"}[letter]
    assert colour == expected, (coordinate, role, colour)
    await cell.click()
    await page.wait_for_url(re.compile(r"/console/explain\?"))
    section = page.locator(f"section.explain#{role}-{purpose}")
    await expect(section.locator(".chip").first).to_have_text(decision)
    shown = [
        f"{await item.locator('.line').inner_text()}: {await item.locator('code').inner_text()}"
        for item in await section.locator("ol.lines li").all()
    ]
    assert shown == lines


async def test_the_auditor_uses_the_console_and_another_role_is_refused(
    service: str, browser: Browser, owner: asyncpg.Connection
) -> None:
    auditor = await user_with_role(owner, "auditor")
    clerk = await user_with_role(owner, "customer_service")
    customer = await factories.customer(owner)
    request_id = await _read_customer(service, clerk, customer["id"])

    context = await browser.new_context(viewport={"width": 1440, "height": 900})
    page = await context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    blocked: list[str] = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security" in m.text else None)

    await page.goto(f"{service}/console/login")
    await shot(page, "login")
    assert await log_in(page, service, auditor) == 200
    await expect(page.locator("h1")).to_have_text("Status")
    await shot(page, "status")

    await page.click("nav >> text=Policy matrix")
    await expect(page.locator("table.grid")).to_be_visible()
    await shot(page, "matrix")
    await page.fill("input[name=field]", "Customer.personalIdentityCode")  # filters as typed
    await expect(page.locator("table.grid tbody tr[data-c]:visible")).to_have_count(1)
    await shot(page, "matrix-filtered")
    await check_cell(page, *MASKED, "M")
    await shot(page, "explain-masked")
    await page.go_back()
    await check_cell(page, *DENIED, "D")
    await shot(page, "explain-denied")

    await page.click("nav >> text=Diff")
    await expect(page.locator("section.diff h2")).to_contain_text("files on disk")
    await shot(page, "diff")

    await page.click("nav >> text=Access log")
    await page.fill("input[name=customer]", str(customer["customer_number"]))
    await page.click("form.log-search button[type=submit]")
    entry = page.locator("details.entry", has=page.locator(f"code:text-is('{request_id}')"))
    await expect(entry).to_have_count(1)
    await entry.locator("summary").click()
    await expect(entry.locator("table.objects")).to_contain_text("lastName")
    await expect(entry.locator("table.objects tr.hit")).to_contain_text(str(customer["id"]))
    await shot(page, "log-search")
    await context.close()

    refused = await browser.new_context(viewport={"width": 1000, "height": 500})
    other = await refused.new_page()
    other.set_default_timeout(TIMEOUT_MS)
    assert await log_in(other, service, clerk) == 403
    await expect(other.locator("h1")).to_have_text("Not for your roles")
    await shot(other, "refused")
    await other.goto(f"{service}/console/log")
    await expect(other).to_have_url(re.compile(r"/console/login\?next="))
    await refused.close()
    assert blocked == []  # nothing the page needs is refused by its CSP


async def test_the_standalone_matrix_filters_in_the_file_itself(
    browser: Browser, tmp_path: Path
) -> None:
    """`policy matrix --format html`: the same grid, its filter working without a server."""
    written = await asyncio.to_thread(rekisteri, "policy", "matrix", "--format", "html")
    path = tmp_path / "matrix.html"
    path.write_text(written, encoding="utf-8")
    page = await browser.new_page(viewport={"width": 1440, "height": 900})
    page.set_default_timeout(TIMEOUT_MS)
    await page.goto(path.as_uri())
    purposes = page.locator("table.grid thead th.purpose:visible")
    policy = load_policy(PROJECT_ROOT / "policies", catalogue())
    # One column per role and purpose it may act under.
    assert await purposes.count() == sum(len(p) for p in policy.role_purposes.values())
    await page.select_option("select[name=role]", "customer_service")
    await expect(purposes).to_have_count(3)
    await page.fill("input[name=field]", "personalIdentityCode")
    rows = page.locator("table.grid tbody tr[data-c]:visible")
    await expect(rows).to_have_count(1)
    first = rows.first.locator("td:visible")
    assert [await cell.inner_text() for cell in await first.all()] == ["M", "M", "M"]
    await shot(page, "matrix-standalone")
    await page.close()


async def _read_customer(url: str, username: str, customer_id: Any) -> str:
    """A GraphQL request as a customer-service user; its request ID."""
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        login = await http.post(
            "/auth/token", json={"username": username, "password": TEST_PASSWORD}
        )
        token = login.json()["access_token"]
        read = await http.post(
            "/graphql",
            json={"query": f'{{ customer(id: "{customer_id}") {{ customerNumber lastName }} }}'},
            headers={"Authorization": f"Bearer {token}", "X-Purpose": "customer_relationship"},
        )
    assert read.json()["data"]["customer"]["customerNumber"] is not None
    request_id: str = read.json()["extensions"]["requestId"]
    return request_id
