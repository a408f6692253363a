"""End to end in a real browser: ``streamlit run app.py`` on a free localhost port, driven by
Playwright in Debian's headless Chromium (never a downloaded browser build).

The server loads the toy model (``-- --models tests.models.toy``) so the test does not depend
on the size of the real models. It compares two scenarios, checks that the charts rendered
(vega-embed drew a canvas or an SVG) and downloads a figure as PNG.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PNG = b"\x89PNG\r\n\x1a\n"
TIMEOUT_MS = 60_000


def _need(condition: bool, reason: str) -> None:
    """Skip on a developer machine without the browser; in CI (``CI`` set) fail instead."""
    if not condition:
        (pytest.fail if os.environ.get("CI") else pytest.skip)(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen, log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"streamlit exited with {proc.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"streamlit did not answer within {seconds} s:\n{log.read_text()}")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = _free_port()
    log = tmp_path_factory.mktemp("streamlit") / "server.log"
    command = [
        sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
        "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none", "--", "--models", "tests.models.toy",
    ]
    with log.open("w") as out:
        proc = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc, log)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _need(False, "playwright is missing (pip install -e '.[dev]')")
    _need(Path(CHROMIUM).exists(), f"{CHROMIUM} is missing (apt-get install chromium)")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def test_scenario_comparison_renders_charts_and_downloads_png(server, browser, tmp_path):
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1400, "height": 2400}, accept_downloads=True)
    page.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    page.goto(server)
    run = page.get_by_role("button", name="Run scenarios")
    expect(run).to_be_visible()

    page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first.click()
    page.get_by_role("option", name="toy: Toy emission model").click()
    expect(page.get_by_role("heading", name="Toy emission model")).to_be_visible()
    for label, value in (("Monte Carlo samples", "4"), ("Timesteps", "12")):
        box = page.get_by_role("spinbutton", name=label, exact=True)
        box.fill(value)
        box.press("Enter")
        expect(box).to_have_value(value)
    emission_b = page.get_by_role("spinbutton", name="emission (tokens/step)").nth(1)
    emission_b.fill("300")
    emission_b.press("Enter")
    expect(emission_b).to_have_value("300")

    run.click()
    expect(page.get_by_text("Ran 2 scenarios x 4 samples")).to_be_visible()
    drawn = page.locator(".vega-embed canvas, .vega-embed svg.marks")
    expect(drawn.nth(3)).to_be_visible()  # two metrics x (time series, distribution)
    page.screenshot(path=str(tmp_path / "scenarios.png"), full_page=True)

    export = page.get_by_test_id("stExpander").filter(has_text="Export: toy_mean_balance_timeseries")
    export.get_by_text("Export: toy_mean_balance_timeseries").click()
    with page.expect_download() as info:
        export.get_by_test_id("stDownloadButton").get_by_role("button", name="PNG", exact=True).click()
    download = info.value
    assert download.suggested_filename == "toy_mean_balance_timeseries.png"
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    data = path.read_bytes()
    assert data.startswith(PNG) and len(data) > 5000
    page.close()
