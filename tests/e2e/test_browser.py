"""End to end in a real browser: ``streamlit run app.py`` on a free localhost port, driven by
Playwright in Debian's headless Chromium (never a downloaded browser build).

The server loads the toy model (``-- --models tests.models.toy``) so the test does not depend
on the size of the real models. It opens the first screen, compares two scenarios, checks that
the charts rendered (vega-embed drew a canvas or an SVG), downloads a figure as PNG and its data
as CSV with two clicks in a row (a download must not rerun the page), then runs a two-parameter
sweep and downloads its heatmap; a Cancel mid-run shows partial results; a saved session loads in
another browser session. Screenshots go to ``tests/e2e/artifacts/`` (``TOKENSIM_E2E_ARTIFACTS``
overrides; gitignored) for CI to keep as artefacts.
"""
from __future__ import annotations

import os
import re
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
ARTIFACTS = Path(os.environ.get("TOKENSIM_E2E_ARTIFACTS") or Path(__file__).resolve().parent / "artifacts")


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


def _fill(page, label: str, value: str, nth: int = 0) -> None:
    from playwright.sync_api import expect

    box = page.get_by_role("spinbutton", name=label, exact=True).nth(nth)
    box.fill(value)
    box.press("Enter")
    expect(box).to_have_value(value)


def _download(page, container, name: str, folder: Path) -> bytes:
    with page.expect_download() as info:
        container.get_by_test_id("stDownloadButton").get_by_role("button", name=name, exact=True).click()
    download = info.value
    path = folder / download.suggested_filename
    download.save_as(path)
    return path.read_bytes()


def _pick(page, label: str, option: str) -> None:
    """Choose ``option`` in the multiselect labelled ``label``."""
    select = page.get_by_test_id("stMultiSelect").filter(has_text=label)
    select.locator("input").click()
    page.get_by_role("option", name=option, exact=True).click()
    page.keyboard.press("Escape")


def test_start_scenarios_downloads_and_sweep_heatmap(server, browser, tmp_path):
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 2400}, accept_downloads=True)
    page.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    page.goto(server)
    expect(page.get_by_test_id("stMain").get_by_role("heading", name="tokensim", exact=True)).to_be_visible()
    expect(page.get_by_text("simulates token-incentive and governance mechanisms")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "start.png"), full_page=True)

    page.get_by_test_id("stSidebar").get_by_text("toy", exact=True).click()
    page.get_by_test_id("stSidebarNav").get_by_text("Scenarios").click()
    expect(page.get_by_role("heading", name="Toy emission model")).to_be_visible()
    expect(page.get_by_test_id("stExpander").filter(has_text="About this model").locator("details")).to_have_attribute("open", "")
    _fill(page, "Monte Carlo samples", "4")
    _fill(page, "Timesteps", "12")
    _fill(page, "emission (tokens/step)", "300", nth=1)

    page.get_by_role("button", name="Run scenarios").click()
    expect(page.get_by_text("Ran 2 scenarios x 4 samples")).to_be_visible()
    drawn = page.locator(".vega-embed canvas, .vega-embed svg.marks")
    expect(drawn.nth(3)).to_be_visible()  # two metrics x (time series, distribution)
    page.screenshot(path=str(ARTIFACTS / "scenarios.png"), full_page=True)

    export = page.get_by_test_id("stExpander").filter(has_text="Export: toy_mean_balance_timeseries")
    export.get_by_text("Export: toy_mean_balance_timeseries").click()
    png = _download(page, export, "PNG", tmp_path)
    csv = _download(page, export, "CSV", tmp_path)  # the second click right after: the page did not rerun
    assert png.startswith(PNG) and len(png) > 5000
    assert csv.decode().splitlines()[0] == "point_id,scenario,sample,timestep,mean_balance"
    expect(export.get_by_test_id("stDownloadButton").first).to_be_visible()  # the export panel stayed open

    page.get_by_test_id("stSidebarNav").get_by_text("Sweep").click()
    expect(page.get_by_text("Parameters to sweep (one or two)")).to_be_visible()
    _pick(page, "Mechanism", "emission")
    _pick(page, "Population", "n_agents")
    expect(page.get_by_role("button", name="Run sweep")).to_be_enabled()
    page.get_by_role("button", name="Run sweep").click()
    expect(page.get_by_text("parameter points x 4 samples in")).to_be_visible()
    heatmap = page.get_by_test_id("stExpander").filter(has_text="Export: toy_mean_balance_sweep")
    expect(page.locator(".vega-embed canvas, .vega-embed svg.marks").first).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "sweep_heatmap.png"), full_page=True)
    heatmap.get_by_text("Export: toy_mean_balance_sweep").click()
    png = _download(page, heatmap, "PNG", tmp_path)
    assert png.startswith(PNG) and len(png) > 5000
    (ARTIFACTS / "sweep_heatmap_export.png").write_bytes(png)
    page.close()


