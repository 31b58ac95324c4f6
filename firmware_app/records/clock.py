"""How far the device's clock can be trusted, so a wrong clock never blocks, drops or purges results.

A Pi has no real-time clock: it boots in 1970 (or at the last saved time) until NTP sets it, and a
hand-set clock can be off by years. Two facts bound what a reading can be:

- ``BUILD_DATE``: this version was built on that day, so no true reading is earlier. It is set by
  hand with ``__version__`` at each release (one constant, here), never derived from file times,
  which an unpacked copy or a clock in 1970 would get wrong.
- the kernel's own verdict (``adjtimex``): whether NTP (or PTP, GPS...) keeps the clock in step.
  ``settimeofday`` (``date -s``) marks the clock unsynchronised, so a hand-set clock is seen as such.

Ages decide the outbox age cap and the image purge: by the wall clock they are measured only on a
synchronised clock, and only from stored times read on one, after the build (``records.store.dated``):
a device stored for months boots on its last saved time, and dates its screenings months early until
NTP answers. An unsent result of this boot is aged by ``boot_time`` instead (``records.store.QUEUED_AGE``).

The kernel's boot id tells what no timestamp can once the clock has stepped: that a screening was
recorded since the device last started (the nurse's Today, records/worklist.py). Within one boot,
``boot_time`` (CLOCK_BOOTTIME) is a clock that is never set: two of its readings give a true age
whatever the wall clock did between them, synchronised or not.
"""

from __future__ import annotations

import ctypes
import functools
import time
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path

BUILD_DATE = datetime(2026, 11, 29, tzinfo=UTC)
# EdgeScreen's first day: no file it wrote (a calibration profile) can truly be older, whatever
# release wrote it; unlike ``BUILD_DATE`` this never moves.
PROJECT_START = datetime(2026, 11, 29, tzinfo=UTC)
# Clocks of two processes on one device, read moments apart, may disagree by this much.
FUTURE_TOLERANCE = timedelta(minutes=5)
_TIME_ERROR = 5  # adjtimex's answer when the kernel clock is not synchronised
_TIMEX_BYTES = 512  # room for struct timex (208 bytes on 64-bit Linux); modes 0 only reads it


class ClockState(StrEnum):
    """What a timestamp's clock was worth when it was read; kept with the screening and, unless
    ``synchronised``, sent as a code with the result."""

    SYNCHRONISED = "synchronised"
    UNSYNCHRONISED = "unsynchronised"  # free-running: may be right, may be off by any amount
    BEFORE_BUILD = "before_build"  # cannot be true: the clock was not set
    FUTURE = "future"  # later than the clock that recorded it: it cannot be true either


@functools.cache
def libc() -> ctypes.CDLL:
    """The process's C library, loaded once, its ``errno`` kept (``ctypes.get_errno``): each recording
    asks the kernel about its clock twice, and a ``CDLL`` made per question (a ``dlopen`` and a ctypes
    class) cost more than the question."""
    return ctypes.CDLL(None, use_errno=True)


def kernel_clock_synchronised() -> bool:
    """The kernel's word on the system clock; ``False`` where it cannot be asked (not Linux)."""
    try:
        state = libc().adjtimex(ctypes.create_string_buffer(_TIMEX_BYTES))
    except (OSError, AttributeError):
        return False
    return state not in (-1, _TIME_ERROR)


@functools.cache
def current_boot() -> str:
    """The kernel's id of this boot, new at each start; ``""`` where it cannot be read (not Linux).
    Read once: it cannot change while the process runs, and each screening asks for it."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def boot_time() -> float:
    """Seconds since this boot, suspend included (CLOCK_BOOTTIME): never set, by NTP or by hand, so an
    age within one boot is exact on a device whose wall clock was months off or is never synchronised.
    The monotonic clock where there is none (not Linux, where ``current_boot`` is ``""`` anyway)."""
    return time.clock_gettime(getattr(time, "CLOCK_BOOTTIME", time.CLOCK_MONOTONIC))


def reading_state(moment: datetime, now: datetime, synchronised: bool) -> ClockState:
    """The state of ``moment``, a reading of the same clock that says ``now`` (``synchronised`` or not)."""
    if moment < BUILD_DATE:
        return ClockState.BEFORE_BUILD
    if moment > now + FUTURE_TOLERANCE:
        return ClockState.FUTURE
    return ClockState.SYNCHRONISED if synchronised else ClockState.UNSYNCHRONISED


def trusted_now(now: datetime, synchronised: bool) -> datetime | None:
    """``now`` when ages may be measured from it, else ``None``: nothing is aged on a doubtful clock."""
    return now if synchronised and now >= BUILD_DATE else None
