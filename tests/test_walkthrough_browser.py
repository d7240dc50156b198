"""The walkthrough page in a real browser: headless Chromium driven by selenium.

The worked example's page is loaded from a file:// URL with every host name unresolvable
and, for one test, the network switched off through the DevTools protocol; the tests press
its buttons and keys, move its slider, and read what it shows. CI installs Chromium,
chromedriver (`.ci/run`) and selenium (the `dev` extra) and runs these tests; elsewhere
they are skipped when one of them (or Graphviz's `dot`) is missing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path

import pytest
from conftest import requires_dot

import nn.worked_example
from autodiff.walkthrough import walkthrough

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `examples` is run from the checkout, not installed

from examples import walkthrough_screenshot  # noqa: E402

try:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:  # pragma: no cover - CI installs selenium with the dev extra
    By = Keys = WebDriverWait = None

MISSING = [what for what, found in (
    ("selenium (pip install -e '.[browser]')", By is not None),
    ("Chromium (apt-get install chromium)",
     any(shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome"))),
    ("chromedriver (apt-get install chromium-driver)", shutil.which("chromedriver")),
) if not found]
# Skipped where something is missing, except in CI (CI=true), where they must run.
requires_browser = pytest.mark.skipif(
    bool(MISSING) and not os.environ.get("CI"),
    reason="the browser tests need " + ", ".join(MISSING) + "; CI runs them",
)
pytestmark = [requires_dot, requires_browser]


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    """The worked example's pages (backward only, and forward then backward) as files."""
    folder = tmp_path_factory.mktemp("walkthrough")
    values = nn.worked_example.scalar_network()
    backward = walkthrough(values["E_total"])
    forward = walkthrough(values["E_total"], forward=True)
    notebook = folder / "notebook.html"
    notebook.write_text(f"<!DOCTYPE html><html><body>{backward._repr_html_()}</body></html>",
                        encoding="utf-8")
    return {
        "backward": backward,
        "backward_url": backward.save(folder / "backprop.html").as_uri(),
        "forward": forward,
        "forward_url": forward.save(folder / "forward.html").as_uri(),
        "notebook_url": notebook.as_uri(),
    }


@pytest.fixture(scope="module")
def browser():
    if MISSING:
        pytest.fail("CI must run the browser tests, but these are missing: " + ", ".join(MISSING))
    driver = walkthrough_screenshot.chromium(1400, 900)
    yield driver
    driver.quit()


def load(driver, url: str) -> None:
    driver.get(url)
    WebDriverWait(driver, 10).until(
        lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "true")
    errors = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    assert not errors, errors


def text(driver, element_id: str) -> str:
    return driver.find_element(By.ID, element_id).text


def focused(driver) -> str:
    """The SVG id of the highlighted Value (exactly one)."""
    ids = driver.execute_script(
        "return Array.from(document.querySelectorAll('g.node.wt-focus')).map(g => g.id);")
    assert len(ids) == 1, ids
    return ids[0]


def box(driver, label: str, page) -> tuple[str, str]:
    """(grad row, state class) of the Value called `label`, as the browser shows them."""
    vid = _ids(page)[label]
    return tuple(driver.execute_script("""
        const g = document.getElementById(arguments[0]);
        const rows = Array.from(g.querySelectorAll('text')).map(t => t.textContent);
        const grad = rows.filter(r => r.startsWith('grad ')).pop() || '';
        const state = ['wt-done', 'wt-partial'].filter(c => g.classList.contains(c));
        return [grad, state.join(' ')];""", vid))


def _ids(page) -> dict[str, str]:
    match = re.search(r'<script type="application/json" id="graph-data">(.*?)</script>',
                      page.html, re.S)
    values = json.loads(match.group(1))["values"]
    return {v["label"]: vid for vid, v in values.items() if v["label"]}


# --------------------------------------------------------------------------- tests


