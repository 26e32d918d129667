"""The app in a real browser: start ``streamlit run``, pick two drugs in headless Chromium, read the answer,
open its link.

Needs Debian's ``chromium`` (``/usr/bin/chromium``) and the ``playwright`` Python package (no downloaded
browser: Playwright drives the system Chromium). Saves a screenshot of the answer; with ``DDI_UPDATE_SCREENSHOT``
set it also replaces ``docs/screenshot.png``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Model load on first request, on a busy two-core machine.
STARTUP_SECONDS = 180
ANSWER_MS = 240_000

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.is_file(), reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def app_url(served_model, tmp_path) -> Iterator[str]:
    """A ``streamlit run app/main.py`` server for the tiny model; stopped after the test."""
    port = free_port()
    # DDI_SCREENSHOT_MODEL serves another model (the shipped one) when retaking the README screenshot.
    model = os.environ.get("DDI_SCREENSHOT_MODEL") or str(served_model)
    env = {**os.environ, "DDI_MODEL_DIR": model, "PYTHONUNBUFFERED": "1"}
    log = (tmp_path / "streamlit.log").open("w")
    command = [
        sys.executable, "-m", "streamlit", "run", str(ROOT / "app" / "main.py"),
        "--server.headless", "true", "--server.port", str(port), "--server.address", "127.0.0.1",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"streamlit did not start: {(tmp_path / 'streamlit.log').read_text()[-2000:]}")
            time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def pick(page, side: int, text: str, option: str) -> None:
    """Type ``text`` into the searchable drug picker of ``side`` and click the listed ``option``."""
    box = page.locator(f".st-key-pick{side} input")
    box.click()
    box.fill(text)
    page.locator('[role="option"]').filter(has_text=option).first.click(timeout=30_000)
    deadline = time.monotonic() + 30
    while box.input_value() != option:
        assert time.monotonic() < deadline, f"picker {side} shows {box.input_value()!r}, not {option!r}"
        page.wait_for_timeout(200)


def test_pick_two_drugs_and_read_the_answer_in_a_browser(app_url, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(app_url)
            page.get_by_text("Choose two drugs").wait_for(timeout=ANSWER_MS)
            pick(page, 1, "clarithro", "Clarithromycin (DB01211)")
            pick(page, 2, "simvastatin", "Simvastatin (DB00641)")
            sentence = page.locator("h3").filter(has_text="Simvastatin").filter(has_text="Clarithromycin").first
            sentence.wait_for(timeout=ANSWER_MS)
            page.get_by_text("DrugBank already lists this pair").wait_for()
            page.get_by_text("Relation paths the model weighed most").wait_for()
            page.get_by_text("Pharmacology rules that fire").wait_for()
            page.locator(".stGraphVizChart svg").first.wait_for(timeout=60_000)
            page.locator('[data-testid="stImage"] img').nth(1).wait_for(timeout=60_000)
            assert "Clarithromycin" in sentence.inner_text()
            assert not page.locator('[data-testid="stException"]').count()
            # The app scrolls inside its main container, not the page: grow the window to the content.
            height = page.evaluate("document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
            page.set_viewport_size({"width": 1400, "height": min(int(height) + 40, 6000)})
            page.wait_for_timeout(1000)
            shot = tmp_path / "screenshot.png"
            page.screenshot(path=str(shot), full_page=True)
            # The address bar links to the answer; opened in another tab, the link shows the pair again.
            assert page.url.endswith("?drug1=DB01211&drug2=DB00641"), page.url
            linked = browser.new_page()
            linked.goto(f"{app_url}/?drug1=DB00682&drug2=aspirin")
            answer = linked.locator("h3").filter(has_text="Warfarin").filter(has_text="Acetylsalicylic acid").first
            answer.wait_for(timeout=ANSWER_MS)
            # A regimen's link lists its pairs; a pair's "explain" opens that pair's answer.
            regimen = browser.new_page()
            regimen.goto(f"{app_url}/Regimen?drug=DB01211&drug=DB00641")
            regimen.get_by_text("1 pair(s)").wait_for(timeout=ANSWER_MS)
            regimen.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=60_000)
            # The grid is drawn on a canvas, so follow the link as the browser resolves it from this page.
            target = regimen.evaluate("new URL('./?drug1=DB01211&drug2=DB00641', location.href).href")
            regimen.goto(target)
            regimen.locator("h3").filter(has_text="Simvastatin").first.wait_for(timeout=ANSWER_MS)
        finally:
            browser.close()
    assert shot.stat().st_size > 10_000
    if os.environ.get("DDI_UPDATE_SCREENSHOT"):  # only on request: the committed picture shows the shipped model
        shutil.copyfile(shot, ROOT / "docs" / "screenshot.png")
