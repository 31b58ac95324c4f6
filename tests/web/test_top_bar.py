"""The top bar and the row under it at 800x480, measured in the browser with each banner and count at
its longest, an operator's name at its longest, in both languages: every text inside the colour it
is drawn on (a banner's wrapped lines with some of their background left around them), no two
controls or counts on each other, touch targets of 48 px, and the bar at the height the screens
under it are laid out for.

The French call-back banner ran to three lines in a bar of one fixed height: its last line, underlined,
hung on the red's lower edge and below it. Nothing measured it: each line's box (17 px) fitted, but a
16 px letter is taller than that, so only the letters' own boxes show it."""

from __future__ import annotations

import pytest

from firmware_app.messages import message
from firmware_app.web.server import CAMERA_NOT_SET_UP
from tests.web.conftest import AUDIT, add_operator, enter_pin, on_screen, sign_in, snap, switch_to

# The longest name an operator may have (operators.MAX_NAME: 40 characters), as a person's.
LONG_NAME = "Marie-Françoise Delacroix-Vandenberghe"
# Patients to call back: one (said in the singular), the defect's three with one urgent, and a backlog
# of a dozen, all urgent (each number at its longest).
A_DOZEN_URGENT = {"patients": 12, "urgent": 12}
# A backlog of hundreds, all urgent: beside a banner, its count took the room the French camera
# banner needed for two lines, and the bar grew to 64 px.
HUNDREDS_URGENT = {"patients": 999, "urgent": 999}
# Each with a long backlog: the call-back banner; the site server unreachable for 90 minutes (the
# longest said in minutes; longer is said in hours, then days) or under a minute (its longest words);
# the camera lost or set up wrong beside a dozen, or hundreds of, urgent call-backs; no banner at all.
STATES = {
    "call-back-1-urgent": {"to_call_back": {"patients": 1, "urgent": 1}},
    "call-back-3-1-urgent": {"to_call_back": {"patients": 3, "urgent": 1}},
    "call-back-12-urgent": {"to_call_back": A_DOZEN_URGENT},
    "offline-90-minutes": {"offline": True, "waiting_minutes": 90},
    "offline-under-a-minute": {"offline": True, "waiting_minutes": 0},
    "offline-undated": {"offline": True, "waiting_minutes": None},
    "camera-lost-and-call-back": {"camera_banner": "banner.camera_lost", "to_call_back": A_DOZEN_URGENT},
    "camera-not-set-up-and-call-back": {"camera_banner": CAMERA_NOT_SET_UP, "to_call_back": A_DOZEN_URGENT},
    "camera-lost-and-hundreds": {"camera_banner": "banner.camera_lost", "to_call_back": HUNDREDS_URGENT},
    "camera-not-set-up-and-hundreds": {"camera_banner": CAMERA_NOT_SET_UP, "to_call_back": HUNDREDS_URGENT},
    "no-banner": {},
}

# The top bar's height every screen's layout leaves it, 800x480 unscrolled (px).
TOP_BAR_HEIGHT = 55
# A banner's letters keep this much of its colour around them, on each side (px).
BANNER_MARGIN = 2

