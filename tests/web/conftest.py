"""The touchscreen app for browser tests: a real uvicorn server in this process, Debian's chromium
driven by Playwright, the files camera, real SQLite, the real models and (where asked) a real broker.

Never ``playwright install``: the browser is the system's ``/usr/bin/chromium`` (scripts/setup --test).
"""

from __future__ import annotations

import shutil
import socket
import sqlite3
import ssl
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest

from firmware_app.app import open_store
from firmware_app.config import Config, load_config
from firmware_app.messages import CATALOGUE, message
from firmware_app.operators import Operators
from firmware_app.web import pages_capture, pages_records, pages_session
from firmware_app.web.run import make_server
from tests.chromium import launch_args
from tests.conftest import PROJECT_ROOT, as_from_a_terminal, write_rgb
from tests.degradations import defocus
from tests.mqtt_broker import free_port, wait_until
from tests.records.kit import in_language, write_config
from tests.tls_files import SiteTls
from tests.web_server import running

ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "screens"
SCREEN = {"width": 800, "height": 480}
OPERATOR, PIN = "Amina", "2468"
DERMOSCOPY_SAMPLE = PROJECT_ROOT / "firmware_app" / "samples" / "dermoscopy-synthetic-naevus.jpg"


# For every visible control and text, what breaks the rules; [] when the screen keeps them all.
AUDIT = """() => {
  const problems = [];
  const channel = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
  const rgb = (text) => text.match(/[\\d.]+/g).map(Number);
  const luminance = ([r, g, b]) => 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  const background = (element) => {
    for (let e = element; e; e = e.parentElement) {
      const colour = rgb(getComputedStyle(e).backgroundColor);
      if (colour.length < 4 || colour[3] > 0) return colour;
    }
    return [255, 255, 255];
  };
  const visible = (e) => { const box = e.getBoundingClientRect(); return box.width > 0 && box.height > 0; };
  const controls = "button, a.button, label.choice, input[type=checkbox], input[type=radio]";
  for (const control of document.querySelectorAll(controls)) {
    if (!visible(control) || control.matches("label.choice input")) continue;
    const box = control.getBoundingClientRect();
    if (box.width < 48 || box.height < 48) problems.push(`small target ${control.textContent.trim()}`);
  }
  for (const element of document.querySelectorAll("body *")) {
    if (!visible(element) || ![...element.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim())) continue;
    const style = getComputedStyle(element);
    if (parseFloat(style.fontSize) < 16) problems.push(`small text ${element.textContent.trim().slice(0, 30)}`);
    const [a, b] = [luminance(rgb(style.color)), luminance(background(element))];
    const contrast = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (contrast < 4.5) problems.push(`contrast ${contrast.toFixed(2)} ${element.textContent.trim().slice(0, 30)}`);
  }
  return problems;
}"""


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict:
    return launch_args()


@pytest.fixture(scope="session")
def browser_context_args() -> dict:
    return {"viewport": SCREEN}


@dataclass
class RunningApp:
    url: str
    config: Config
    camera_dir: Path
    directory: Path

    def show(self, *photos: Path) -> None:
        """What the files camera will replay the next time it opens (each capture reopens it)."""
        for old in self.camera_dir.iterdir():
            old.unlink()
        for index, photo in enumerate(photos):
            shutil.copy(photo, self.camera_dir / f"{index:02d}{photo.suffix}")