def test_pressing_next_until_w5_shows_the_tutorials_numbers(browser, pages):
    page = pages["backward"]
    ids = _ids(page)
    load(browser, pages["backward_url"])
    total = len(page)
    assert text(browser, "counter") == f"step 1 of {total}"
    assert focused(browser) == ids["E_total"]
    assert text(browser, "result") == "∂E_total/∂E_total = 1"
    assert box(browser, "w5", page) == ("grad —", "")  # not reached yet
    assert browser.find_element(By.ID, "prev").get_attribute("disabled")

    seen = {}
    next_button = browser.find_element(By.ID, "next")
    while focused(browser) != ids["w5"]:
        next_button.click()
        label = text(browser, "step-label")
        seen[label] = (text(browser, "result"), text(browser, "lines"))
        assert len(seen) < total, "w5 was never highlighted"
    w5 = page.step_of("w5")
    assert text(browser, "counter") == f"step {w5 + 1} of {total}"
    assert text(browser, "result") == "∂E_total/∂w5 = 0.082167041"
    assert "= 0.138498562 × 0.593269992" in text(browser, "lines")
    assert "∂net_o1/∂w5 = 0.593269992   (local derivative of multiply → add → add)" in text(
        browser, "lines")
    assert box(browser, "w5", page) == ("grad 0.08217", "wt-done")
    assert "0.138498562" in text(browser, "terms") and "0.082167041" in text(browser, "terms")
    highlighted = browser.execute_script(
        "return document.querySelectorAll('g.edge.wt-edge').length;")
    assert highlighted == 6  # w5 → multiply → · → add → · → add → net_o1
    assert browser.execute_script(
        f"return document.getElementById('{ids['net_o1']}').classList.contains('wt-source');")

    # the tutorial's figures at the steps on the way
    assert seen["out_o1"][0] == "∂E_total/∂out_o1 = 0.74136507"
    assert "0.186815602" in seen["net_o1"][1] and seen["net_o1"][0].endswith("0.138498562")
    assert seen["out_h1"][0] == "∂E_total/∂out_h1 = 0.036350306"
    assert "0.138498562 × 0.4 + (-0.038098237) × 0.5" in seen["out_h1"][1]
    assert "0.241300709" in seen["net_h1"][1]


def test_keys_slider_and_buttons_move_between_steps(browser, pages):
    page = pages["backward"]
    ids = _ids(page)
    total = len(page)
    load(browser, pages["backward_url"])
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.ARROW_RIGHT, Keys.ARROW_RIGHT, Keys.ARROW_RIGHT)
    assert text(browser, "counter") == f"step 4 of {total}"
    body.send_keys(Keys.ARROW_LEFT)
    assert text(browser, "counter") == f"step 3 of {total}"
    assert focused(browser) == page.steps[2]["node"]
    body.send_keys(Keys.END)
    assert text(browser, "counter") == f"step {total} of {total}"
    assert browser.find_element(By.ID, "next").get_attribute("disabled")
    body.send_keys(Keys.ARROW_RIGHT)  # nothing past the last step
    assert text(browser, "counter") == f"step {total} of {total}"
    body.send_keys(Keys.HOME)
    assert text(browser, "counter") == f"step 1 of {total}"

    slider = browser.find_element(By.ID, "slider")
    slider.send_keys(Keys.END)  # the slider's own keys move it; the page follows
    assert text(browser, "counter") == f"step {total} of {total}"
    slider.send_keys(Keys.ARROW_LEFT)
    assert text(browser, "counter") == f"step {total - 1} of {total}"
    w5 = page.step_of("w5")
    browser.execute_script(  # a drag ends in an input event at the new value
        "const s = arguments[0]; s.value = arguments[1];"
        "s.dispatchEvent(new Event('input', {bubbles: true}));", slider, str(w5))
    assert focused(browser) == ids["w5"]
    assert text(browser, "result") == "∂E_total/∂w5 = 0.082167041"
    browser.find_element(By.ID, "first").click()
    assert text(browser, "counter") == f"step 1 of {total}"
    browser.find_element(By.ID, "last").click()
    browser.find_element(By.ID, "prev").click()
    assert text(browser, "counter") == f"step {total - 1} of {total}"


