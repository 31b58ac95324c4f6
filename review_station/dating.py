"""The station's time of a result: the one moment that orders the worklist, filters dates and dates
the exports, defined here once.

A device's ``captured_at`` is its own clock's word. A Pi has no real-time clock: before NTP sets it,
it reads 1970 or the last saved time, and a hand-set clock can be off by years either way. Trusted
blindly, a result dated 1970 tops its queue rank for ever, one dated in the future sinks below every
other, and an export by date leaves both out. So the station uses the device's time only when it can
vouch for it, and otherwise the one time it can: when the result reached it (``received_at``), which
the true capture time cannot be later than.

The device's time is used when both hold:
- the payload carries no ``clock`` flag (``edgescreen_wire.result``: the device flags a reading taken on
  a clock NTP did not keep in step, or earlier than its software's build date, or later than its own
  clock at the time; any of them may be off by any amount);
- it is not later than its arrival here, give or take ``ARRIVAL_TOLERANCE`` (two clocks kept by NTP
  agree to well under a second; a result from the future of its arrival is impossible);
- it is not earlier than EdgeScreen's first day (``PROJECT_START``, the device's own floor): the flag is
  optional on the wire, so a device that sends none may still send 1970.

The choice is made once, on arrival, and stored with its moment (``results.dated_from`` and
``dated_at``): the worklist, the result page and the exports read it, never decide it again.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from firmware_app.records.clock import PROJECT_START  # the device's floor; the station shares the package

ARRIVAL_TOLERANCE = timedelta(minutes=5)
# Which time dates a result (``results.dated_from``, the CSV export's ``dated_from``).
CAPTURE, ARRIVAL = "captured_at", "received_at"


def device_time_trusted(captured_at: datetime, received_at: datetime, clock: str | None) -> bool:
    """Whether the device's ``captured_at`` dates the result (``clock``: the payload's flag, if any)."""
    return clock is None and not after_arrival(captured_at, received_at) and not before_project(captured_at)


def after_arrival(captured_at: datetime, received_at: datetime) -> bool:
    """Whether the device's time is impossible: later than the result's arrival at the station."""
    return captured_at > received_at + ARRIVAL_TOLERANCE


def before_project(captured_at: datetime) -> bool:
    """Whether the device's time is impossible: earlier than any EdgeScreen device could record."""
    return captured_at < PROJECT_START


def dating(captured_at: datetime, received_at: datetime, clock: str | None) -> dict[str, Any]:
    """A result's ``dated_from`` (``CAPTURE`` or ``ARRIVAL``) and ``dated_at`` (that time), as stored."""
    if device_time_trusted(captured_at, received_at, clock):
        return {"dated_from": CAPTURE, "dated_at": captured_at}
    return {"dated_from": ARRIVAL, "dated_at": received_at}
