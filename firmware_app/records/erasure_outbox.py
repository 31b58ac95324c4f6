"""The station's copy of an erased patient's results: the erasure queues the request to erase it.

A patient's results that the sync worker handed to the broker may be held at the review station.
``ScreeningStore.erase_patient`` queues an ``edgescreen.erasure/1`` document naming them (ids only)
in the same transaction as the erasure, in ``erasure_outbox``: a power cut leaves either both or
neither, and the worker publishes it like a result, at least once, whenever the broker answers
(``Outbox.pending_erasures``), deleting it on the broker's acknowledgement. Its own table, not a row
of ``outbox``: those belong to a screening and go with it.

The device id is the one each result was sent under (its queued payload's ``device_id``), which is
the device the station holds it for; the records' own id when a payload cannot be read.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from edgescreen_wire.erasure import erasure_documents
from firmware_app.records.identity import recorded_identity
from firmware_app.records.integrity import stored_bytes


def _sent_under(db: sqlite3.Connection, result_ids: Sequence[str]) -> dict[str, list[str]]:
    """The results grouped by the device id their payload was sent under."""
    marks = ",".join("?" * len(result_ids))
    payloads = dict(db.execute(f"SELECT result_id, payload FROM outbox WHERE result_id IN ({marks})", list(result_ids)))
    identity = recorded_identity(db)
    by_device: dict[str, list[str]] = defaultdict(list)
    for result_id in result_ids:
        try:
            device_id = json.loads(stored_bytes(payloads[result_id]))["device_id"]
        except (KeyError, TypeError, ValueError):
            device_id = identity.device if identity else None
        if isinstance(device_id, str):
            by_device[device_id].append(result_id)
    return by_device


def queue_erasure(db: sqlite3.Connection, result_ids: Sequence[str], now: datetime) -> None:
    """Queue the documents asking the station to erase ``result_ids``, in the caller's transaction
    (before their screenings and outbox rows are deleted, which ``_sent_under`` reads)."""
    if not result_ids:
        return
    for device_id, ids in sorted(_sent_under(db, result_ids).items()):
        for document in erasure_documents(device_id, ids):
            db.execute("INSERT INTO erasure_outbox (payload, queued_at) VALUES (?, ?)", (document, now.isoformat()))