def test_a_gradient_shows_as_it_accumulates(browser, pages):
    page = pages["backward"]
    load(browser, pages["backward_url"] + f"#step={page.step_of('net_o2') + 1}")
    grad, state = box(browser, "out_h1", page)
    assert state == "wt-partial" and grad == "grad so far -0.01905"  # from net_o2 only
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.ARROW_RIGHT, Keys.ARROW_RIGHT)
    assert focused(browser) == _ids(page)["net_o1"]
    assert box(browser, "out_h1", page) == ("grad 0.03635", "wt-done")  # + net_o1's share


def test_the_forward_pass_shows_each_value_as_it_is_computed(browser, pages):
    page = pages["forward"]
    ids = _ids(page)
    load(browser, pages["forward_url"])
    assert text(browser, "phase") == "FORWARD PASS"
    assert focused(browser) == ids["net_h1"]
    assert "= 0.15 × 0.05 + 0.2 × 0.1 + 0.35" in text(browser, "lines")
    data_rows = browser.execute_script("""
        return Object.fromEntries(Array.from(document.querySelectorAll('g.node')).map(g =>
          [g.id, (Array.from(g.querySelectorAll('text')).map(t => t.textContent)
                  .filter(r => r.startsWith('data ')).pop() || '')]));""")
    assert data_rows[ids["net_h1"]] == "data 0.3775"
    assert data_rows[ids["E_total"]] == "data —"  # not computed yet
    assert data_rows[ids["w5"]] == "data 0.4"  # leaves are given
    body = browser.find_element(By.TAG_NAME, "body")
    for _ in range(page.step_of("E_total", "forward")):
        body.send_keys(Keys.ARROW_RIGHT)
    assert text(browser, "result") == "E_total = 0.298371109"
    body.send_keys(Keys.ARROW_RIGHT)
    assert text(browser, "phase") == "BACKWARD PASS"
    assert focused(browser) == ids["E_total"]


def test_the_page_works_with_the_network_off(browser, pages):
    html_text = pages["backward"].html
    urls = set(re.findall(r"https?://[^\s\"'<>)]*", html_text))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}, urls
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.emulateNetworkConditions", {
        "offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
    try:
        load(browser, pages["backward_url"])
        assert browser.execute_script("return navigator.onLine;") is False
        fetched = browser.execute_script(
            "return performance.getEntriesByType('resource').map(e => e.name);")
        assert fetched == []  # nothing besides the page itself was asked for
        page = pages["backward"]
        browser.find_element(By.TAG_NAME, "body").send_keys(Keys.END)
        assert text(browser, "counter") == f"step {len(page)} of {len(page)}"
        assert text(browser, "result") == "∂E_total/∂w1 = 0.000438567734"
    finally:
        browser.execute_cdp_cmd("Network.emulateNetworkConditions", {
            "offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
        browser.execute_cdp_cmd("Network.disable", {})


def test_a_notebook_shows_the_page_in_an_iframe(browser, pages):
    browser.get(pages["notebook_url"])
    frame = browser.find_element(By.TAG_NAME, "iframe")
    browser.switch_to.frame(frame)
    try:
        WebDriverWait(browser, 10).until(
            lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready"))
        browser.find_element(By.ID, "next").click()
        assert text(browser, "counter") == f"step 2 of {len(pages['backward'])}"
    finally:
        browser.switch_to.default_content()


def test_the_screenshot_script_photographs_the_w5_step(tmp_path):
    path = walkthrough_screenshot.main(tmp_path / "walkthrough.png")
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (walkthrough_screenshot.WIDTH, walkthrough_screenshot.HEIGHT)
    assert (ROOT / "docs" / "walkthrough.png").read_bytes()[:8] == data[:8]
