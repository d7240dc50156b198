"""Photograph the backward-pass walkthrough for the README: docs/walkthrough.png.

    python -m examples.walkthrough_screenshot [output.png]     # default: docs/walkthrough.png

Builds `autodiff.walkthrough` of the worked example (`nn.worked_example`), opens the page in
headless Chromium with no network, presses → as a reader would until w5 is highlighted
(∂E_total/∂w5 = 0.082167041), and saves what the browser shows. Needs Graphviz's `dot`,
Chromium and its driver (Debian: `apt-get install graphviz chromium chromium-driver`) and
selenium (`pip install 'autodiff-numpy[browser]'`). `chromium()` is also what the browser
tests drive.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import nn.worked_example
from autodiff.extend import missing_extra
from autodiff.walkthrough import walkthrough

DOCS = Path(__file__).resolve().parent.parent / "docs"
WIDTH, HEIGHT = 1480, 820  # CSS pixels of the browser window, one device pixel each
ZOOM = 0.92  # of the graph, so that w5, the path to net_o1 and net_o1 fit beside the panel
INSTALL = "needs Chromium and chromedriver (Debian: apt-get install chromium chromium-driver)"


def chromium(width: int = WIDTH, height: int = HEIGHT) -> Any:
    """Headless Chromium under selenium, a window of `width` × `height` CSS pixels.

    Host names do not resolve (`--host-resolver-rules`), so a page that needed the network
    would show it. Raises ModuleNotFoundError (selenium) or RuntimeError (the browser or its
    driver) saying what to install when something is missing.
    """
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError as error:
        raise ModuleNotFoundError(
            missing_extra("selenium", "The walkthrough screenshot", f"It also {INSTALL}."),
            name="selenium") from error
    binary = next(filter(None, map(shutil.which, ("chromium", "chromium-browser",
                                                   "google-chrome"))), None)
    driver_path = shutil.which("chromedriver")
    if binary is None or driver_path is None:
        raise RuntimeError(f"The walkthrough screenshot {INSTALL}")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # the page's console
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--disable-gpu", "--hide-scrollbars", "--lang=en-US",
                     "--host-resolver-rules=MAP * ~NOTFOUND", f"--window-size={width},{height}",
                     "--force-device-scale-factor=1"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
    return driver


def main(output: str | Path = DOCS / "walkthrough.png") -> Path:
    """Write the screenshot to `output` (a PNG); returns its path."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    values = nn.worked_example.scalar_network()
    page = walkthrough(values["E_total"])
    target = page.step_of("w5")
    with tempfile.TemporaryDirectory() as folder:
        path = page.save(Path(folder) / "backprop.html")
        driver = chromium()
        try:
            driver.get(f"{path.as_uri()}#zoom={ZOOM}")
            WebDriverWait(driver, 10).until(
                lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready"))
            body = driver.find_element(By.TAG_NAME, "body")
            for _ in range(target):
                body.send_keys(Keys.ARROW_RIGHT)
            result = driver.find_element(By.ID, "result").text
            if result != "∂E_total/∂w5 = 0.082167041":
                raise RuntimeError(f"the page shows {result!r} at w5's step")
            driver.save_screenshot(str(output))
        finally:
            driver.quit()
    return output


if __name__ == "__main__":
    print(main(sys.argv[1] if len(sys.argv) > 1 else DOCS / "walkthrough.png"))
