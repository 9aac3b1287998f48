"""The HTML report in a real browser: headless Chromium, driven through its DevTools protocol.

Chromium comes from Debian's packages (scripts/setup.sh installs it). It is
driven over ``--remote-debugging-pipe``: JSON messages, each ended by a NUL
byte, written to the browser's file descriptor 3 and read from its 4, so that
no websocket library and no browser download is needed. The test opens a real
report, clicks the stepper's buttons and presses keys as a reader would, and
checks that the page throws no error, that stepping moves the highlight in the
chart and keeps it on screen, and that a screenshot of the chart is not blank.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import select
import shutil
import signal
import struct
import subprocess
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from quorumcheck.explorer import explore
from quorumcheck.explorer.result import Culprit
from quorumcheck.models import PaxosModel
from quorumcheck.render import find_dot, render_counterexample

_BROWSERS = ("chromium", "chromium-browser", "google-chrome")


class DevTools:
    """A minimal DevTools-protocol client over Chromium's ``--remote-debugging-pipe``."""

    def __init__(self, exe: str, profile: Path, width: int = 1280, height: int = 900) -> None:
        to_browser, self._to_browser = os.pipe()
        self._from_browser, from_browser = os.pipe()
        # The browser reads commands on fd 3 and writes answers on fd 4: move our ends out of the way first.
        high = [os.dup2(fd, 100 + i, inheritable=False) for i, fd in enumerate((to_browser, from_browser))]
        os.close(to_browser)
        os.close(from_browser)

        def descriptors() -> None:
            os.dup2(high[0], 3)
            os.dup2(high[1], 4)

        args = [exe, "--headless", "--remote-debugging-pipe", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--hide-scrollbars",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                f"--user-data-dir={profile}", f"--window-size={width},{height}", "about:blank"]
        if os.geteuid() == 0:
            args.insert(1, "--no-sandbox")  # Chromium refuses to run as root with its sandbox
        self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, pass_fds=(3, 4), preexec_fn=descriptors,
                                        start_new_session=True)
        os.close(high[0])
        os.close(high[1])
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []
        self.session: str | None = None

    def close(self) -> None:
        try:
            self.call("Browser.close", session=False, timeout=5)
        except Exception:  # noqa: BLE001 - closing anyway, below
            pass
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)  # the group of the browser this test started
            self.process.wait(timeout=5)
        os.close(self._to_browser)
        os.close(self._from_browser)

    def _read(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._from_browser], [], [], left)[0]:
                raise TimeoutError("Chromium did not answer in time")
            chunk = os.read(self._from_browser, 1 << 20)
            if not chunk:
                raise ConnectionError("Chromium closed its DevTools pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method: str, params: dict[str, Any] | None = None, *, session: bool = True,
             timeout: float = 10.0) -> dict[str, Any]:
        """Send one command (to the page's session unless ``session=False``) and return its result."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session and self.session is not None:
            message["sessionId"] = self.session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            answer = self._read(deadline)
            if answer.get("id") == self._next_id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer.get("result", {})
            self.events.append(answer)

    def wait_for(self, event: str, timeout: float = 10.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        for seen in self.events:
            if seen.get("method") == event:
                return seen
        while True:
            answer = self._read(deadline)
            self.events.append(answer)
            if answer.get("method") == event:
                return answer

    def open_page(self, url: str, width: int = 1280, height: int = 900) -> None:
        target = next(t for t in self.call("Target.getTargets", session=False)["targetInfos"] if t["type"] == "page")
        self.session = self.call("Target.attachToTarget", {"targetId": target["targetId"], "flatten": True},
                                 session=False)["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.call(f"{domain}.enable")
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
        self.call("Page.navigate", {"url": url})
        self.wait_for("Page.loadEventFired")

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def click(self, selector: str) -> None:
        """A real mouse click in the middle of the element (scrolled into view first)."""
        box = self.evaluate(f"(function () {{ var e = document.querySelector({json.dumps(selector)}); "
                            "e.scrollIntoView({block: 'nearest'}); var r = e.getBoundingClientRect(); "
                            "return [r.left + r.width / 2, r.top + r.height / 2]; })()")
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent",
                      {"type": kind, "x": box[0], "y": box[1], "button": "left", "clickCount": 1})

    def press(self, key: str, code: int) -> None:
        for kind in ("keyDown", "keyUp"):
            self.call("Input.dispatchKeyEvent",
                      {"type": kind, "key": key, "code": key, "windowsVirtualKeyCode": code})

    def problems(self) -> list[str]:
        """Exceptions, console errors and logged errors seen so far."""
        out = []
        for e in self.events:
            params = e.get("params", {})
            if e.get("method") == "Runtime.exceptionThrown":
                out.append(json.dumps(params["exceptionDetails"])[:300])
            elif e.get("method") == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                out.append(json.dumps(params.get("args"))[:300])
            elif e.get("method") == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                out.append(params["entry"].get("text", "")[:300])
        return out


def png_pixels(data: bytes) -> tuple[int, int, list[tuple[int, int, int]]]:
    """Width, height and RGB pixels of an 8-bit, non-interlaced RGB or RGBA PNG (what Chromium writes)."""
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    pos, chunks, header = 8, [], b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            chunks.append(body)
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and colour in (2, 6) and interlace == 0, (depth, colour, interlace)
    channels = 3 if colour == 2 else 4
    raw = zlib.decompress(b"".join(chunks))
    stride = width * channels
    previous = bytearray(stride)
    pixels: list[tuple[int, int, int]] = []
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up, corner = previous[i], previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 255
        pixels += [tuple(line[x:x + 3]) for x in range(0, stride, channels)]  # type: ignore[misc]
        previous = line
    return width, height, pixels


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevTools]:
    exe = next((found for name in _BROWSERS if (found := shutil.which(name))), None)
    if exe is None:
        pytest.fail("Chromium is not installed, so the HTML report cannot be tested in a browser: "
                    "run scripts/setup.sh (it installs Debian's chromium package)")
    if find_dot() is None:
        pytest.fail("Graphviz is not installed, so the report has no chart to test: run scripts/setup.sh")
    devtools = DevTools(exe, tmp_path_factory.mktemp("chromium-profile"))
    try:
        yield devtools
    finally:
        devtools.close()


def test_the_report_steps_through_the_trace_in_chromium(browser: DevTools, tmp_path: Path) -> None:
    model = PaxosModel(max_ballot=0, bug="duplicate-ballots")
    result = explore(model, properties=["agreement"])
    assert result.violation is not None and len(result.violation.trace) == 9
    # Where it went wrong is marked too (set by hand: the run may not compute it).
    violation = dataclasses.replace(result.violation, culprit=Culprit(5, "one-value-per-ballot", "two 2a in ballot 0"))
    written = render_counterexample(model, violation, tmp_path, result=result, formats=("svg", "html"))
    report = next(p for p in written.paths if p.suffix == ".html")
    browser.open_page(report.as_uri())

    def current() -> list[str]:
        return browser.evaluate("Array.prototype.map.call(document.querySelectorAll('#chart .node.current'), "
                                "function (e) { return e.id; })")

    def where() -> str:
        return browser.evaluate("document.getElementById('where').textContent")

    assert where() == "initial state" and current() == []
    browser.click("#next")
    assert where() == "step 1 of 9" and current() == ["chart-text_1", "chart-step_1"]
    browser.press("ArrowRight", 39)
    browser.press("ArrowRight", 39)
    assert where() == "step 3 of 9" and current() == ["chart-text_3", "chart-step_3"]
    assert browser.evaluate("document.querySelector('tr.step.current').id") == "row_3"
    browser.click("#last")
    assert where() == "step 9 of 9" and current() == ["chart-text_9", "chart-step_9", "chart-violation"]
    # The page scrolled to the last row, and the chart (sticky) still shows the highlighted step.
    seen = browser.evaluate(
        "(function () { var m = document.getElementById('chart-step_9').getBoundingClientRect(); "
        "var p = document.querySelector('.chartpane').getBoundingClientRect(); "
        "var r = document.getElementById('row_9').getBoundingClientRect(); "
        "return {scrolled: window.scrollY, marker: [m.top, m.bottom], pane: [p.top, p.bottom], "
        "row: [r.top, r.bottom], height: window.innerHeight}; })()")
    assert seen["scrolled"] > 0, seen
    assert seen["pane"][0] <= seen["marker"][0] and seen["marker"][1] <= min(seen["pane"][1], seen["height"]), seen
    assert seen["pane"][1] <= seen["row"][0] and seen["row"][1] <= seen["height"], seen
    # The culprit: marked in the chart, the table and the summary, which steps to it when clicked.
    assert browser.evaluate("document.getElementById('chart-step_5').classList.contains('culprit')")
    assert browser.evaluate("document.getElementById('row_5').className") == "step step_5 culprit"
    browser.click("#culprit")
    assert where() == "step 5 of 9" and current() == ["chart-text_5", "chart-step_5"]
    browser.click("#first")
    assert where() == "initial state" and current() == []
    # The buttons' icons are drawn (inline SVG), not left to fonts that may lack the glyphs.
    assert browser.evaluate("Array.prototype.every.call(document.querySelectorAll('.stepper button svg'), "
                            "function (s) { return s.getBoundingClientRect().width >= 10; })")
    assert browser.problems() == []

    # A screenshot of the chart is a picture, not a blank box (at half size: decoding it in Python costs less).
    box = browser.evaluate("(function () { var e = document.querySelector('.chartpane'); e.scrollIntoView(); "
                           "var r = e.getBoundingClientRect(); "
                           "return [r.left + window.scrollX, r.top + window.scrollY, r.width, r.height]; })()")
    shot = browser.call("Page.captureScreenshot", {"format": "png", "clip": {
        "x": box[0], "y": box[1], "width": box[2], "height": box[3], "scale": 0.5}})
    png = base64.b64decode(shot["data"])
    (tmp_path / "chart-screenshot.png").write_bytes(png)  # to look at when this fails
    width, height, pixels = png_pixels(png)
    assert abs(width - box[2] / 2) <= 1 and abs(height - box[3] / 2) <= 1 and height > 100, (width, height, box)
    grey = [sum(p) / 3 for p in pixels]
    mean = sum(grey) / len(grey)
    variance = sum((g - mean) ** 2 for g in grey) / len(grey)
    inked = sum(1 for g in grey if g < 160) / len(grey)
    assert variance > 150 and inked > 0.01, (variance, inked)  # lines, markers and text
