"""The uploader: sends the queued photos, sealed to the review station, over HTTPS; never over MQTT.

Each photo is uploaded resumably to ``<station_url>/api/v1/results/<result_id>/image``
(``review_station/resumable.py`` describes the protocol: the shape of the IETF "Resumable Uploads
for HTTP" draft): ``HEAD`` asks how many bytes the station holds, ``PATCH`` sends the rest from that
``Upload-Offset``; authenticated by the device's client certificate (the MQTT one), checking the
station's certificate against the CA. The station answers 201 (stored) or 200 (it already holds
these bytes): either marks the row uploaded. A photo is offered only after the broker acknowledged
its result; if the station has not ingested that result yet (404), holds other bytes at that offset
(409) or is busy (429, 5xx), that photo is tried again later with the sync worker's backoff, the
others go on. A refusal of the content itself (400, 403, 413, 422) is set aside with the reason,
audited, and the queue goes on, until the technician queues it again (``sync retry-photos``). A photo
whose result the station erased meanwhile at the patient's request (410) is set aside for good, its
sealed bytes dropped (``UploadQueue.erased_at_the_station``): no retry mends that answer. The result
itself is erased on the device by the station's signed notice (``sync/erased.py``).

An upload cut off (a dropped link, the worker killed) resumes where the station's kept bytes end,
so a slow uplink that keeps dropping still gets a photo through. The station checks the digest on
the whole and stores it once; the same bytes again are a 200.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from firmware_app.config import SyncConfig
from firmware_app.events import log_event
from firmware_app.health.heartbeat import Heartbeat
from firmware_app.records.uploads import ALTERED, STATION_REFUSED, PendingUpload, UploadQueue
from firmware_app.sync.retry import RECORDS_RETRY_SECONDS, RECORDS_TROUBLE, backoff_delay, writing_records
from firmware_app.sync.tls import client_context

UPLOAD_PATH = "/api/v1/results/{result_id}/image"
# The body goes out in blocks, each a beat of the heartbeat: one socket write, bounded by the timeout.
BLOCK_BYTES = 64 * 1024
STORED = (200, 201)
# The station has not ingested the result yet, or is busy: the same bytes will be welcome later.
TRY_LATER = (404, 409, 429)
# The station erased the photo's result at the patient's request: it will never take the photo.
ERASED = 410
IDLE_SECONDS = 0.5


@dataclass(frozen=True)
class Sent:
    """The station's answer to one photo, and how many of its bytes this attempt sent."""

    status: int
    sent: int = 0
    resumed_at: int = 0


class StationClient:
    """The HTTPS requests of one upload on one connection, with the device's certificate; errors
    are ``OSError`` or ``http.client.HTTPException`` (the link), never a status (the station's answer).

    Every blocking step (connecting, each block of the body, each answer) is bounded by the
    timeout, and ``heartbeat`` promises the next within it: a slow uplink is progress, not a hang."""

    def __init__(self, settings: SyncConfig) -> None:
        url = urlsplit(settings.station_url)
        self._host, self._port = url.hostname or "", url.port or 443
        self._timeout = settings.connect_timeout_s
        self._context = client_context(settings)

    def _connect(self) -> http.client.HTTPSConnection:
        return http.client.HTTPSConnection(self._host, self._port, context=self._context, timeout=self._timeout)

    def _blocks(self, data: bytes, heartbeat: Heartbeat) -> Iterator[bytes]:
        for at in range(0, len(data), BLOCK_BYTES):
            heartbeat.beat(self._timeout)
            yield data[at : at + BLOCK_BYTES]

    def upload(self, result_id: str, sealed: bytes, heartbeat: Heartbeat) -> Sent:
        """Resumably: ask the station how much of this photo it holds (``HEAD``), then send the rest
        (``PATCH`` from ``Upload-Offset``); 201 or 200 once it holds the whole."""
        path = UPLOAD_PATH.format(result_id=result_id)
        connection = self._connect()
        try:
            heartbeat.beat(self._timeout)
            connection.request("HEAD", path)
            response = connection.getresponse()
            response.read()
            if response.status != 204:
                return Sent(response.status)
            if response.getheader("Upload-Complete") == "?1":
                return Sent(200)
            at = int(response.getheader("Upload-Offset") or "0")
            if at > len(sealed):  # the station holds more than this photo: not ours to continue
                return Sent(409, resumed_at=at)
            rest = sealed[at:]
            headers = {
                "Content-Type": "application/partial-upload",
                "Content-Length": str(len(rest)),
                "Upload-Offset": str(at),
                "Upload-Complete": "?1",
            }
            connection.request("PATCH", path, body=self._blocks(rest, heartbeat), headers=headers)
            heartbeat.beat(self._timeout)
            response = connection.getresponse()
            response.read()
            return Sent(response.status, len(rest), at)
        finally:
            connection.close()


