"""The uploader: sends the queued photos, sealed to the review station, over HTTPS; never over MQTT.

``PUT <station_url>/api/v1/results/<result_id>/image`` with the sealed bytes, authenticated by the
device's client certificate (the MQTT one) and checking the station's certificate against the CA.
The station answers 201 (stored) or 200 (it already holds these bytes): either marks the row
uploaded. A photo is offered only after the broker acknowledged its result; if the station has not
ingested that result yet (404, 409) or is busy (429, 5xx), that photo is tried again later with the
sync worker's backoff, the others go on. A refusal of the content itself (400, 403, 413, 422) is set
aside with the reason, audited, and the queue goes on.

An upload cut off (a dropped link, the worker killed) is simply sent again whole: the station
stores nothing until it has every byte and the digest the result announced, and a second copy of
the same bytes is a 200, so each photo is stored exactly once. Photos are at most a few megabytes,
so restarting costs less than a resumable protocol would.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import random
import ssl
import threading
import time
from urllib.parse import urlsplit

from firmware_app.config import SyncConfig
from firmware_app.events import log_event
from firmware_app.records.uploads import PendingUpload, UploadQueue
from firmware_app.sync.retry import RECORDS_RETRY_SECONDS, RECORDS_TROUBLE, backoff_delay

UPLOAD_PATH = "/api/v1/results/{result_id}/image"
STORED = (200, 201)
# The station has not ingested the result yet, or is busy: the same bytes will be welcome later.
TRY_LATER = (404, 409, 429)
IDLE_SECONDS = 0.5


class StationClient:
    """One HTTPS request per upload, with the device's certificate; errors are ``OSError`` or
    ``http.client.HTTPException`` (the link), never a status (the station's answer)."""

    def __init__(self, settings: SyncConfig) -> None:
        url = urlsplit(settings.station_url)
        self._host, self._port = url.hostname or "", url.port or 443
        self._timeout = settings.connect_timeout_s
        self._context = ssl.create_default_context(cafile=str(settings.tls_ca_file) if settings.tls_ca_file else None)
        if settings.tls_cert_file:
            key = str(settings.tls_key_file) if settings.tls_key_file else None
            self._context.load_cert_chain(str(settings.tls_cert_file), key)

    def put(self, result_id: str, sealed: bytes) -> int:
        connection = http.client.HTTPSConnection(self._host, self._port, context=self._context, timeout=self._timeout)
        try:
            connection.request(
                "PUT",
                UPLOAD_PATH.format(result_id=result_id),
                body=sealed,
                headers={"Content-Type": "application/octet-stream"},
            )
            response = connection.getresponse()
            response.read()
            return response.status
        finally:
            connection.close()


class ImageUploader:
    def __init__(self, queue: UploadQueue, client: StationClient, settings: SyncConfig, stop: threading.Event) -> None:
        self._queue, self._client, self._settings, self._stop = queue, client, settings, stop
        self._rng = random.Random()
        self._link_failures = 0
        # Photos the station asked to be sent later: result id -> (failures, when to try again).
        self._later: dict[str, tuple[int, float]] = {}

    def _delay(self, failures: int) -> float:
        return backoff_delay(failures, self._settings.backoff_initial_s, self._settings.backoff_max_s, self._rng)

    def _next(self) -> PendingUpload | None:
        now = time.monotonic()
        waiting = [rid for rid, (_, due) in self._later.items() if due > now]
        return self._queue.next_ready(waiting)

    def _drained(self) -> bool:
        return self._queue.backlog().pending == 0

    def run(self, until_drained: bool = False) -> None:
        """Upload until stopped (or, with ``until_drained``, until no photo waits)."""
        while not self._stop.is_set():
            try:
                upload = self._next()
                if upload is None:
                    if until_drained and self._drained():
                        return
                    self._stop.wait(IDLE_SECONDS)
                    continue
                self._send(upload)
            except RECORDS_TROUBLE as error:
                log_event("sync.upload_records_trouble", level=logging.ERROR, error=error)
                self._stop.wait(RECORDS_RETRY_SECONDS)

    def _send(self, upload: PendingUpload) -> None:
        if hashlib.sha256(upload.sealed).hexdigest() != upload.sha256:
            self._queue.refuse(upload.result_id, "the queued sealed photo differs from its recorded digest")
            log_event("sync.upload_withheld", level=logging.ERROR, result_id=upload.result_id)
            return
        try:
            status = self._client.put(upload.result_id, upload.sealed)
        except (OSError, http.client.HTTPException) as error:
            delay = self._delay(self._link_failures)
            self._link_failures += 1
            log_event("sync.upload_failed", level=logging.WARNING, error=error, retry_in_s=round(delay, 2))
            self._stop.wait(delay)
            return
        self._link_failures = 0
        if status in STORED:
            self._queue.mark_uploaded(upload.result_id, status)
            self._later.pop(upload.result_id, None)
            log_event("sync.uploaded", result_id=upload.result_id, status=status, bytes=len(upload.sealed))
        elif status in TRY_LATER or status >= 500:
            failures = self._later.get(upload.result_id, (0, 0.0))[0]
            delay = self._delay(failures)
            self._later[upload.result_id] = (failures + 1, time.monotonic() + delay)
            log_event("sync.upload_later", result_id=upload.result_id, status=status, retry_in_s=round(delay, 2))
        else:
            self._queue.refuse(upload.result_id, f"the station refused it ({status})")
            log_event("sync.upload_refused", level=logging.ERROR, result_id=upload.result_id, status=status)
