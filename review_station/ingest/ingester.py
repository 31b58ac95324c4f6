"""The MQTT ingester: results in (exactly once in effect), verdicts out (until the device acks them).

- MQTT 5, a persistent session (``clean_start`` false, a session expiry), QoS 1, and the results read
  through a plain subscription, which the broker keeps across its restarts: several ingesters each
  receive every result, and the database stores each once.
- Acknowledgement is manual: a message's PUBACK goes to the broker only after the transaction that
  stored it (or quarantined it) has committed. A crash, a SIGKILL or a database outage before that
  leaves it with the broker, which delivers it again; ``store_batch`` skips results already stored.
- Batches: up to ``batch_size`` messages or ``BATCH_SECONDS`` per transaction, one multi-row insert.
  One batch is committed on a committer thread while the MQTT thread receives the next, so the
  network and the database work at the same time; the MQTT thread acknowledges a batch once its
  commit is done (paho's client stays on one thread), and a failed one is tried again, unacknowledged.
- Flow control: the CONNECT's Receive Maximum (two batches) caps the messages the broker hands over
  unacknowledged, so a flood of junk or a stalled database cannot grow this process's memory.
- Verdicts (``deliveries`` rows written by the web app) are published QoS 1 and published again every
  ``review_retry_s`` until the device's ``review_ack`` settles them (a ``conflict`` queues the verdict
  again under a new review id). Several ingesters may run: a delivery is claimed by a conditional
  UPDATE, so only one of them sends each attempt.
- A verdict for a device that asks for signed verdicts (its latest result's ``review_schema``,
  ``devices.review_schema``: ``edgescreen.review/3``) is signed as it is sent, with the station's
  verdict key (``edgescreen_wire.verdict_signature``): the queued ``/1`` or ``/2`` document stays as
  it was decided, so a verdict sent again (a retry, a resend after a restore, a new review id after a
  ``conflict``) is signed again, with the key in use then, and one on a result sent before the device
  was given the key is signed too. Without the key it is not sent, and logged: the device would
  refuse it unsigned.
- The station's notice to a device of the results it erased (``edgescreen.erased/1``,
  ``review_station.erased_notices``) is signed with the same key, published retained at QoS 1 whenever
  one is due (an erasure of one of the device's results), and marked taken on the broker's PUBACK; a
  device restored from a backup, or away, finds it at its next connection. Without the key, with
  more ids than a notice carries, refused by the broker or not published, it is not sent, logged once
  a connection, and why is kept with it for the dashboard (``erased_notices.not_sent``).

- A heartbeat thread keeps this ingester's row in ``ingesters`` (``review_station.heartbeats``): the
  pages say when no ingester runs, as verdicts and notices then wait for it, not for the broker.

The MQTT thread runs the client (``client.loop`` is called here) and the verdicts; only the batch
commits run on the committer thread, one at a time, and the MQTT thread alone touches the client.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from sqlalchemy import Connection, Engine, and_, func, not_, or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from edgescreen_wire.checks import WireError
from edgescreen_wire.disconnects import REPEATED_LOSSES, WINDOW_S, LossWatch, reason_with_code
from edgescreen_wire.erased import encode_erased_notice
from edgescreen_wire.review import REVIEW_V3, parse_review_document
from edgescreen_wire.topics import ANY, ERASED, ERASURE, RESULT, REVIEW_ACK, STATUS, device_topic
from edgescreen_wire.verdict_signature import read_private_key, sign_review
from firmware_app.events import log_event
from firmware_app.sync.retry import backoff_delay
from review_station.config import BrokerConfig
from review_station.devices import active_sites
from review_station.erased_notices import DueNotice, due_notices, not_sent, noticed
from review_station.heartbeats import HEARTBEAT_SECONDS, Instance, beat, stopped
from review_station.ingest.batch import OFFLINE, BatchOutcome, Incoming, store_batch
from review_station.ingest.broker_drops import DROPPED_TOPIC, LIVE_TOPIC, parse_counter, record_counter
from review_station.ingest.identity import check_client_id
from review_station.ingest.lost_sessions import record_connection
from review_station.ingest.release import release
from review_station.ingest.takeovers import record_takeover
from review_station.storage.tables import deliveries, devices, results
from review_station.verdicts import UNSETTLED_DELIVERY, set_aside
from review_station.words import unsent_why

LOOP_SECONDS = 0.05
BATCH_SECONDS = 0.05
REGISTRY_SECONDS = 1.0
DELIVERY_SECONDS = 0.5
COUNTER_SECONDS = 30.0  # mosquitto publishes its uptime every sys_interval (10 s)


def subscriptions() -> list[tuple[str, int]]:
    """Every ingester reads every result, ack and erasure request on a plain subscription of its persistent session, and
    stores each result once (``store_batch`` skips a stored ``result_id``): mosquitto (2.0.11) keeps a
    session's plain subscriptions across a restart but not its shared ones (``$share/...``), and a
    result published after a restart to a topic no subscription matches is dropped, though the device
    has its PUBACK. Retained status goes to each ingester too, and so do the broker's count of dropped
    messages and its uptime, which shows $SYS is readable when the count is silent (QoS 0, as mosquitto
    publishes $SYS: nothing of it queues while the ingester is away)."""
    return [
        (device_topic(ANY, ANY, RESULT), 1),
        (device_topic(ANY, ANY, REVIEW_ACK), 1),
        (device_topic(ANY, ANY, ERASURE), 1),
        (device_topic(ANY, ANY, STATUS), 1),
        (DROPPED_TOPIC, 0),
        (LIVE_TOPIC, 0),
    ]


def verdict_signer(path: Path) -> Ed25519PrivateKey | None:
    """The station's verdict key (``[verdicts] private_key_file``), or ``None`` when there is none yet:
    devices that do not ask for signed verdicts are served without it. A key that is there but cannot
    be used (its mode, its type) raises ``VerdictKeyError``: the ingester must not start on it."""
    if not path.exists():
        log_event("review.verdict_key_missing", level=logging.WARNING, path=path)
        return None
    return read_private_key(path)


def shared_subscriptions(group: str) -> list[str]:
    """What an ingester before 2026-12-03 subscribed to in ``group``: unsubscribed at each connection,
    so an upgraded ingester's session holds only its plain subscriptions (while mosquitto has not
    restarted, it still keeps them, and they would bring some results twice)."""
    return [f"$share/{group}/{device_topic(ANY, ANY, leaf)}" for leaf in (RESULT, REVIEW_ACK)]


class Ingester:
    def __init__(
        self,
        engine: Engine,
        settings: BrokerConfig,
        stop: threading.Event | None = None,
        signer: Ed25519PrivateKey | None = None,
    ) -> None:
        check_client_id(settings)  # a ConfigError before any connection
        self._engine, self._settings, self._signer = engine, settings, signer
        self._stop = stop or threading.Event()
        self._rng = random.Random()
        self._pending: list[Incoming] = []
        self._first_pending_at = 0.0
        self._registry: dict[str, str] = {}
        self._registry_at = float("-inf")
        self._database_retry_at = 0.0
        self._database_failures = 0
        self._next_delivery_at = 0.0
        self._published: dict[int, str] = {}  # paho message id -> review id
        self._notices_published: dict[int, DueNotice] = {}  # paho message id -> erasure notice
        self._notices_withheld: set[str] = set()  # devices whose notice is not sent on this connection
        self._committer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="review-commit")
        self._committing: tuple[list[Incoming], Future[BatchOutcome]] | None = None
        self._received = 0
        # When a $SYS message (the uptime, every sys_interval) must have come once subscribed.
        self._counter_due_at = float("inf")
        self.totals = BatchOutcome()
        self._losses = LossWatch()
        self._connected = False  # the current connection was accepted (a lost one counts in _losses)
        self._broker_connected = False  # what the heartbeat says: connected to the broker now
        self._instance = Instance(settings.client_id, socket.gethostname(), os.getpid())
        self._taken_over = False  # the last connection ended in what looks like a session taken over
        # Set once the broker has granted the subscriptions: on a broker where this ingester never had
        # a session, results published before that reach no subscriber (whoever starts an ingester
        # in-process waits on it).
        self.subscribed = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    # paho callbacks (API version 2), run inside client.loop() on this thread

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        if reason.is_failure:
            log_event("review.ingest_refused", level=logging.ERROR, reason=reason)
            return
        self._connected = self._broker_connected = True
        client.subscribe(subscriptions())
        client.unsubscribe(shared_subscriptions(self._settings.share_group))
        log_event("review.ingest_connected", broker=f"{self._settings.host}:{self._settings.port}")
        self._record_session(flags.session_present)

    def _record_session(self, session_present: bool) -> None:
        """A broker that answers without the session this ingester had is an error in the log and one
        more for the dashboard (``lost_sessions``; a failed write only loses the count)."""
        try:
            with self._engine.begin() as connection:
                lost = record_connection(connection, self._settings.client_id, session_present)
        except SQLAlchemyError as error:
            log_event("review.session_not_recorded", level=logging.WARNING, error=error)
            return
        if lost is not None:
            log_event(
                "review.broker_session_lost",
                level=logging.ERROR,
                client_id=self._settings.client_id,
                lost=lost.total,
                why="the broker had no session for this ingester, which had one: it started without its "
                "persistence file, or the ingester was away longer than session_expiry_s; results devices "
                "sent while no ingester was subscribed were dropped by the broker, though the devices count "
                "them sent",
            )

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        """Why a connection ended, a warning with the reason and its code, and a session taken over an
        error (``edgescreen_wire.disconnects``): reconnections logged only as ``review.ingest_connected``
        hid a copy of this ingester's certificate knocking it off several times a second."""
        self._broker_connected = False
        if not reason.is_failure and not flags.is_disconnect_packet_from_server:
            return  # our own DISCONNECT, on stop
        log_event("review.ingest_disconnected", level=logging.WARNING, reason=reason_with_code(reason))
        if self._connected and self._losses.taken_over(reason, time.monotonic()):
            self._taken_over = True
            self._record_takeover(reason)

    def _record_takeover(self, reason: Any) -> None:
        """An error in the log, and one more for the dashboard (a failed write only loses the count)."""
        try:
            with self._engine.begin() as connection:
                total: int | None = record_takeover(connection, self._settings.client_id).total
        except SQLAlchemyError as error:
            log_event("review.takeover_not_recorded", level=logging.WARNING, error=error)
            total = None
        log_event(
            "review.ingest_session_taken_over",
            level=logging.ERROR,
            client_id=self._settings.client_id,
            reason=reason_with_code(reason),
            takeovers=total,
            why=f"said by the broker, or {REPEATED_LOSSES} connections lost within {WINDOW_S:.0f} s: another "
            "client has this ingester's certificate (its CN is the client id): two ingesters given one "
            "certificate, or a copy of it elsewhere",
        )

    def _on_subscribe(self, client: mqtt.Client, userdata: Any, mid: int, reasons: Any, properties: Any) -> None:
        topics = [topic for topic, _ in subscriptions()]
        refused = {topic: reason for topic, reason in zip(topics, reasons, strict=False) if reason.is_failure}
        # Both $SYS topics are taken out whatever the other's fate: a refused one is no refused result.
        dropped_refused, live_refused = (refused.pop(topic, None) is not None for topic in (DROPPED_TOPIC, LIVE_TOPIC))
        if refused:
            log_event("review.subscription_refused", level=logging.ERROR, reasons=list(refused.values()))
            return
        log_event("review.ingest_subscribed")
        self.subscribed.set()
        self._watch_drops(dropped_refused, live_refused)

    def _watch_drops(self, dropped_refused: bool, live_refused: bool) -> None:
        """Results flow whatever $SYS allows; only a lost one would go unnoticed, so a refused count is
        a warning. A refused uptime is not: the count is still heard when it changes, and only the
        silence check (which waits for the uptime) cannot run."""
        if dropped_refused:
            self._drops_unwatched("refused")
        elif not live_refused:
            self._counter_due_at = time.monotonic() + COUNTER_SECONDS

    def _drops_unwatched(self, why: str) -> None:
        self._counter_due_at = float("inf")  # said once a connection
        log_event("review.broker_drops_unwatched", level=logging.WARNING, topic=DROPPED_TOPIC, why=why)

    def _check_counter_arrived(self) -> None:
        """mosquitto grants a subscription its ACL does not allow and then sends nothing (an ACL older
        than broker/acl): no $SYS message at all says so, or lost results would go unnoticed. The count
        alone cannot: mosquitto lets it expire a minute after it last changed (``broker_drops``)."""
        if time.monotonic() > self._counter_due_at:
            self._drops_unwatched(
                f"no $SYS message in {COUNTER_SECONDS:.0f} s: does the broker's ACL let this user read {LIVE_TOPIC}?"
            )

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        if message.topic in (DROPPED_TOPIC, LIVE_TOPIC):
            self._counter_due_at = float("inf")  # $SYS is readable: a silent count means no drop
            if message.topic == DROPPED_TOPIC:
                self._take_drop_counter(bytes(message.payload))
            return
        self._received += 1
        if not self._pending:
            self._first_pending_at = time.monotonic()
        self._pending.append(
            Incoming(message.topic, bytes(message.payload), datetime.now(UTC), message.mid, message.qos)
        )

    def _on_publish(self, client: mqtt.Client, userdata: Any, mid: int, reason: Any, properties: Any) -> None:
        notice = self._notices_published.pop(mid, None)
        if notice is not None:
            self._notice_taken(notice, reason)
            return
        review_id = self._published.pop(mid, None)
        if review_id is None or reason.is_failure:
            return
        try:
            with self._engine.begin() as connection:
                connection.execute(
                    update(deliveries)
                    .where(deliveries.c.review_id == review_id, deliveries.c.state == "pending")
                    .values(state="sent", updated_at=datetime.now(UTC))
                )
        except SQLAlchemyError as error:  # the next retry marks it
            log_event("review.delivery_not_marked", level=logging.WARNING, review_id=review_id, error=error)

    def _notice_taken(self, notice: DueNotice, reason: Any) -> None:
        """The broker's answer to an erasure notice: taken, its results are told (a failed write sends it
        again); refused (an ACL older than the ``erased`` topic), logged and not sent again on this
        connection."""
        if reason.is_failure:
            self._notices_withheld.add(notice.device_id)
            log_event("review.erased_notice_refused", level=logging.ERROR, device_id=notice.device_id, reason=reason)
            self._keep_unsent_reason(notice, "refused", str(reason))
            return
        try:
            with self._engine.begin() as connection:
                noticed(connection, notice)
        except SQLAlchemyError as error:
            log_event("review.erased_notice_not_marked", level=logging.WARNING, device_id=notice.device_id, error=error)

    def _take_drop_counter(self, payload: bytes) -> None:
        """The broker's count of dropped messages: drops the station had not noticed yet are an error in
        the log and kept for the dashboard (a failed write is tried on the next count, every 10 s)."""
        counter = parse_counter(payload)
        if counter is None:
            return
        try:
            with self._engine.begin() as connection:
                grown = record_counter(connection, counter)
        except SQLAlchemyError as error:
            log_event("review.broker_drops_not_recorded", level=logging.WARNING, counter=counter, error=error)
            return
        if grown:
            log_event(
                "review.broker_dropped_messages",
                level=logging.ERROR,
                dropped=grown,
                since_broker_start=counter,
                why="queues past max_queued_messages or max_queued_bytes: results or verdicts lost",
            )

    # the work

    def _commit_pending(self, client: mqtt.Client) -> None:
        """Settle the batch being committed, then hand the next one to the committer when it is due."""
        self._settle_commit(client)
        now = time.monotonic()
        due = len(self._pending) >= self._settings.batch_size or now - self._first_pending_at >= BATCH_SECONDS
        if self._committing is not None or not self._pending or not due or now < self._database_retry_at:
            return
        batch, self._pending = self._pending, []
        self._committing = (batch, self._committer.submit(self._store, batch, now))

    def _store(self, batch: list[Incoming], now: float) -> BatchOutcome:
        """The committer thread's work: one batch, one transaction. The registry, when due, is read
        again in it and kept only once it commits: a release rolled back with the batch comes again."""
        refresh = now - self._registry_at >= REGISTRY_SECONDS
        with self._engine.begin() as connection:
            registry = self._fresh_registry(connection) if refresh else self._registry
            outcome = store_batch(connection, batch, registry)
        if refresh:
            self._registry, self._registry_at = registry, now
        return outcome

    def _fresh_registry(self, connection: Connection) -> dict[str, str]:
        """The registry read again, and the quarantined results of the devices enrolled since the last
        read released: an enrolment releases what is quarantined when it commits, but this ingester
        may quarantine a result of that device later, on the registry it read before."""
        registry = active_sites(connection)
        release(connection, registry.keys() - self._registry.keys(), registry, by="ingester")
        return registry

    def _settle_commit(self, client: mqtt.Client, wait: bool = False) -> None:
        """Acknowledge a committed batch; put a failed one back to be tried again, unacknowledged."""
        if self._committing is None or not (wait or self._committing[1].done()):
            return
        (batch, future), self._committing = self._committing, None
        try:
            outcome = future.result()
        except SQLAlchemyError as error:
            # Nothing acknowledged: the batch is kept and tried again; the broker holds the rest back.
            self._pending = batch + self._pending
            self._database_failures += 1
            delay = backoff_delay(self._database_failures, 0.2, 10.0, self._rng)
            self._database_retry_at = time.monotonic() + delay
            log_event("review.database_unavailable", level=logging.ERROR, error=error, retry_in_s=round(delay, 2))
            return
        self._database_failures = 0
        for message in batch:
            client.ack(message.mid, message.qos)
        for name in ("stored", "duplicates", "quarantined", "acks", "statuses", "erasures", "erased_before"):
            setattr(self.totals, name, getattr(self.totals, name) + getattr(outcome, name))

    def _send_due(self, client: mqtt.Client) -> None:
        """The verdicts and the erasure notices due, looked for every ``DELIVERY_SECONDS``."""
        now = time.monotonic()
        if now < self._next_delivery_at:
            return
        self._next_delivery_at = now + DELIVERY_SECONDS
        self._send_due_verdicts(client)
        self._send_due_notices(client)

    def _send_due_verdicts(self, client: mqtt.Client) -> None:
        cutoff = datetime.now(UTC) - timedelta(seconds=self._settings.review_retry_s)
        unsettled = deliveries.c.state.in_(UNSETTLED_DELIVERY)
        due = or_(deliveries.c.last_sent_at.is_(None), deliveries.c.last_sent_at < cutoff)
        # A copy sent to a device that is offline waits in its persistent session at the broker (or
        # reached it before it left): sending it again every retry would pile up copies there for as
        # long as a campaign is away. Once the device is online again, an unacknowledged verdict is
        # due as before.
        waiting_at_the_broker = and_(devices.c.status == OFFLINE, deliveries.c.last_sent_at.is_not(None))
        # A retired device (lost, stolen, replaced) is sent nothing more: its verdicts are listed for a
        # coordinator instead (``review_station.undelivered``). A result whose device is not in the registry
        # (the outer join) counts as active.
        active = devices.c.retired_at.is_(None)
        try:
            with self._engine.connect() as connection:
                # Signed for a device whose latest result asks for it (given the key since this result was
                # sent, it refuses the verdict unsigned), else as this result asks.
                reads = func.coalesce(devices.c.review_schema, results.c.payload["review_schema"].as_string())
                signed = reads == REVIEW_V3
                candidates = connection.execute(
                    select(deliveries.c.review_id, deliveries.c.last_sent_at, signed)
                    .join(results, results.c.result_id == deliveries.c.result_id)
                    .outerjoin(devices, devices.c.device_id == results.c.device_id)
                    .where(unsettled, due, active, not_(func.coalesce(waiting_at_the_broker, False)))
                    # In the order they were decided (a later decision on a result has a later time), so a
                    # device gets a result's verdicts in the order it ranks them, the oldest sent first.
                    .order_by(deliveries.c.reviewed_at, deliveries.c.result_id)
                    .limit(100)
                ).all()
            for review_id, last_sent_at, signed in candidates:
                self._send_verdict(client, review_id, last_sent_at, bool(signed))
        except SQLAlchemyError as error:
            log_event("review.delivery_check_failed", level=logging.WARNING, error=error)

    def _send_verdict(self, client: mqtt.Client, review_id: str, last_sent_at: datetime | None, signed: bool) -> None:
        """Send one attempt, signed when the device asks for it. An attempt that cannot be signed (no
        key) is claimed all the same, so it is tried, and logged, once per ``review_retry_s``. One that no
        longer passes the wire checks is set aside (``verdicts.set_aside``), not sent."""
        with self._engine.begin() as connection:
            claimed = connection.execute(
                update(deliveries)
                .where(
                    deliveries.c.review_id == review_id,
                    deliveries.c.state.in_(UNSETTLED_DELIVERY),  # not one an amendment superseded meanwhile
                    deliveries.c.last_sent_at.is_(None)
                    if last_sent_at is None
                    else deliveries.c.last_sent_at == last_sent_at,
                )
                .values(last_sent_at=datetime.now(UTC), attempts=deliveries.c.attempts + 1)
                .returning(deliveries.c.topic, deliveries.c.payload)
            ).first()
        if claimed is None:
            return  # another ingester took this attempt
        if signed and self._signer is None:
            log_event("review.verdict_not_signed", level=logging.ERROR, review_id=review_id, topic=claimed.topic)
            return
        try:
            parse_review_document(claimed.payload)  # as the device will check it, signed or not
        except WireError as error:
            with self._engine.begin() as connection:
                set_aside(connection, review_id, error, datetime.now(UTC))
            return
        payload = sign_review(claimed.payload, self._signer) if signed and self._signer else claimed.payload
        info = client.publish(claimed.topic, payload, qos=1)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            # A connection paho found lost: said (it went unsaid), and tried again after ``review_retry_s``.
            why = mqtt.error_string(info.rc)
            log_event(
                "review.verdict_not_published", logging.WARNING, review_id=review_id, topic=claimed.topic, error=why
            )
            return
        self._published[info.mid] = review_id
        log_event("review.verdict_sent", review_id=review_id, topic=claimed.topic)

    def _send_due_notices(self, client: mqtt.Client) -> None:
        """Publish each erasure notice due, once a connection until the broker answers it (retained: a
        second copy would only replace the first)."""
        passed = {notice.device_id for notice in self._notices_published.values()} | self._notices_withheld
        try:
            with self._engine.connect() as connection:
                due = due_notices(connection, passed)
        except SQLAlchemyError as error:
            log_event("review.erased_notice_check_failed", level=logging.WARNING, error=error)
            return
        for notice in due:
            self._send_notice(client, notice)

    def _send_notice(self, client: mqtt.Client, notice: DueNotice) -> None:
        if self._signer is None:
            self._withhold_notice(notice, "no_key")
            return
        try:
            payload = encode_erased_notice(notice.device_id, notice.result_ids, self._signer)
        except WireError as error:
            self._withhold_notice(notice, "not_encoded", str(error))
            return
        info = client.publish(device_topic(notice.site_id, notice.device_id, ERASED), payload, qos=1, retain=True)
        if info.rc == mqtt.MQTT_ERR_SUCCESS:
            self._notices_published[info.mid] = notice
            log_event("review.erased_notice_sent", device_id=notice.device_id, results=len(notice.result_ids))
        else:
            self._withhold_notice(notice, "not_published", mqtt.error_string(info.rc))

    def _withhold_notice(self, notice: DueNotice, reason: str, detail: str | None = None) -> None:
        """Not sent again on this connection, logged in the dashboard's English words, and ``reason``
        kept for the dashboard (``erased_notices.not_sent``)."""
        self._notices_withheld.add(notice.device_id)
        why = unsent_why(reason, detail, "en")
        log_event("review.erased_notice_not_sent", level=logging.ERROR, device_id=notice.device_id, why=why)
        self._keep_unsent_reason(notice, reason, detail)

    def _keep_unsent_reason(self, notice: DueNotice, reason: str, detail: str | None) -> None:
        """A failed write loses only the reason (the log has it): the dashboard says it is not known."""
        try:
            with self._engine.begin() as connection:
                not_sent(connection, notice.device_id, reason, detail)
        except SQLAlchemyError as error:
            log_event(
                "review.erased_notice_reason_not_kept", level=logging.WARNING, device_id=notice.device_id, error=error
            )

    # the connection

    def _new_client(self) -> mqtt.Client:
        settings = self._settings
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=settings.client_id, protocol=mqtt.MQTTv5, manual_ack=True
        )
        client.on_connect, client.on_subscribe = self._on_connect, self._on_subscribe
        client.on_disconnect = self._on_disconnect
        client.on_message, client.on_publish = self._on_message, self._on_publish
        if settings.tls_ca_file:
            certificate = str(settings.tls_cert_file) if settings.tls_cert_file else None
            key = str(settings.tls_key_file) if settings.tls_key_file else None
            client.tls_set(ca_certs=str(settings.tls_ca_file), certfile=certificate, keyfile=key)
        return client

    def _serve_connection(self) -> bool:
        """One connection until it is lost or we are stopped; returns whether it was established."""
        self._pending, self._published = [], {}  # unacknowledged ones come again on the next session
        self._notices_published, self._notices_withheld = {}, set()
        self._connected = self._taken_over = False
        client = self._new_client()
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = self._settings.session_expiry_s
        # Two batches' worth: the broker sends the next batch while this one is being committed.
        properties.ReceiveMaximum = 2 * self._settings.batch_size
        try:
            client.connect(
                self._settings.host,
                self._settings.port,
                keepalive=self._settings.keepalive_s,
                clean_start=False,
                properties=properties,
            )
        except (OSError, ValueError) as error:
            log_event("review.broker_unreachable", level=logging.WARNING, error=error)
            return False
        established = False
        try:
            while not self._stop.is_set():
                if self._network(client) != mqtt.MQTT_ERR_SUCCESS:
                    return established
                established = established or client.is_connected()
                self._commit_pending(client)
                if client.is_connected():
                    self._send_due(client)
                    self._check_counter_arrived()
            self._commit_pending_now(client)
            return established
        finally:
            # A batch still committing is waited for: its acknowledgements belong to this session
            # (on a lost connection they go nowhere, and the broker delivers the batch again).
            self._settle_commit(client, wait=True)
            client.disconnect()
            self._broker_connected = False

    def _network(self, client: mqtt.Client) -> mqtt.MQTTErrorCode:
        """paho's ``loop`` waits in select() and reads one packet; at thousands of results a second
        the select()s cost more than the results. After it, read on while results have already
        arrived (the socket does not block), up to a batch, then go back to the commits."""
        rc = client.loop(timeout=LOOP_SECONDS)
        for _ in range(self._settings.batch_size):
            received = self._received
            if rc != mqtt.MQTT_ERR_SUCCESS:
                break
            rc = client.loop_read()
            if self._received == received:  # nothing more had arrived (or it was not a result)
                break
        return rc

    def _commit_pending_now(self, client: mqtt.Client) -> None:
        """On stop: commit what was received and acknowledge it before the DISCONNECT."""
        self._settle_commit(client, wait=True)
        self._first_pending_at, self._database_retry_at = float("-inf"), 0.0
        self._commit_pending(client)
        self._settle_commit(client, wait=True)
        client.loop(timeout=LOOP_SECONDS)  # let the PUBACKs go out before the DISCONNECT

    def _heartbeat(self) -> None:
        """The heartbeat thread: one UPDATE every ``HEARTBEAT_SECONDS`` (``review_station.heartbeats``),
        beating while the MQTT thread waits to reconnect too; stopped on purpose, it says so. A failed
        write is logged: the pages then say the ingester is not heard from, which is the truth they can tell."""
        first = True
        while True:
            try:
                with self._engine.begin() as connection:
                    if self._stop.is_set():
                        stopped(connection, self._instance)
                        return
                    beat(connection, self._instance, self._broker_connected, first=first)
                first = False
            except SQLAlchemyError as error:
                log_event("review.heartbeat_not_recorded", level=logging.WARNING, error=error)
                if self._stop.is_set():
                    return
            self._stop.wait(HEARTBEAT_SECONDS)

    def run(self) -> None:
        attempt = 0
        heartbeat = threading.Thread(target=self._heartbeat, name="review-heartbeat", daemon=True)
        heartbeat.start()
        try:
            while not self._stop.is_set():
                established = self._serve_connection()
                if self._stop.is_set():
                    return
                # A taken session backs off as a failure: the other holder of the certificate would
                # otherwise take it back at once, several times a second.
                attempt = 0 if established and not self._taken_over else attempt + 1
                self._stop.wait(backoff_delay(attempt, 0.5, 30.0, self._rng))
        finally:
            self._stop.set()  # the heartbeat's too, when run() ends on an error
            self._join_heartbeat(heartbeat)
            self._committer.shutdown(wait=True)

    @staticmethod
    def _join_heartbeat(heartbeat: threading.Thread) -> None:
        """Waited for two beats at most: a beat stuck in its UPDATE (the row locked by another transaction)
        would otherwise keep the ingester from ever stopping, and systemd would kill it. A database that
        answers nothing holds the stop still, in the committer's shutdown after this, results in hand.
        Left behind, the daemon thread ends with the process; once its window passes, the pages say the
        ingester is not heard from, not that it stopped."""
        heartbeat.join(2 * HEARTBEAT_SECONDS)
        if heartbeat.is_alive():
            log_event("review.heartbeat_not_stopped", level=logging.WARNING, waited_s=2 * HEARTBEAT_SECONDS)