def start_app(
    tmp_path: Path,
    broker_port: int = 1,
    extra: str = "",
    burst: int = 2,
    app: str = "",
    reserve_mb: int = 0,
    operator: bool = True,
    sections: dict[str, str] | None = None,
) -> Iterator[RunningApp]:
    """The app on a free port; ``app`` adds lines to its [app] section, ``sections`` to the others
    the config already has (``{"device": 'modality = "dermoscopy"\n'}``), ``extra`` other sections;
    ``operator`` false: a fresh device, nobody to sign in yet."""
    camera_dir = tmp_path / "camera"
    camera_dir.mkdir()
    port = free_port()
    app_section = f"[app]\nport = {port}\n{app}"
    config_path = write_config(
        tmp_path, broker_port, f'[camera]\nfiles = ["{camera_dir}"]\nburst = {burst}\n{app_section}{extra}'
    )
    for section, lines in (sections or {}).items():
        config_path.write_text(config_path.read_text().replace(f"[{section}]\n", f"[{section}]\n{lines}", 1))
    if reserve_mb:
        config_path.write_text(
            config_path.read_text().replace("disk_reserve_mb = 0", f"disk_reserve_mb = {reserve_mb}")
        )
    config = load_config(str(config_path))
    store = open_store(config)
    try:
        if operator:
            Operators(store.records).add(OPERATOR, PIN)
    finally:
        store.records.close()
    with running(make_server(config), 60, 30) as thread:
        yield RunningApp(f"http://127.0.0.1:{config.app.port}", config, camera_dir, tmp_path)
    assert not thread.is_alive(), "the app did not shut down"


def network_address() -> str:
    """This machine's own address on its network (not loopback): where a tablet would connect from."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("198.51.100.1", 9))  # no packet is sent: only the route is looked up
        except OSError:
            pytest.skip("this machine has no network address besides loopback")
        address = probe.getsockname()[0]
    if address.startswith("127."):
        pytest.skip("this machine has no network address besides loopback")
    return address


def answer_status(url: str) -> int | None:
    """The HTTP status ``url`` answers with; ``None`` while nothing answers there."""
    try:
        return urllib.request.urlopen(url, timeout=10).status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def answers_over_https(url: str, tls: SiteTls) -> bool:
    """Whether the app's tablets' listener answers at ``url``, to a client with the site's CA."""
    try:
        httpx2.get(url, verify=ssl.create_default_context(cafile=str(tls.ca)), timeout=10)
    except httpx2.TransportError:
        return False
    return True


