"""The device and site the records were made under, kept in their ``meta``.

The config's ``[device] id`` and ``site`` can change under the records: a backup restored onto a
device with another id (its queued results then name one device on another's topic, and the
station quarantines them for good), or a device moved to another site by editing ``site`` (the old
clinic's patients stay readable to the new clinic's nurses). The records remember whom they belong
to, so that ``restore`` and ``doctor`` can tell (``backup.py``, ``health/checks.py``).

Set on the first open that writes; records made by the releases before take the ids of their newest
queued payload, which says whom they were made under, or else the config's at that open.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from firmware_app.messages import message

DEVICE_KEY = "device_id"
SITE_KEY = "site_id"
# How device/config.toml marks the ids a technician must set (scripts/install-device installs it,
# and opens the records with them to install the models): never kept as the records' own.
PLACEHOLDER_PREFIX = "change-me"


@dataclass(frozen=True)
class Identity:
    device: str
    site: str

    def __str__(self) -> str:
        return self.said_in("en")

    def said_in(self, language: str) -> str:
        """The device and its site as a sentence in ``language`` names them: a French sentence read
        "les dossiers de cam-01 at clinic-7" with the English words' "at"."""
        return message("identity.at", language).format(device=self.device, site=self.site)

    @property
    def placeholder(self) -> bool:
        return any(name.startswith(PLACEHOLDER_PREFIX) for name in (self.device, self.site))


def recorded_identity(connection: sqlite3.Connection) -> Identity | None:
    """The ids the records were made under; ``None`` before they are set (``note_identity``)."""
    rows = dict(connection.execute("SELECT key, value FROM meta WHERE key IN (?, ?)", (DEVICE_KEY, SITE_KEY)))
    return Identity(rows[DEVICE_KEY], rows[SITE_KEY]) if len(rows) == 2 else None


def _newest_payload_identity(connection: sqlite3.Connection) -> Identity | None:
    row = connection.execute("SELECT payload FROM outbox ORDER BY seq DESC LIMIT 1").fetchone()
    if row is None:
        return None
    payload = json.loads(row[0])
    return Identity(payload["device_id"], payload["site_id"])


def made_under(connection: sqlite3.Connection) -> Identity | None:
    """Whom the records (or a backup of them) belong to: their ids, or for records of a release
    before this one, their newest queued payload's; ``None`` when nothing says."""
    return recorded_identity(connection) or _newest_payload_identity(connection)


def note_identity(connection: sqlite3.Connection, configured: Identity | None) -> None:
    """Inside a write transaction: keep whom the records belong to, once (``made_under``, else
    ``configured``), unless those are the installer's placeholders; a later open never changes it."""
    identity = made_under(connection) or configured
    if identity is None or identity.placeholder or recorded_identity(connection) is not None:
        return
    for key, value in ((DEVICE_KEY, identity.device), (SITE_KEY, identity.site)):
        connection.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO NOTHING", (key, value))
