"""The sync worker: drains the outbox to the site broker and takes in specialists' verdicts.

Delivery is at least once, never lost: a row is marked sent only on the broker's PUBACK (MQTT 5, so
a broker that refuses a message says so with a reason code instead of dropping it quietly). Each
connection uses a fresh paho client, so nothing unacknowledged lives on in memory: after any
disconnect or restart the worker publishes again from the oldest unsent row, in order, and
receivers de-duplicate on the result id. The MQTT session itself is persistent (``clean_start``
false, a session expiry), so verdicts sent while the device was offline wait for it at the broker.

One thread does everything (``client.loop`` is called here, not in paho's thread), so callbacks and
the SQLite connection never race.

Nothing one message carries can stop delivery: each incoming message is handled under one guard
(anything that cannot become a stored review is logged, rejected and acknowledged, so the broker
never redelivers it), each outgoing payload is checked against its audit event before it is
published, and trouble with the records (a full disk) costs a reconnection, not the worker.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import deque
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from edgescreen_wire.checks import WireError
from edgescreen_wire.disconnects import LossWatch, reason_with_code
from edgescreen_wire.erased import MAX_NOTICE_BYTES
from edgescreen_wire.review import MAX_REVIEW_BYTES
from edgescreen_wire.topics import ERASED, ERASURE, RESULT, REVIEW, REVIEW_ACK, STATUS, device_topic
from firmware_app.config import DeviceConfig, SyncConfig
from firmware_app.events import log_event
from firmware_app.health.heartbeat import Heartbeat
from firmware_app.records.database import RecordsDamaged, RecordsError, records_problem
from firmware_app.records.erased_pages import pay_checkpoint
from firmware_app.records.outbox import (
    DAMAGED,
    ERASURES_REFUSED,
    LAST_FAILURE,
    REFUSED,
    ErasureRow,
    Outbox,
    OutboxRow,
)
from firmware_app.records.sealing import KeyUnavailable
from firmware_app.records.store import ScreeningStore
from firmware_app.sync.erased import take_erased_notice
from firmware_app.sync.failure import NOT_AUTHORISED, TIMED_OUT, TLS_REFUSED, cause_of
from firmware_app.sync.payload import check_queued
from firmware_app.sync.retry import LOOP_SECONDS, RECORDS_RETRY_SECONDS, RECORDS_TROUBLE, backoff_delay, writing_records
from firmware_app.sync.review import NotSignedByStation, parse_review, review_ack, trusted_verdict_keys
from firmware_app.sync.tls import TlsUnusable, client_context

ACK_COMMIT_ROWS = 256  # mark rows published and acknowledged in batches: one fsync per batch, not per row
ACK_COMMIT_SECONDS = 0.05
CLAIM_ROWS = 128  # rows claimed per write transaction; what an erasure cannot withdraw any more
MAINTENANCE_SECONDS = 3600.0
# While the broker is out of reach, one batch of the queue (CLAIM_ROWS) is checked a second (``_sweep``):
# about 5 ms of ``check_queued`` on the development machine, however long the backlog.
SWEEP_SECONDS = 1.0
# The largest packet this device takes from the broker: a verdict or the station's erasure notice (at
# most MAX_REVIEW_BYTES, MAX_NOTICE_BYTES), its topic and properties, with room; the broker drops a
# larger one instead of sending it.
MAX_INCOMING_PACKET = 2 * max(MAX_REVIEW_BYTES, MAX_NOTICE_BYTES)
# The erasure requests the site broker's ACL refused are published again on the same connection after
# ``backoff_delay`` from these (``_send_erasures``). The technician installs this release's broker/acl and
# reloads mosquitto (SIGHUP), which keeps its clients: tried again only at the next connection, a request
# waited for the network to drop, days on a steady one. Minutes, not the reconnection's seconds: an ACL
# is mended by hand, and each refusal is an error line in the device's log and the broker's; the cap
# has a mended ACL found within half an hour.
ERASURE_RETRY_INITIAL_S = 120.0
ERASURE_RETRY_MAX_S = 1800.0


# MQTT 5 reason codes that refuse this device as such (its identity or rights), not the broker's load:
# client identifier not valid, bad user name or password, not authorized, bad authentication method.
DENIED = frozenset({0x85, 0x86, 0x87, 0x8C})


def denies_this_device(reason: Any) -> bool:
    """Whether a failure code says the broker will not take this device until a technician acts
    ("Server busy" or "Quota exceeded" pass with time, and are retried as a network fault)."""
    return getattr(reason, "value", None) in DENIED


class SyncWorker:
    def __init__(
        self,
        outbox: Outbox,
        store: ScreeningStore,
        settings: SyncConfig,
        device: DeviceConfig,
        retention: timedelta,
        stop: threading.Event | None = None,
    ) -> None:
        self._outbox, self._store, self._settings = outbox, store, settings
        self._retention = retention
        self._stop = stop or threading.Event()
        self._rng = random.Random()
        self._topic = {
            leaf: device_topic(device.site, device.id, leaf)
            for leaf in (RESULT, STATUS, REVIEW, REVIEW_ACK, ERASURE, ERASED)
        }
        self._client_id = device.id
        self._trusted = trusted_verdict_keys(settings.verdict_public_keys)
        # Files that cannot make a TLS context stop the worker here, before its first connection,
        # with ``TlsUnusable``, which says why (``sync.tls``). The context is built again for each
        # connection (``_new_client``), so a certificate renewed in place is presented at the next
        # one, without restarting the service.
        if settings.tls_ca_file:
            client_context(settings)
        # Acknowledged by the broker, not yet marked sent: kept across connections, so a full disk
        # delays the marking (retried every RECORDS_RETRY_SECONDS) instead of resending them. And
        # published, not yet noted as such (the worklist's "sent"), written with the same batch.
        self._acked: list[int] = []
        self._published: list[int] = []
        # The station's erasure requests the broker acknowledged, not yet deleted from the records
        # (a full disk): kept across connections like ``_acked``, and not published again meanwhile.
        self._erasures_acked: list[int] = []
        # Requests altered on the card (``_erasure_withheld``): logged once, never published.
        self._erasures_withheld: set[int] = set()
        # How many queued requests the broker refused when ``run(until_drained=True)`` ended: nothing
        # else was left to send, and they cannot be until its ACL changes (``sync run`` says so).
        self.erasures_refused = 0
        # The count of refused requests last recorded for ``sync status`` (``_note_erasures_refused``):
        # read from the records at ``run``, as a worker before this one may have left one there.
        self._erasures_refused_noted = 0
        self._first_unrecorded_at = 0.0
        self._commit_retry_at = 0.0
        self._share_retry_at = 0.0  # ``_share_records_when_room``
        # Why the last connection ended, shown with the next one until the broker takes a result, and not
        # after (``_on_publish``): a broker refusing every result keeps the worker "connected" most of the
        # time, and one back after days away still named the outage while it had taken the whole backlog.
        self._last_problem = ""
        # The broker refused this device's results, and has taken none since (``_cause``).
        self._results_refused = False
        self._losses = LossWatch()
        # Result of each row published and not yet marked sent (for the log of one that cannot be),
        # and the results acknowledged whose screening is on a damaged page (``_commit_apart``).
        self._result_of: dict[int, str] = {}
        self._unmarked: list[str] = []
        self._named_unmarked = 0  # how many of them the status names
        self.heartbeat = Heartbeat("sync loop")
        self._next_maintenance = 0.0  # time.monotonic(): at once, then hourly, connected or not
        self._sweep_cursor, self._next_sweep = 0, 0.0  # the offline check of the queue (``_sweep``)
        # Rows that failed ``check_queued`` and that the records refused to mark withheld (a full disk),
        # with why: never published, logged once, their withholding tried again hourly (``_withhold``).
        self._to_withhold: dict[int, tuple[OutboxRow, str]] = {}
        self._reset_connection_state()

    def _reset_connection_state(self) -> None:
        self._inflight: dict[int, int] = {}  # paho message id -> outbox seq
        self._erasures_inflight: dict[int, int] = {}  # paho message id -> erasure_outbox seq
        # The ``review_ack`` of each verdict stored on this connection, published and not yet taken by the
        # broker (paho message ids): owed to the station, which sends the verdict again until it has one.
        self._acks_owed: set[int] = set()
        # The broker answered this connection's subscription: the verdicts it held for the device came before.
        self._subscribed = False
        self._erasures_refused: set[int] = set()  # by the broker, on this connection: tried after a backoff
        # When the refused requests are published again (``time.monotonic()``; None: no round waits), and
        # the rounds of them the broker refused on this connection, the backoff's attempt.
        self._erasure_retry_at: float | None = None
        self._erasure_retries = 0
        self._erasure_cursor, self._next_erasure_check = 0, 0.0
        self._claimed: deque[OutboxRow] = deque()
        self._cursor = 0
        self._connack: bool | None = None
        self._problem = ""
        self._failure = ""  # the problem's cause, when one a technician acts on (``sync.failure``)
        self._taken_over = False
        # The broker answered and said no (a CONNACK or PUBACK failure code, e.g. "Not authorized"):
        # not a network fault, so retrying at once only repeats it.
        self._refused = False
        # The records are damaged where the worker must read or write: a technician's to mend.
        self._damaged = False
        # The records refused this connection's state (``_record_connected``): written with the next batch,
        # or by the loop once ``_connected_retry_at`` (``time.monotonic()``) is past.
        self._connected_unrecorded = False
        self._connected_retry_at = 0.0

    def stop(self) -> None:
        self._stop.set()

    def _writing(self, waits: int = 1) -> AbstractContextManager[None]:
        """Around a records write of the sync loop (``writing_records``)."""
        return writing_records(self.heartbeat, waits)

    def _described(self, error: BaseException) -> RecordsError:
        """Trouble with the records in words a technician acts on ("the disk is full")."""
        return error if isinstance(error, RecordsError) else records_problem(self._store.records.path, error)

    # paho callbacks (API version 2); they run inside client.loop(), on this worker's thread

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        self._connack = not reason.is_failure
        if reason.is_failure:
            self._problem, self._refused = f"the broker refused the connection: {reason}", denies_this_device(reason)
            self._failure = NOT_AUTHORISED if self._refused else ""

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        """The reason and its code go into ``sync.disconnected``; a session taken over (said, or inferred
        from repeated losses: ``edgescreen_wire.disconnects``) is an error, and backs off as a failure:
        the other holder of this device's certificate would otherwise take it back at once."""
        lost = reason.is_failure or flags.is_disconnect_packet_from_server  # not our own DISCONNECT
        if lost and self._connack is None and self._settings.tls_ca_file:
            self._failure = TLS_REFUSED  # closed before its CONNACK: the broker's refusal of the certificate
        if lost and self._connack and self._losses.taken_over(reason, time.monotonic()):
            self._taken_over = True
            because = reason_with_code(reason)
            self._problem = f"session taken over ({because}): another client has this device's certificate"
            log_event("sync.session_taken_over", level=logging.ERROR, reason=because)
        self._connack = False
        self._problem = self._problem or f"disconnected: {reason_with_code(reason)}"

    def _on_subscribe(self, client: mqtt.Client, userdata: Any, mid: int, reasons: Any, properties: Any) -> None:
        self._subscribed = True

    def _on_publish(self, client: mqtt.Client, userdata: Any, mid: int, reason: Any, properties: Any) -> None:
        if mid in self._erasures_inflight:
            self._on_erasure_published(self._erasures_inflight.pop(mid), reason)
            return
        self._acks_owed.discard(mid)
        seq = self._inflight.pop(mid, None)
        if seq is None:
            return  # a status or review_ack message
        if reason.is_failure:
            self._problem, self._refused = f"the broker refused result row {seq}: {reason}", denies_this_device(reason)
            self._failure = NOT_AUTHORISED if self._refused else ""
            self._results_refused |= self._refused
            log_event("sync.publish_refused", level=logging.ERROR, seq=seq, reason=reason)
            return
        self._remember(self._acked, seq)
        if self._results_refused or self._last_problem:  # history now: said at once, not at the next connection
            # So is a refusal on this connection (answers read together, the ACL reloaded between): the
            # broker takes this device's results, so no cause, and the connection, which still ends to
            # publish the refused one again, ends as a network fault's does, without a refusal's backoff.
            self._results_refused, self._refused, self._failure, self._last_problem = False, False, "", ""
            self._record_connected()

    def _on_erasure_published(self, seq: int, reason: Any) -> None:
        """A refused request stays queued (``sync status`` counts it) and is tried again after a backoff
        (``ERASURE_RETRY_INITIAL_S``) on this connection, and at the next. The connection goes on: a site
        broker whose ACL predates the ``erasure`` topic refuses the request, not the device, whose
        results must still reach the specialists at once, not after backoffs growing to minutes under a
        "refused" state that sends a technician to the device's certificate. A refusal that passes with
        time ("Quota exceeded": ``denies_this_device`` false) is no ACL's: it ends the connection, tried
        again as a network fault is, where counted refused it ended ``--until-drained`` while the
        request could still be sent."""
        if reason.is_failure:
            log_event("sync.erasure_refused", level=logging.ERROR, seq=seq, reason=reason)
            if denies_this_device(reason):
                self._erasures_refused.add(seq)
                self._retry_refused_erasures_later()
            else:
                self._problem = f"the broker refused erasure request {seq}: {reason}"
            return
        self._erasures_refused.discard(seq)  # taken when tried again: ``_commit_erasures`` lowers the count
        self._erasures_acked.append(seq)

    def _retry_refused_erasures_later(self) -> None:
        """Set when the refused requests are published again, once for all the refusals of a round:
        the requests refused together are tried again together, in one round of the backoff."""
        if self._erasure_retry_at is None:
            delay = backoff_delay(self._erasure_retries, ERASURE_RETRY_INITIAL_S, ERASURE_RETRY_MAX_S, self._rng)
            self._erasure_retry_at = time.monotonic() + delay
            self._erasure_retries += 1

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        """The one guard around a message: whatever goes wrong with it is logged and the message is
        acknowledged, except the records' own passing trouble, when it is kept at the broker for later.

        Damaged records are no passing trouble: a verdict they refuse is acknowledged like a refused
        message. Kept, it came back first on every connection and ended it at once, so the worker
        reconnected for ever, publishing its in-flight results again each time. It is not lost: it
        was never answered on ``review_ack``, so the station sends it again until the device stores
        it (records restored from a backup onto a new card). The station's notice of the results it
        erased (``erased``) goes through the same guard: retained, it comes again at each connection."""
        erased = message.topic == self._topic[ERASED]
        kind = "erased_notice" if erased else "review"
        try:
            (self._handle_erased if erased else self._handle_review)(client, message)
        except RECORDS_TROUBLE as error:
            problem = self._described(error)
            log_event(f"sync.{kind}_not_stored", level=logging.ERROR, topic=message.topic, error=problem)
            if not isinstance(problem, RecordsDamaged):
                if not isinstance(error, KeyUnavailable):  # a passing trouble: reconnect to have it again soon
                    self._problem = f"a {kind.replace('_', ' ')} could not be stored: {error}"
                return  # not acknowledged: the broker delivers it again on the next connection
        except Exception as error:  # one message must never stop delivery
            # The error's type only: its text could quote the message, and a comment may name a patient.
            log_event(f"sync.{kind}_failed", level=logging.ERROR, topic=message.topic, error=type(error).__name__)
        client.ack(message.mid, message.qos)

    def _handle_review(self, client: mqtt.Client, message: mqtt.MQTTMessage) -> None:
        try:
            review = parse_review(message.payload, self._trusted)
            with self._writing():  # the records refuse findings not of the result's modality (``WireError``)
                status = self._store.add_review(review)
        except NotSignedByStation as refused:
            # Not stored, not acknowledged: a forgery must never read as a verdict the device holds, and
            # the station's own, which it sends until answered, is stored when it comes.
            log_event(
                "sync.review_not_signed",
                level=logging.WARNING,
                topic=message.topic,
                review_id=refused.review_id,
                result_id=refused.result_id,
                reason=refused.reason,
            )
            return
        except WireError as error:
            # The field only: the refused value could be a patient's name put where an id belongs. The
            # review id only when well formed (an identifier), so the station's copy can be found.
            named = {"review_id": error.document_id} if error.document_id else {}
            log_event("sync.review_rejected", level=logging.WARNING, topic=message.topic, field=error.field, **named)
            return
        log_event("sync.review", review_id=review.review_id, result_id=review.result_id, status=status)
        self._acks_owed.add(client.publish(self._topic[REVIEW_ACK], review_ack(review, status), qos=1).mid)

    def _handle_erased(self, client: mqtt.Client, message: mqtt.MQTTMessage) -> None:
        with self._writing():
            take_erased_notice(message.payload, self._client_id, self._trusted, self._store)

    # the connection

    def _new_client(self) -> mqtt.Client:
        settings = self._settings
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=self._client_id,
            protocol=mqtt.MQTTv5,
            manual_ack=True,
        )
        client.on_connect, client.on_disconnect = self._on_connect, self._on_disconnect
        client.on_publish, client.on_message = self._on_publish, self._on_message
        client.on_subscribe = self._on_subscribe
        client.max_inflight_messages_set(settings.inflight_window)
        client.connect_timeout = settings.connect_timeout_s
        client.will_set(self._topic[STATUS], "offline", qos=1, retain=True)
        if settings.tls_ca_file:
            client.tls_set_context(client_context(settings))
        return client

    def _remember(self, rows: list[int], seq: int) -> None:
        """Keep a row published or acknowledged until the next batch records it."""
        if not self._acked and not self._published:
            self._first_unrecorded_at = time.monotonic()
        rows.append(seq)

    def _commit_acks(self, force: bool) -> None:
        now = time.monotonic()
        unrecorded = max(len(self._acked), len(self._published))
        due = unrecorded >= ACK_COMMIT_ROWS or now - self._first_unrecorded_at >= ACK_COMMIT_SECONDS
        if not unrecorded or not (force or due) or now < self._commit_retry_at:
            return
        try:
            try:
                with self._writing():
                    self._outbox.mark_sent(self._acked, published=self._published)
            except RECORDS_TROUBLE as error:
                if not isinstance(self._described(error), RecordsDamaged):
                    raise
                self._commit_apart()
        except RECORDS_TROUBLE as error:
            log_event(
                "sync.not_marked_sent", level=logging.ERROR, results=len(self._acked), error=self._described(error)
            )
            self._commit_retry_at = now + RECORDS_RETRY_SECONDS
            return
        finally:
            self._name_unmarked()
        self._forget(self._acked)
        self._acked, self._published = [], []
        if self._connected_unrecorded:
            self._record_connected()

    def _forget(self, seqs: list[int]) -> None:
        for seq in seqs:
            self._result_of.pop(seq, None)

    def _commit_apart(self) -> None:
        """A batch a damaged page refused, marked row by row: a row whose screening is on the page
        is marked sent in the outbox alone (the broker has it), its result id logged once and named
        in the status for the technician. Without this the batch never commits, and the rows are
        published again at each connection. Raises what the outbox's own writing meets.

        Each row leaves the batch as its own transaction commits: another trouble part way (a full
        disk, another writer holding the lock) leaves the retry only the rows not yet marked: given
        the whole batch again, it would mark the others a second time (their sent time moved)."""
        with self._writing():
            self._outbox.mark_sent([], published=self._published)
        self._published = []
        while self._acked:
            seq = self._acked[0]
            try:
                with self._writing():
                    self._outbox.mark_sent([seq])
            except RECORDS_TROUBLE as error:
                if not isinstance(self._described(error), RecordsDamaged):
                    raise
                with self._writing():
                    self._outbox.mark_sent([seq], screenings=False)
                result_id = self._result_of.get(seq, f"outbox row {seq}")
                log_event("sync.screening_unreadable", level=logging.ERROR, result_id=result_id, seq=seq)
                self._unmarked.append(result_id)
            del self._acked[0]
            self._forget([seq])

    def _name_unmarked(self) -> None:
        """Name the rows set apart in the status once it can be written: a pass that set one apart
        and then met a lock or a full disk cannot write it then, and a retry that marks the rest as
        one batch sets none apart itself."""
        if len(self._unmarked) > self._named_unmarked and self._set_connection(DAMAGED, self._damaged_detail()):
            self._named_unmarked = len(self._unmarked)

    def _damaged_detail(self) -> str:
        broker = f"{self._settings.broker_host}:{self._settings.broker_port}"
        shown = ", ".join(self._unmarked[:10]) + (
            f" and {len(self._unmarked) - 10} more" if len(self._unmarked) > 10 else ""
        )
        return (
            f"{broker}; delivered, but their screenings are on damaged pages and could not be marked sent: "
            f"{shown}. Keep a copy of the records file, then restore the last backup onto a new card"
        )

    def _next_rows(self) -> list[OutboxRow]:
        """The next rows to publish, passing over those the broker acknowledged that are not marked
        sent yet (a full disk): a verdict that cannot be stored reconnects every second or so, and
        each connection would otherwise publish them all again and add them to ``_acked`` again."""
        acked = set(self._acked)
        while rows := self._claim_next():
            self._cursor = rows[-1].seq
            unacknowledged = [row for row in rows if row.seq not in acked]
            if unacknowledged:
                return unacknowledged
        return []

    def _claim_next(self) -> list[OutboxRow]:
        """Claim the next rows; when the records cannot be written (a full disk), read them unclaimed:
        sending needs no space, and no erasure can run on that disk meanwhile either."""
        try:
            with self._writing():
                return self._outbox.claim(self._cursor, CLAIM_ROWS)
        except RECORDS_TROUBLE as error:
            log_event("sync.rows_not_claimed", level=logging.WARNING, error=self._described(error))
            return self._outbox.pending(self._cursor, CLAIM_ROWS)

    def _fill_window(self, client: mqtt.Client) -> None:
        while len(self._inflight) < self._settings.inflight_window:
            if not self._claimed:
                self._claimed.extend(self._next_rows())
                if not self._claimed:
                    return
            row = self._claimed[0]
            if self._withheld(row):
                self._claimed.popleft()
                self._cursor = row.seq
                continue
            info = client.publish(self._topic[RESULT], row.payload, qos=1)
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                return  # the connection is going; the next one starts again from the oldest unsent row
            self._claimed.popleft()
            self._inflight[info.mid] = row.seq
            self._remember(self._published, row.seq)
            self._result_of[row.seq] = row.result_id
            self._cursor = row.seq

    def _send_erasures(self, client: mqtt.Client) -> None:
        """Publish the station's erasure requests queued since the last look (QoS 1, on this device's
        ``erasure`` topic), once a ``SWEEP_SECONDS``: an erasure is queued by another process (the
        command line, the nurse's app), and a second is soon enough for it. Once the refused requests'
        backoff is over (``_retry_refused_erasures_later``), from the first again: those still queued and
        not in flight are the refused ones, and new ones not sent yet."""
        now = time.monotonic()
        if now < self._next_erasure_check:
            return
        self._next_erasure_check = now + SWEEP_SECONDS
        if self._erasure_retry_at is not None and now >= self._erasure_retry_at:
            self._erasure_retry_at, self._erasure_cursor = None, 0
        in_flight = set(self._erasures_inflight.values())
        rows = self._outbox.pending_erasures(self._erasure_cursor, CLAIM_ROWS)
        faults = self._outbox.erasure_faults([row for row in rows if row.seq not in self._erasures_withheld])
        for row in rows:
            if (
                row.seq not in self._erasures_acked
                and row.seq not in in_flight
                and not self._erasure_withheld(row, faults.get(row.seq))
            ):
                info = client.publish(self._topic[ERASURE], row.payload, qos=1)
                if info.rc != mqtt.MQTT_ERR_SUCCESS:
                    return  # the connection is going; the next one starts again from the first
                self._erasures_inflight[info.mid] = row.seq
                log_event("sync.erasure_published", seq=row.seq)
            self._erasure_cursor = row.seq

    def _erasure_withheld(self, row: ErasureRow, fault: WireError | None) -> bool:
        """Whether a queued request was altered on the card (``fault``: ``Outbox.erasure_faults``): kept,
        counted apart by ``sync status`` and ``doctor``, logged once and never published. One the broker
        refused before (found altered on the retry) is no longer counted refused: it kept the count of
        refusals above none after the broker took the rest, for the connection's life."""
        if row.seq in self._erasures_withheld:
            return True
        if fault is None:
            return False
        log_event("sync.erasure_withheld", level=logging.ERROR, seq=row.seq, field=fault.field)
        self._erasures_withheld.add(row.seq)
        self._erasures_refused.discard(row.seq)
        return True

    def _commit_erasures(self) -> None:
        """Delete the requests the broker acknowledged; on a full disk they wait for the next try."""
        taken = False
        while self._erasures_acked:
            try:
                with self._writing():
                    self._outbox.erasure_delivered(self._erasures_acked[0])
            except RECORDS_TROUBLE as error:
                log_event("sync.erasure_not_marked", level=logging.ERROR, error=self._described(error))
                return
            del self._erasures_acked[0]
            taken = True
        self._note_erasures_refused(taken)

    def _note_erasures_refused(self, taken: bool) -> None:
        """Record how many queued requests the broker refuses on this connection, for ``sync status``
        and the doctor's backlog line: refused by an ACL older than the ``erasure`` topic, they wait for
        a technician to install this release's broker/acl, not for the network. Raised as refusals come;
        lowered only once the broker took a request (``taken``): each connection counts its refusals
        anew, and its count of none at the start would say "the network" again until they came back."""
        refused = len(self._erasures_refused)
        if refused == self._erasures_refused_noted or (refused < self._erasures_refused_noted and not taken):
            return
        try:
            with self._writing():
                self._outbox.note_erasures_refused(refused)
        except RECORDS_TROUBLE as error:  # advice, as ``_set_connection``'s: tried again at the next change
            log_event(
                "sync.state_not_recorded", level=logging.WARNING, state="erasures refused", error=self._described(error)
            )
            return
        self._erasures_refused_noted = refused

    def _withheld(self, row: OutboxRow) -> bool:
        """Whether a row fails ``check_queued``: it is then logged once and withheld for good
        (``_withhold``), the one record of it that ``sync status``, the nurse's top bar and Today read."""
        if row.seq in self._to_withhold:  # failed already; the records refused to mark it
            return True
        try:
            check_queued(row.payload, row.result_id, row.bound_digest)
        except WireError as error:
            log_event("sync.payload_withheld", level=logging.ERROR, result_id=row.result_id, error=error)
            self._withhold(row, str(error))
            return True
        return False

    def _withhold(self, row: OutboxRow, problem: str) -> None:
        """Mark a row withheld (``Outbox.withhold``); one the records refuse (a full disk) is kept for
        the hourly maintenance to try again. Checked and logged again at each round instead, it wrote
        the same error every two seconds offline (some 43,000 lines a day), to that full disk."""
        try:
            with self._writing():
                self._outbox.withhold(row, problem)
        except RECORDS_TROUBLE:
            self._to_withhold[row.seq] = (row, problem)
        else:
            self._to_withhold.pop(row.seq, None)

    def _sweep(self, until: float) -> None:
        """Check the next batch of unsent rows as publishing would, withholding those that fail. Offline
        for days on a campaign, the worker never came to publish a payload altered on the card, and
        ``sync status`` and the top bar counted it as waiting to send while Today said it never would
        be. A batch at a time, round and round the queue: the cost per second is one batch's, however
        long the backlog, and a row altered after it was checked is caught on the next round. Records
        found damaged stop the sweep until the next connection (``_damaged``): it logged them each second.

        The batch stops once the wait is over (``until``, ``time.monotonic()``), the rest left to the
        next sweep: each withholding may wait a busy timeout for another connection's write lock, and a
        batch of them went on one busy timeout a row past the end of the wait, the next connection
        with it (``_wait_sweeping``)."""
        try:
            rows = self._outbox.pending(self._sweep_cursor, CLAIM_ROWS)
        except RECORDS_TROUBLE as error:
            problem = self._described(error)
            self._damaged = isinstance(problem, RecordsDamaged)
            log_event("sync.records_trouble", level=logging.ERROR, error=problem)
            return
        if not rows:
            self._sweep_cursor = 0
        for row in rows:
            self._withheld(row)
            self._sweep_cursor = row.seq
            if time.monotonic() >= until:
                return

    def _wait_sweeping(self, delay: float) -> None:
        """The backoff's wait between connections, checking the queue meanwhile (``_sweep``) a batch
        every ``SWEEP_SECONDS`` unless the records are damaged; connected, the queue is checked as it is
        published. It promises its heartbeat the wait: a withholding's wait for another connection's
        write lock is not counted (``_writing``), and the sweep starts none after the end."""
        self.heartbeat.beat(delay)
        end = time.monotonic() + delay
        while not self._stop.is_set() and (left := end - time.monotonic()) > 0:
            if not self._damaged and time.monotonic() >= self._next_sweep:
                self._sweep(end)
                self._next_sweep = time.monotonic() + SWEEP_SECONDS
            self._stop.wait(left if self._damaged else min(left, self._next_sweep - time.monotonic()))

    def _drained(self) -> bool:
        """Nothing left that this connection can send: every result acknowledged, every erasure request
        but those withheld as altered (not waiting: ``Backlog.waiting_erasures``) and those the broker
        refused (counted in ``erasures_refused``: an ACL older than the ``erasure`` topic refuses them at
        every connection, and ``sync run --until-drained`` waited on them for ever), and the
        acknowledgement of each verdict stored taken by the broker (``_acks_owed``): ended before, the
        command left them unsent, and the station sent those verdicts again at the next connection as
        duplicates. A broker that never answers is given up at the keepalive, as for a result in flight.
        Not before the broker answered the subscription: the verdicts it held for the device come before
        that answer, and ended at the connection the command took none of them. The queue is read once,
        whole: its first ``CLAIM_ROWS`` rows all withheld ended the drain before a request queued after
        them was sent."""
        unrecorded = self._acked or self._published or self._erasures_acked
        owed = self._acks_owed or not self._subscribed
        if self._inflight or self._erasures_inflight or owed or unrecorded or self._claimed:
            return False
        backlog = self._outbox.backlog()
        if backlog.unsent or not set(backlog.waiting_erasures) <= self._erasures_refused:
            return False
        self.erasures_refused = backlog.erasure_requests
        return True

    def _cause(self) -> str:
        """The cause the records keep for ``sync status`` and doctor (``LAST_FAILURE``): this connection's,
        else a refusal of this device's results (``NOT_AUTHORISED``) that no result the broker took has
        answered since. A connection made shows the broker takes this device, not its results: cleared
        at each CONNACK, a refusal of every result (another device's certificate, an ACL without it) read
        as no failure, doctor green, between each reconnection and the next refusal. A connection with
        nothing to publish leaves it standing: a refused result stays queued and is published first at
        each connection, so none queued means it left otherwise (erased, dropped, withheld), which says
        nothing of the broker's ACL; the next screening's result does. A refused CONNACK is answered by
        the next one; a previous worker's refusal is taken as of its results (``run``): the shipped broker
        knows a device by its certificate and refuses it at publication, by its ACL. A result taken after
        one refused on this connection answers that refusal too (``_on_publish``), where "connected" stood
        beside "not authorised", doctor's remedy sending the technician to a certificate and an ACL that
        were right."""
        return self._failure or (NOT_AUTHORISED if self._results_refused else "")

    def _record_connected(self) -> None:
        """The state of a connection made, for ``sync status``: ``refused`` while a refusal of this
        device's results stands (``_cause``), the broker having taken none since. Records that refuse it
        (another process holding their lock, a full disk) are given it again with the next batch they
        take (``_commit_acks``), and by the loop every ``RECORDS_RETRY_SECONDS`` (``_record_connected_when_due``):
        a refusal the broker answered by taking a result is history in memory at once (``_on_publish``),
        and the records said "refused", not authorised, for the rest of that connection, days on a steady
        network; a connection with nothing to send, whose state they refused as it was made, takes no
        batch, and they kept the previous connection's state for its life."""
        broker = f"{self._settings.broker_host}:{self._settings.broker_port}"
        if self._unmarked:
            recorded = self._set_connection(DAMAGED, self._damaged_detail(), failure=self._cause())
        else:
            recorded = self._set_connection(
                REFUSED if self._results_refused else "connected",
                f"{broker}; last problem: {self._last_problem}" if self._last_problem else broker,
                failure=self._cause(),
            )
        self._connected_unrecorded = not recorded
        self._connected_retry_at = time.monotonic() + RECORDS_RETRY_SECONDS

    def _record_connected_when_due(self) -> None:
        """The connection's state the records refused, given again once ``RECORDS_RETRY_SECONDS`` have
        passed: each refusal by their lock held the loop a busy timeout."""
        if self._connected_unrecorded and time.monotonic() >= self._connected_retry_at:
            self._record_connected()

    def _on_connected(self, client: mqtt.Client) -> None:
        client.subscribe([(self._topic[REVIEW], 1), (self._topic[ERASED], 1)])
        backlog = self._outbox.backlog()
        self._record_connected()
        # Said "online" once this device's own state has the connection: a station (or a test) that sees it
        # and then finds the worker killed read "while connecting" in its last crash.
        client.publish(self._topic[STATUS], "online", qos=1, retain=True)
        log_event(
            "sync.connected",
            broker=f"{self._settings.broker_host}:{self._settings.broker_port}",
            backlog=backlog.unsent,
        )

    def _say_goodbye(self, client: mqtt.Client) -> None:
        """A clean exit: mark this device offline ourselves (a clean disconnect sends no last will), and
        give the broker the verdicts' acknowledgements still owed (``_acks_owed``), within the same bound.
        Verdicts that come meanwhile are left unacknowledged at the broker for the next connection: stored
        now, their acknowledgement would be owed after the goodbye, and lost with the client (the station
        then sends them again, as duplicates)."""
        client.on_message = None  # with ``manual_ack``, a message nobody handles is not acknowledged
        info = client.publish(self._topic[STATUS], "offline", qos=1, retain=True)
        deadline = time.monotonic() + 2.0
        while (
            (not info.is_published() or self._acks_owed)
            and time.monotonic() < deadline
            and client.loop(timeout=LOOP_SECONDS) == 0
        ):
            pass
        client.disconnect()

    def _serve_connection(self, until_drained: bool) -> tuple[bool, bool]:
        """One connection from connect to loss; returns (it was established, the work is done)."""
        self._reset_connection_state()
        try:
            client = self._new_client()
        except TlsUnusable as error:  # files changed since the start, perhaps mid-renewal: retried
            self._problem = f"TLS: {error}"
            return False, False
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = self._settings.session_expiry_s
        # The broker must not send anything larger than a verdict: paho reads a packet whole into
        # memory before any check (a 60 MB one took 280 MB), and has no limit of its own.
        properties.MaximumPacketSize = MAX_INCOMING_PACKET
        try:
            client.connect(
                self._settings.broker_host,
                self._settings.broker_port,
                keepalive=self._settings.keepalive_s,
                clean_start=False,
                properties=properties,
            )
        except (OSError, ValueError) as error:
            self._problem = f"cannot reach {self._settings.broker_host}:{self._settings.broker_port}: {error}"
            self._failure = cause_of(error, tls=bool(self._settings.tls_ca_file))
            return False, False
        deadline, established = time.monotonic() + self._settings.connect_timeout_s, False
        try:
            while not self._stop.is_set():
                self.heartbeat.beat(self._settings.connect_timeout_s)
                # Waits on the socket, results in flight or not: a PUBACK wakes it at once, and a broker gone
                # silent mid-drain (Wi-Fi dropped) was polled without a pause, a core busy until the keepalive.
                if client.loop(timeout=LOOP_SECONDS) != mqtt.MQTT_ERR_SUCCESS:
                    return established, False
                if self._connack is None:
                    if time.monotonic() > deadline:
                        self._problem, self._failure = "the broker did not answer the connection in time", TIMED_OUT
                        return established, False
                    continue
                if not self._connack or self._problem:
                    return established, False
                if not established:
                    established = True
                    self._on_connected(client)
                self._commit_acks(force=False)
                self._share_records_when_room()
                self._record_connected_when_due()
                self._commit_erasures()
                self._send_erasures(client)
                self._fill_window(client)
                if until_drained and self._drained():
                    self._say_goodbye(client)
                    return True, True
                self._maintain_when_due()
            if established:
                self._commit_acks(force=True)
                self._say_goodbye(client)
            return established, True
        except RECORDS_TROUBLE as error:
            self._problem = str(self._described(error))
            self._damaged = isinstance(self._described(error), RecordsDamaged)
            log_event("sync.records_trouble", level=logging.ERROR, error=self._described(error))
            return established, False
        finally:
            self._end_connection(client, established)

    def _end_connection(self, client: mqtt.Client, established: bool) -> None:
        """Commit what the broker acknowledged and give back what was never published; on a full
        disk neither can be written, which only means those results are sent again later."""
        self._connected_unrecorded = False  # over: ``run`` records how it ended, not "connected" before that
        self._commit_acks(force=True)
        self._commit_erasures()
        try:
            with self._writing():
                self._outbox.release([row.seq for row in self._claimed])
        except RECORDS_TROUBLE as error:
            log_event("sync.records_trouble", level=logging.ERROR, error=self._described(error))
        if not established or self._problem:
            client.disconnect()

    def _share_records_when_room(self) -> None:
        """Records opened alone on a full disk (``open_database``) are given back to the nurse's app
        and the commands as soon as there is room: until then none of them can open them. A refusal
        (the log too large to fold into the room there is) is tried again every ``RECORDS_RETRY_SECONDS``."""
        if time.monotonic() < self._share_retry_at:
            return
        try:
            if self._store.records.share_when_room():
                log_event("sync.records_shared", path=self._store.records.path)
        except RECORDS_TROUBLE as error:
            log_event("sync.records_not_shared", level=logging.WARNING, error=self._described(error))
            self._share_retry_at = time.monotonic() + RECORDS_RETRY_SECONDS

    def _maintain_when_due(self) -> None:
        """The hourly maintenance, whether the broker answers or not: a device on a campaign, its site
        server out of reach for days, must still delete the photos past their retention, or its card
        fills with photos it was free to delete. It tries again the withholdings the records refused
        (``_withhold``): a full disk may have room by then."""
        if time.monotonic() >= self._next_maintenance:
            for row, problem in list(self._to_withhold.values()):
                self._withhold(row, problem)
            self._maintain_or_log()
            self._next_maintenance = time.monotonic() + MAINTENANCE_SECONDS

    def _maintain_or_log(self) -> None:
        """Maintenance the records refuse (a damaged page under the purge's scan) is logged and tried
        again in an hour; it must not end the connection: the acknowledgements of the rows just
        published would be lost with it, and each connection would publish them again."""
        try:
            self.maintain()
        except RECORDS_TROUBLE as error:
            log_event("sync.maintenance_failed", level=logging.ERROR, error=self._described(error))

    def maintain(self) -> None:
        """Hourly: delete images past their retention, and report the backlog. Pages an erasure left in
        the WAL under a reader (``erased_pages``) leave it here at the latest, on a device nobody
        screens with after that erasure."""
        with self._writing(2):  # the deletion, then its checkpoint
            purged = self._store.purge_images(self._retention)
        with self._writing():
            pay_checkpoint(self._store.records, wait=True)
        backlog = self._outbox.backlog()
        oldest = backlog.oldest_unsent.isoformat() if backlog.oldest_unsent else "none"
        log_event("sync.backlog", unsent=backlog.unsent, oldest_unsent=oldest, images_purged=purged)

    def _set_connection(self, state: str, detail: str = "", failure: str | None = None) -> bool:
        """The state ``sync status`` shows is advice: a full disk must not stop delivery for it.
        ``False`` when it could not be recorded."""
        try:
            with self._writing():
                self._outbox.set_connection(state, detail, failure)
        except RECORDS_TROUBLE as error:
            log_event("sync.state_not_recorded", level=logging.WARNING, state=state, error=self._described(error))
            return False
        return True

    def _note_start(self) -> int:
        """``Outbox.note_start``; a start the records refuse (a full disk) is logged and the worker
        sends all the same: the crashes before it go uncounted, which costs ``sync status`` a line."""
        try:
            return self._outbox.note_start()
        except RECORDS_TROUBLE as error:
            log_event("sync.state_not_recorded", level=logging.WARNING, state="starting", error=self._described(error))
            return 0

    def run(self, until_drained: bool = False) -> None:
        """Serve until stopped (or, with ``until_drained``, until every queued result is acknowledged)."""
        crashes = self._note_start()
        if crashes:
            log_event("sync.restarted_after_crash", level=logging.WARNING, crashes=crashes)
        kept = self._outbox.state()
        # A previous worker's refusals (the ACL mended since, or not): counted from none, the broker
        # taking the requests changed nothing, and the records kept its count for the next request.
        self._erasures_refused_noted = int(kept.get(ERASURES_REFUSED, "0"))
        self._results_refused = kept.get(LAST_FAILURE) == NOT_AUTHORISED  # standing until a result is taken: ``_cause``
        attempt, crash, refused, damaged = 0, None, False, False
        try:
            while not self._stop.is_set():
                self.heartbeat.beat(self._settings.connect_timeout_s)
                if not refused and not damaged:  # the status keeps saying so while the worker tries again
                    self._set_connection("connecting", f"{self._settings.broker_host}:{self._settings.broker_port}")
                established, done = self._serve_connection(until_drained)
                if done:
                    return
                self._share_records_when_room()
                self._maintain_when_due()
                # A refusal keeps backing off although each connection is accepted: the certificate
                # or the broker's ACL must change first, and retrying at once floods its log.
                # So do damaged records where the worker reads or writes: only a technician mends them.
                refused, damaged = self._refused, self._damaged
                attempt = 0 if established and not refused and not damaged and not self._taken_over else attempt + 1
                delay = backoff_delay(
                    attempt, self._settings.backoff_initial_s, self._settings.backoff_max_s, self._rng
                )
                self._last_problem = self._problem
                state = REFUSED if refused else DAMAGED if damaged else "disconnected"
                self._set_connection(state, self._problem, self._cause())
                log_event(
                    "sync.disconnected",
                    level=logging.WARNING,
                    problem=self._problem,
                    attempt=attempt,
                    retry_in_s=round(delay, 2),
                )
                self._wait_sweeping(delay)
        except BaseException as error:
            crash = f"{type(error).__name__}: {error}"[:300]
            raise
        finally:
            try:
                self._outbox.mark_stopped(crash)
            except RECORDS_TROUBLE as error:
                log_event(
                    "sync.state_not_recorded", level=logging.WARNING, state="stopped", error=self._described(error)
                )