def app_process(config: Path, port: int, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """``edgescreen app`` on ``config`` and ``port`` in a process of its own, started as from a
    terminal, once it answers there (any HTTP status): for what only the command does (its own
    socket, its out-of-service page), which the in-process server (``start_app``) does not."""
    command = [sys.executable, "-m", "firmware_app", "--config", str(config), "app", "--no-sync", "--port", str(port)]
    app = subprocess.Popen(
        command, cwd=PROJECT_ROOT, env=env, stderr=subprocess.PIPE, text=True, preexec_fn=as_from_a_terminal
    )
    url = f"http://127.0.0.1:{port}/"
    wait_until(lambda: answer_status(url) is not None or app.poll() is not None, 60, "the app to answer")
    assert app.poll() is None, app.stderr.read() if app.stderr else ""
    return app


def app_config(tmp_path: Path, photo: Path, language: str) -> tuple[Path, int]:
    """A device's config for ``app_process``: its camera replaying ``photo``, in ``language``, on a free
    port, with its operator added; and that port."""
    camera = tmp_path / "camera"
    camera.mkdir()
    shutil.copy(photo, camera / "00.jpg")
    port = free_port()
    config = in_language(
        write_config(tmp_path, 1, f'[camera]\nfiles = ["{camera}"]\nburst = 2\n[app]\nport = {port}\n'), language
    )
    store = open_store(load_config(str(config)))
    try:
        Operators(store.records).add(OPERATOR, PIN)
    finally:
        store.records.close()
    return config, port


@pytest.fixture()
def retina_blurred(tmp_path: Path, retina_rgb) -> Path:
    return write_rgb(tmp_path / "retina-blurred.jpg", defocus(retina_rgb, 3))


@pytest.fixture()
def app(tmp_path: Path, retina_jpeg: Path) -> Iterator[RunningApp]:
    running = start_app(tmp_path)
    app = next(running)
    app.show(retina_jpeg)
    yield app
    next(running, None)


@pytest.fixture()
def status_shown(monkeypatch) -> dict[str, Any]:
    """What the status bar shows over the device's own (``pages_session.status``): a test puts in it
    the banners and counts it needs (a lost camera, a day offline, a dozen call-backs) without making
    them happen; each page drawn after a change shows it."""
    real = pages_session.status
    shown: dict[str, Any] = {}

    def status(web) -> dict[str, Any]:
        return real(web) | shown

    for module in (pages_session, pages_capture, pages_records):
        monkeypatch.setattr(module, "status", status)
    return shown


def switch_to(page, language: str) -> None:
    """Flip the page's language switch unless the page is in ``language`` already, and wait for the
    page to come back in it: the switch reloads the page, and a test reading it at once under load
    read the page before the reload, or none at all. The page parsed, not loaded: the camera's live
    preview never finishes loading."""
    if page.locator("html").get_attribute("lang") != language:
        page.locator("[data-test=language]").click()
        page.locator(f"html[lang={language}]").wait_for(state="attached")
        page.wait_for_load_state("domcontentloaded")


def snap(page, name: str) -> None:
    """An 800x480 screenshot of the screen as the nurse sees it (test-artifacts/, not committed)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    language = page.locator("html").get_attribute("lang")
    page.screenshot(path=str(ARTIFACTS / f"{name}-{language}.png"))


def unscrolled(page) -> bool:
    """Whether the whole page fits the 800x480 screen: nothing to scroll to."""
    width, height = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
    return width <= SCREEN["width"] and height <= SCREEN["height"]


def longest_guidance_shown(page) -> None:
    """The camera's guidance box as it reads at its longest in the screen's language: its longest
    verdict and its longest instruction, put in as the verdict stream puts them (app.js). The French
    ones put on the English screen too measured words that screen never shows, and left its own
    longest untested."""
    language = page.locator("html").get_attribute("lang")
    verdicts = [key for key in CATALOGUE if key.startswith("quality.verdict.")]
    instructions = [key for key in CATALOGUE if key.startswith("quality.") and key not in verdicts]
    lines = [max((message(key, language) for key in keys), key=len) for keys in (verdicts, instructions)]
    page.locator("#guidance").evaluate(
        "(element, lines) => element.replaceChildren(...lines.map((line) => "
        "Object.assign(document.createElement('div'), {textContent: line})))",
        lines,
    )


# Whether each line of an element's text lies whole in the element's own box (none clipped by its
# overflow, scrolled away in it or spilling over what stands under it) and on the 800x480 screen.
LINES_SHOWN = """(element) => {
  const top = element.getBoundingClientRect().top + element.clientTop;
  const bottom = top + element.clientHeight;
  const range = document.createRange();
  range.selectNodeContents(element);
  return [...range.getClientRects()].filter((line) => line.height > 0).every(
    (line) => line.top >= top - 0.5 && line.bottom <= Math.min(bottom, innerHeight) + 0.5);
}"""


def every_line_shown(locator) -> bool:
    """Whether the nurse reads every line of ``locator``'s text where it stands (``LINES_SHOWN``)."""
    return locator.evaluate(LINES_SHOWN)


def on_screen(locator) -> bool:
    """Whether an element is wholly on the 800x480 screen as the page opens (no scrolling to it)."""
    box = locator.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= SCREEN["height"]


def sign_in(page, app: RunningApp, pin: str = PIN) -> None:
    page.goto(f"{app.url}/signin")
    page.get_by_label(OPERATOR).check()
    enter_pin(page, pin)


def enter_pin(page, pin: str = PIN) -> None:
    type_on_keypad(page, "pin", pin)
    page.locator("form.signin button[type=submit]").click()


def type_on_keypad(page, target: str, text: str) -> None:
    for key in text:
        page.locator(f'[data-keypad="{target}"] [data-key="{key}"]').click()


def new_patient(
    page,
    app: RunningApp,
    reference: str,
    modality: str = "fundus",
    body_site: str | None = None,
    eyes: tuple[str, ...] = ("R", "L"),
) -> None:
    page.goto(f"{app.url}/patient")
    if page.locator("[data-test=leave-visit]").count():  # the patient in progress is finished first, as confirmed
        page.locator("[data-test=leave-start]").click()
        page.locator('[data-keypad="reference"]').wait_for()
    type_on_keypad(page, "reference", reference)
    page.locator(f'input[name=modality][value="{modality}"]').check()
    page.locator("[data-test=next]").click()
    for eye in ("R", "L") if modality == "fundus" else ():
        page.locator(f"input[name=eyes][value={eye}]").set_checked(eye in eyes)
    if body_site:  # chosen on the body picture
        page.locator(f'.body-map [data-value="{body_site}"]').first.click()
        assert page.locator(f'input[name=body_site][value="{body_site}"]').is_checked()
    page.locator("input[name=consent]").check()
    page.locator("[data-test=start]").click()


def pressed_after_another_patient_opened(page, app: RunningApp, button: str, post: str) -> None:
    """Open another patient in a second tab, then press ``button`` (its ``data-test``) on this tab's
    screen, which posts to ``post``: the app must answer that the screen was for another patient
    (409, no redirect, ``capture.other_visit``), as every post of such a screen does."""
    other = page.context.new_page()
    new_patient(other, app, "OTHER-TAB")
    other.wait_for_url("**/capture")
    with page.expect_response(f"**/{post}") as answer:
        page.locator(f"[data-test={button}]").click()
    assert (answer.value.status, answer.value.headers.get("hx-redirect")) == (409, None)
    said = page.locator("[data-test=message]")
    said.wait_for(timeout=10_000)
    assert said.inner_text() == message("capture.other_visit", "en")


def sign_out(page) -> None:
    """The nav's Sign out, and "Sign out anyway" where it asks first: a patient in progress."""
    with page.expect_navigation():
        page.locator("[data-test=sign-out]").click()
    if page.locator("[data-test=leave-visit]").count():
        page.locator("[data-test=leave-start]").click()
    page.wait_for_url("**/signin")


def csrf_header(page) -> dict[str, str]:
    """The session's CSRF token as the header htmx sends, for direct requests."""
    return {"X-CSRF-Token": page.locator("input[name=csrf]").first.input_value()}


def shoot(page) -> None:
    """Wait for the live verdict of a preview frame, then press the shutter."""
    page.wait_for_selector("#guidance[data-seq]", timeout=30_000)
    page.locator("[data-test=shutter]").click()
    page.wait_for_url("**/check", timeout=60_000)


def cannot_photograph(page) -> None:
    """On the capture screen, the eye recorded through "Cannot photograph this eye" and confirmed: its
    result on screen (the one way to record an eye with no photo)."""
    page.wait_for_url("**/capture")
    page.locator("[data-test=not-photographed]").click()
    page.locator("[data-test=not-photographed-yes]").click()
    page.wait_for_url("**/result")


def first_eye_screened(page, app: RunningApp, reference: str, eyes: tuple[str, ...] = ("R", "L")) -> None:
    """A new fundus patient, the first eye photographed and used: its result on screen."""
    first_photo_used(page, app, reference, eyes=eyes)


def first_photo_used(page, app: RunningApp, reference: str, **visit: Any) -> None:
    """A new patient (``visit``: the modality, body site or eyes ``new_patient`` takes), the first eye or
    lesion photographed and used: its result on screen."""
    new_patient(page, app, reference, **visit)
    page.wait_for_url("**/capture")
    shoot(page)
    page.locator("[data-test=use]").click()
    page.wait_for_url("**/result")


def recorded(app: RunningApp) -> list[tuple[str, str]]:
    """Each screening recorded: its eye and outcome."""
    with sqlite3.connect(app.directory / "records.sqlite3") as db:
        return db.execute("SELECT eye, outcome FROM screening").fetchall()


def add_operator(app: RunningApp, name: str, pin: str) -> None:
    """Another operator on the app's device, as the technician adds one."""
    store = open_store(app.config)
    try:
        Operators(store.records).add(name, pin)
    finally:
        store.records.close()