def test_cancel_keeps_finished_chunks_and_shows_partial_results(server, browser):
    """Cancel in the middle of a run: the finished chunks are shown as partial results, marked so,
    and the run can be discarded (or resumed)."""
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 2400})
    page.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    page.goto(server)
    page.get_by_test_id("stSidebar").get_by_text("toy", exact=True).click()
    page.get_by_test_id("stSidebarNav").get_by_text("Scenarios").click()
    expect(page.get_by_role("heading", name="Toy emission model")).to_be_visible()
    _fill(page, "Monte Carlo samples", "200")
    _fill(page, "Timesteps", "200")
    for nth in (0, 1):
        _fill(page, "n_agents", "20000", nth=nth)  # a few seconds per chunk, so Cancel lands mid-run
    page.get_by_role("button", name="Run scenarios").click()
    expect(page.get_by_text(re.compile(r": [1-9][0-9]* of 200 samples"))).to_be_visible()  # a chunk finished
    page.get_by_role("button", name="Cancel").click()
    expect(page.get_by_text("Run cancelled after")).to_be_visible()
    expect(page.get_by_text("Partial results (").first).to_be_visible()
    expect(page.locator(".vega-embed canvas, .vega-embed svg.marks").first).to_be_visible()
    expect(page.get_by_text("PARTIAL RESULTS").first).to_be_visible()
    expect(page.get_by_role("button", name="Run scenarios")).to_be_disabled()
    page.screenshot(path=str(ARTIFACTS / "cancelled_partial.png"), full_page=True)
    page.get_by_role("button", name="Discard it").click()
    expect(page.get_by_role("button", name="Run scenarios")).to_be_enabled()
    page.close()


def test_session_saved_in_one_browser_session_loads_in_another(server, browser, tmp_path):
    from playwright.sync_api import expect

    first = browser.new_page(viewport={"width": 1400, "height": 2400}, accept_downloads=True)
    first.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    first.goto(server)
    first.get_by_test_id("stSidebar").get_by_text("toy", exact=True).click()
    first.get_by_test_id("stSidebarNav").get_by_text("Scenarios").click()
    name_b = first.get_by_role("textbox", name="Scenario name").nth(1)
    name_b.fill("generous")
    name_b.press("Enter")
    _fill(first, "emission (tokens/step)", "250", nth=1)
    first.get_by_role("button", name="Run scenarios").click()
    expect(first.get_by_text("Ran 2 scenarios")).to_be_visible()
    first.get_by_test_id("stSidebarNav").get_by_text("Session").click()
    expect(first.get_by_text("1 finished runs: toy:run_scenarios")).to_be_visible()
    session = tmp_path / "session.zip"
    session.write_bytes(_download(first, first.get_by_test_id("stMain"), "Save the session", tmp_path))
    first.close()

    second = browser.new_page(viewport={"width": 1400, "height": 2400})
    second.goto(server)
    second.get_by_test_id("stSidebarNav").get_by_text("Session").click()
    second.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(session))
    expect(second.get_by_text("Loaded session.zip: 1 runs")).to_be_visible()
    second.get_by_test_id("stSidebarNav").get_by_text("Scenarios").click()
    expect(second.get_by_role("heading", name="Toy emission model")).to_be_visible()
    expect(second.get_by_role("textbox", name="Scenario name").nth(1)).to_have_value("generous")
    expect(second.get_by_text("Differences from the baseline")).to_be_visible()
    second.screenshot(path=str(ARTIFACTS / "session_loaded.png"), full_page=True)
    second.close()
