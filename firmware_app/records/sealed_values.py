"""Which sealed values of the records no longer open with their key: bits a worn card changed.

``PRAGMA quick_check`` checks every page's structure, never a value's bytes, and AES-GCM refuses a
value with a single bit changed; so a card that flips bits inside a photo or a patient reference
passes every other check until someone needs that value (a reviewer, a subject access request, an
erasure, a restore). Opening every value is what finds it first: AES-GCM runs at about 1 GB/s on a
desktop core, and an order of magnitude slower on a Pi without the ARMv8 crypto extensions, so it
is for ``doctor`` and ``backup``, which a technician runs, not for the nurse's readiness list.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

from firmware_app.records.sealing import SealBroken, Sealer

# Each sealed text column: its table, the result it belongs to, and how its binding names it.
_TEXTS = (
    ("SELECT result_id, result_id, patient_sealed FROM screening WHERE patient_sealed IS NOT NULL", "patient"),
    ("SELECT result_id, result_id, note_sealed FROM screening WHERE note_sealed IS NOT NULL", "note"),
    ("SELECT result_id, result_id, source_sealed FROM screening", "source"),
    ("SELECT result_id, review_id, comment_sealed FROM review WHERE comment_sealed IS NOT NULL", "comment"),
)


def photos_that_do_not_open(connection: sqlite3.Connection, sealer: Sealer) -> list[str]:
    """The result id of each photo that does not open, one entry per photo."""
    rows = connection.execute("SELECT result_id, sealed FROM image ORDER BY result_id, id")
    index: dict[str, int] = {}
    damaged = []
    for result_id, sealed in rows:
        position = index.get(result_id, 0)
        if not _opens(sealer, sealed, f"image:{result_id}:{position}"):
            damaged.append(result_id)
        index[result_id] = position + 1
    return damaged


def texts_that_do_not_open(connection: sqlite3.Connection, sealer: Sealer) -> Iterator[str]:
    """The result id of each sealed text (patient reference, note, file name, review comment) that
    does not open."""
    for query, field in _TEXTS:
        for result_id, owner, sealed in connection.execute(query):
            if not _opens(sealer, sealed, f"{field}:{owner}"):
                yield result_id


def results_with_values_that_do_not_open(connection: sqlite3.Connection, sealer: Sealer) -> tuple[str, ...]:
    """Each result holding a sealed value that does not open, once, in the order found."""
    found = [*photos_that_do_not_open(connection, sealer), *texts_that_do_not_open(connection, sealer)]
    return tuple(dict.fromkeys(found))


def _opens(sealer: Sealer, sealed: bytes, binding: str) -> bool:
    try:
        sealer.open(sealed, binding)
    except SealBroken:
        return False
    return True
