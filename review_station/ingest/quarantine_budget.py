"""How much of a device's results the quarantine keeps whole while the device is not enrolled.

A valid result from a device the registry does not have (yet, or any more) is kept whole, so that
enrolling the device releases it. Kept without a bound, a retired device's certificate, until it is
revoked, or a device enrolled nowhere could fill the station's disk (3,000 results in 0.3 s, 7 MB,
measured). Each device may have ``WHOLE_BYTES_PER_DEVICE`` of results waiting whole, some 16,000 of a
typical 2 KiB, weeks of a device's backlog; past that a refused result keeps its first bytes only, as
any other refusal does, and no enrolment releases it (its reason says so). The total is read once per
device and batch; two ingesters may each take one batch past it, no more.
"""

from __future__ import annotations

from sqlalchemy import Connection, func, select

from review_station.storage.tables import quarantine

WHOLE_BYTES_PER_DEVICE = 32 * 2**20
# Added to the reason of a result kept cut for want of room.
OVER_BUDGET = (
    f"; its results waiting here reached {WHOLE_BYTES_PER_DEVICE // 2**20} MiB: this one is kept cut, "
    "and no enrolment releases it"
)


class AwaitingBudget:
    """The bytes of whole results each device has waiting in quarantine, within one batch's transaction."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._held: dict[str, int] = {}

    def admits(self, device_id: str, size: int) -> bool:
        """Whether a result of ``size`` bytes is kept whole for ``device_id`` (and then counted)."""
        if device_id not in self._held:
            waiting = select(func.coalesce(func.sum(quarantine.c.payload_bytes), 0))
            self._held[device_id] = self._connection.execute(
                waiting.where(quarantine.c.awaiting_device == device_id)
            ).scalar_one()
        if self._held[device_id] + size > WHOLE_BYTES_PER_DEVICE:
            return False
        self._held[device_id] += size
        return True
