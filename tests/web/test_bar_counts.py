"""The top bar's counts change with the screen that changed them, not at its next poll (every 5 s):
a nurse who used a photo and read "0 to send" could think it was not recorded. Real Chromium with
the bar's poll cancelled in the page, so only the action's own answer can refresh it: "Use this
photo" (an htmx swap, which asks the bar to refresh: server.moved_to) and a patient's erasure (a
page drawn with its bar after the erasure)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from firmware_app.messages import message
from tests.web.conftest import new_patient, shoot, sign_in, snap, switch_to, type_on_keypad

# Every request of the bar but the one a screen asks for (and a page's first, on load) is cancelled:
# the poll could otherwise bring the new count within the test's wait and hide a bar left behind.
NO_POLL = """document.addEventListener("htmx:beforeRequest", (event) => {
  if (event.detail.elt.id !== "status") return;
  const why = event.detail.requestConfig.triggeringEvent;
  if (!why || (why.type !== "status-changed" && why.type !== "load")) event.preventDefault();
});"""
# Well under the poll's 5 s: the count comes with the answer.
AT_ONCE_MS = 1000


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_bars_count_changes_with_the_screen_that_changed_it(page, app, language):
    page.add_init_script(NO_POLL)
    sign_in(page, app)
    switch_to(page, language)
    backlog = page.locator("[data-test=backlog]")
    new_patient(page, app, "B-1")
    page.wait_for_url("**/capture")
    expect(backlog).to_have_text(message("status.backlog", language).format(count=0))
    for eye, count in (("R", 1), ("L", 2)):
        shoot(page)
        page.locator("[data-test=use]").click()
        page.wait_for_url("**/result")
        assert page.locator(f"[data-test=triage-{eye}]").is_visible()
        expect(backlog).to_have_text(message("status.backlog", language).format(count=count), timeout=AT_ONCE_MS)
        if eye == "R":
            snap(page, "bar-count-after-use")
            page.locator("[data-test=next-slot]").click()
            page.wait_for_url("**/capture")

    page.locator("[data-test=finish]").click()  # a patient being screened is not erased
    page.wait_for_url("**/patient")
    page.goto(f"{app.url}/records")
    type_on_keypad(page, "reference", "B-1")
    page.locator("[data-test=find]").click()
    page.locator("[data-test=erase]").click()
    page.locator("[data-test=erase-yes]").click()
    page.locator("[data-test=erased]").wait_for()
    expect(backlog).to_have_text(message("status.backlog", language).format(count=0), timeout=AT_ONCE_MS)
    snap(page, "bar-count-after-erasure")
