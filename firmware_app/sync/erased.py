"""The review station's notice of the results it erased for this device (``edgescreen.erased/1``).

The station keeps erased what this device may bring back: a patient erased here whose records were
restored from a backup taken before, or a result the station's administrator erased there. Its notice,
retained at the broker, names them all; the device erases those it still holds, through the records'
own erasure (``ScreeningStore.erase_erased_at_the_station``), without asking the station to erase them
again. Only a notice the station signed (``[sync] verdict_public_keys``) and made for this device is
taken: anyone who may publish on the broker could otherwise erase a device's records. Any other is
logged, without the ids it names, and left alone; a device given no verdict key takes none.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from edgescreen_wire.checks import WireError
from edgescreen_wire.erased import notice_verifies, parse_erased_notice
from firmware_app.events import log_event
from firmware_app.records.store import ScreeningStore


def take_erased_notice(
    payload: bytes, device_id: str, trusted: Sequence[Ed25519PublicKey] | None, store: ScreeningStore
) -> None:
    """Erase the results a genuine notice for ``device_id`` names that ``store`` still holds; log and
    leave any other (``trusted``: the station's verdict keys, ``None`` when the device has none)."""
    try:
        notice = parse_erased_notice(payload)
    except WireError as error:
        log_event("sync.erased_notice_rejected", level=logging.WARNING, field=error.field)
        return
    if not trusted or not notice_verifies(notice, trusted):
        reason = "signature_invalid" if trusted else "no_verdict_key"
        log_event("sync.erased_notice_not_signed", level=logging.WARNING, reason=reason)
        return
    if notice.device_id != device_id:
        log_event("sync.erased_notice_not_ours", level=logging.WARNING, device_id=notice.device_id)
        return
    erasure = store.erase_erased_at_the_station(notice.result_ids)
    if erasure.results:  # retained, the notice comes at each connection: said when it erased something
        log_event("sync.erased_by_the_station", erased=erasure.results, images=erasure.images)