# What breaks the rules in the top bar and the row under it; [] when they keep them all. Each text's
# letters (the boxes Chromium gives a text's glyphs, taller than its line) lie inside the element
# whose colour is behind them, with BANNER_MARGIN to spare in a banner; a banner scrolls nothing
# out of sight; the counts, banner and controls lie on the screen, apart from each other.
TOP_BAR = """([margin]) => {
  const problems = [];
  const fits = (inner, outer, m) => inner.left >= outer.left + m - 0.5 && inner.right <= outer.right - m + 0.5
    && inner.top >= outer.top + m - 0.5 && inner.bottom <= outer.bottom - m + 0.5;
  const painted = (e) => {
    for (; e.parentElement; e = e.parentElement) {
      if (getComputedStyle(e).backgroundColor !== "rgba(0, 0, 0, 0)") return e;
    }
    return e;
  };
  const where = (r) => `${Math.round(r.left)},${Math.round(r.top)} to ${Math.round(r.right)},${Math.round(r.bottom)}`;
  for (const bar of document.querySelectorAll(".topbar, .nav")) {
    const texts = document.createTreeWalker(bar, NodeFilter.SHOW_TEXT);
    for (let text = texts.nextNode(); text; text = texts.nextNode()) {
      // A text cut on purpose, its ellipsis showing (a long name, the models): its box is measured below.
      if (!text.textContent.trim() || getComputedStyle(text.parentElement).textOverflow === "ellipsis") continue;
      const behind = painted(text.parentElement);
      const box = behind.getBoundingClientRect();
      const range = document.createRange();
      range.selectNodeContents(text);
      for (const letters of range.getClientRects()) {
        if (letters.width && !fits(letters, box, behind.closest(".banner") ? margin : 0)) {
          problems.push(`"${text.textContent.trim().slice(0, 30)}" at ${where(letters)} out of ${where(box)}`);
        }
      }
    }
    const banner = bar.querySelector(".banner");
    if (banner && banner.scrollHeight > banner.clientHeight) problems.push(`banner scrolls ${banner.scrollHeight}`);
  }
  const parts = [...document.querySelectorAll(".status > *, .topbar > form, .nav > *")]
    .map((e) => [e, e.getBoundingClientRect()]).filter(([, r]) => r.width && r.height);
  for (const [e, r] of parts) {
    if (r.left < 0 || r.right > innerWidth) problems.push(`${e.className || e.tagName} off screen at ${where(r)}`);
  }
  parts.forEach(([a, r], i) => parts.slice(i + 1).forEach(([b, s]) => {
    if (r.left < s.right && s.left < r.right && r.top < s.bottom && s.top < r.bottom) {
      problems.push(`${a.className || a.tagName} on ${b.className || b.tagName}`);
    }
  }));
  return problems;
}"""


@pytest.mark.parametrize("state", STATES)
def test_each_banner_and_count_stays_inside_the_top_bar_in_both_languages(page, app, status_shown, state):
    status_shown |= {"online": False, "backlog": 999} | STATES[state]
    add_operator(app, LONG_NAME, "1357")
    page.goto(f"{app.url}/signin")
    page.get_by_label(LONG_NAME).check()
    enter_pin(page, "1357")
    page.wait_for_url("**/ready")
    problems = {}
    for language in ("en", "fr"):
        switch_to(page, language)
        page.goto(f"{app.url}/today")
        snap(page, f"top-bar-{state}")
        problems[language] = page.evaluate(TOP_BAR, [BANNER_MARGIN]) + page.evaluate(AUDIT)  # AUDIT: targets, text
        # A banner longer than any said here grows the bar; these keep the height the screens fit under.
        height = page.locator(".topbar").bounding_box()["height"]
        if height > TOP_BAR_HEIGHT:
            problems[language].append(f"top bar {height} px high")
        assert on_screen(page.locator(".topbar")) and on_screen(page.locator(".nav")), language
    assert problems == {"en": [], "fr": []}


def test_a_language_switched_in_another_tab_leaves_this_screen_in_one_language_and_its_switch_true(page, app):
    """Two tabs of one session (the kiosk's screen and a second tab, or a page left open): the language
    switched in one, the other's status bar came back from its poll in the new language above a page in
    the old one, and its switch, which names the new language, switched the session back to the old one:
    the page reloaded as it was, the tap doing nothing the nurse could see. Its bar stays in its page's
    language, and its switch gives the language it names."""
    sign_in(page, app)
    page.goto(f"{app.url}/today")
    switch_to(page, "en")
    other = page.context.new_page()
    other.goto(f"{app.url}/today")
    switch_to(other, "fr")
    # The bar's next poll (every 5 s), read once htmx has put its answer in place: the answer alone
    # arriving leaves the bar it replaces to be read.
    page.evaluate(
        "() => { window.statusSettled = false; document.body.addEventListener('htmx:afterSettle',"
        " (event) => { if (event.detail.elt.id === 'status') window.statusSettled = true; }); }"
    )
    with page.expect_response(lambda answer: answer.url.endswith("/status"), timeout=15_000):
        pass
    page.wait_for_function("() => window.statusSettled", timeout=15_000)
    assert page.locator("[data-test=connection]").inner_text() == message("status.offline", "en")
    page.locator("[data-test=language]").click()  # "Français"
    page.wait_for_load_state("domcontentloaded")
    assert page.locator("html").get_attribute("lang") == "fr"