class ImageUploader:
    def __init__(
        self,
        queue: UploadQueue,
        client: StationClient,
        settings: SyncConfig,
        stop: threading.Event,
        heartbeat: Heartbeat,
    ) -> None:
        self._queue, self._client, self._settings, self._stop = queue, client, settings, stop
        self._heartbeat = heartbeat
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

    def run(self, until_drained: bool = False) -> None:
        """Upload until stopped (or, with ``until_drained``, until none is left that it will still send:
        ``UploadQueue.still_to_send``)."""
        while not self._stop.is_set():
            self._heartbeat.beat(self._settings.connect_timeout_s)
            try:
                upload = self._next()
                if upload is None:
                    if until_drained and not self._queue.still_to_send():
                        return
                    self._pause(IDLE_SECONDS)
                    continue
                self._send(upload)
            except RECORDS_TROUBLE as error:
                log_event("sync.upload_records_trouble", level=logging.ERROR, error=error)
                self._pause(RECORDS_RETRY_SECONDS)

    def _pause(self, seconds: float) -> None:
        self._heartbeat.beat(seconds)
        self._stop.wait(seconds)

    def _send(self, upload: PendingUpload) -> None:
        if hashlib.sha256(upload.sealed).hexdigest() != upload.sha256:
            with writing_records(self._heartbeat):
                self._queue.refuse(upload.result_id, ALTERED)
            log_event("sync.upload_withheld", level=logging.ERROR, result_id=upload.result_id)
            return
        try:
            sent = self._client.upload(upload.result_id, upload.sealed, self._heartbeat)
        except (OSError, http.client.HTTPException) as error:
            delay = self._delay(self._link_failures)
            self._link_failures += 1
            log_event("sync.upload_failed", level=logging.WARNING, error=error, retry_in_s=round(delay, 2))
            self._pause(delay)
            return
        self._link_failures = 0
        status = sent.status
        if status in STORED:
            with writing_records(self._heartbeat):
                self._queue.mark_uploaded(upload.result_id, status)
            self._later.pop(upload.result_id, None)
            log_event(
                "sync.uploaded", result_id=upload.result_id, status=status, bytes=sent.sent, resumed_at=sent.resumed_at
            )
        elif status in TRY_LATER or status >= 500:
            failures = self._later.get(upload.result_id, (0, 0.0))[0]
            delay = self._delay(failures)
            self._later[upload.result_id] = (failures + 1, time.monotonic() + delay)
            log_event("sync.upload_later", result_id=upload.result_id, status=status, retry_in_s=round(delay, 2))
        elif status == ERASED:
            with writing_records(self._heartbeat):
                self._queue.erased_at_the_station(upload.result_id)
            log_event("sync.upload_erased_at_the_station", level=logging.WARNING, result_id=upload.result_id)
        else:
            with writing_records(self._heartbeat):
                self._queue.refuse(upload.result_id, STATION_REFUSED.format(status=status))
            log_event("sync.upload_refused", level=logging.ERROR, result_id=upload.result_id, status=status)
