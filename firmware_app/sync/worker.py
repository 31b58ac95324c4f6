"""The sync worker: drains the outbox to the site broker and takes in specialists' verdicts.

Delivery is at least once, never lost: a row is marked sent only on the broker's PUBACK (MQTT 5, so
a broker that refuses a message says so with a reason code instead of dropping it quietly). Each
connection uses a fresh paho client, so nothing unacknowledged lives on in memory: after any
disconnect or restart the worker publishes again from the oldest unsent row, in order, and
receivers de-duplicate on the result id. The MQTT session itself is persistent (``clean_start``
false, a session expiry), so verdicts sent while the device was offline wait for it at the broker.

One thread does everything (``client.loop`` is called here, not in paho's thread), so callbacks and
the SQLite connection never race.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import deque
from datetime import timedelta
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from firmware_app.config import DeviceConfig, SyncConfig
from firmware_app.events import log_event
from firmware_app.health.heartbeat import Heartbeat
from firmware_app.records.database import RecordsError
from firmware_app.records.outbox import Outbox, OutboxRow
from firmware_app.records.store import ScreeningStore
from firmware_app.sync.review import parse_review, review_ack
from firmware_app.sync.topics import RESULT, REVIEW, REVIEW_ACK, STATUS, device_topic
from firmware_app.sync.wire import WireError

ACK_COMMIT_ROWS = 256  # mark acknowledged rows sent in batches: one fsync per batch, not per row
ACK_COMMIT_SECONDS = 0.05
READ_AHEAD_ROWS = 512
MAINTENANCE_SECONDS = 3600.0
LOOP_SECONDS = 0.05


def backoff_delay(attempt: int, initial: float, cap: float, rng: random.Random) -> float:
    """Capped exponential backoff with full jitter: devices that lost the broker together do not
    all come back in the same second."""
    return rng.uniform(0.0, min(cap, initial * 2.0**attempt))


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
            leaf: device_topic(device.site, device.id, leaf) for leaf in (RESULT, STATUS, REVIEW, REVIEW_ACK)
        }
        self._client_id = device.id
        self.heartbeat = Heartbeat("sync loop")
        self._reset_connection_state()

    def _reset_connection_state(self) -> None:
        self._inflight: dict[int, int] = {}  # paho message id -> outbox seq
        self._acked: list[int] = []
        self._first_ack_at = 0.0
        self._read_ahead: deque[OutboxRow] = deque()
        self._cursor = 0
        self._connack: bool | None = None
        self._problem = ""

    def stop(self) -> None:
        self._stop.set()

    # paho callbacks (API version 2); they run inside client.loop(), on this worker's thread

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        self._connack = not reason.is_failure
        if reason.is_failure:
            self._problem = f"the broker refused the connection: {reason}"

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        self._connack = False
        self._problem = self._problem or f"disconnected: {reason}"

    def _on_publish(self, client: mqtt.Client, userdata: Any, mid: int, reason: Any, properties: Any) -> None:
        seq = self._inflight.pop(mid, None)
        if seq is None:
            return  # a status or review_ack message
        if reason.is_failure:
            self._problem = f"the broker refused result row {seq}: {reason}"
            log_event("sync.publish_refused", level=logging.ERROR, seq=seq, reason=reason)
            return
        if not self._acked:
            self._first_ack_at = time.monotonic()
        self._acked.append(seq)

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        try:
            review = parse_review(message.payload)
        except WireError as error:
            log_event("sync.review_rejected", level=logging.WARNING, topic=message.topic, error=error)
            client.ack(message.mid, message.qos)  # harmless, and never redelivered
            return
        try:
            status = self._store.add_review(review)
        except RecordsError as error:
            log_event("sync.review_not_stored", level=logging.ERROR, review_id=review.review_id, error=error)
            self._problem = f"a review could not be stored: {error}"
            return  # not acknowledged: the broker delivers it again on the next connection
        log_event("sync.review", review_id=review.review_id, result_id=review.result_id, status=status)
        client.publish(self._topic[REVIEW_ACK], review_ack(review, status), qos=1)
        client.ack(message.mid, message.qos)

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
        client.max_inflight_messages_set(settings.inflight_window)
        client.connect_timeout = settings.connect_timeout_s
        client.will_set(self._topic[STATUS], "offline", qos=1, retain=True)
        if settings.tls_ca_file:
            certificate = str(settings.tls_cert_file) if settings.tls_cert_file else None
            key = str(settings.tls_key_file) if settings.tls_key_file else None
            client.tls_set(ca_certs=str(settings.tls_ca_file), certfile=certificate, keyfile=key)
        return client

    def _commit_acks(self, force: bool) -> None:
        due = len(self._acked) >= ACK_COMMIT_ROWS or time.monotonic() - self._first_ack_at >= ACK_COMMIT_SECONDS
        if self._acked and (force or due):
            self._outbox.mark_sent(self._acked)
            self._acked = []

    def _fill_window(self, client: mqtt.Client) -> None:
        while len(self._inflight) < self._settings.inflight_window:
            if not self._read_ahead:
                self._read_ahead.extend(self._outbox.pending(self._cursor, READ_AHEAD_ROWS))
                if not self._read_ahead:
                    return
            row = self._read_ahead.popleft()
            info = client.publish(self._topic[RESULT], row.payload, qos=1)
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                return  # the connection is going; the next one starts again from the oldest unsent row
            self._inflight[info.mid] = row.seq
            self._cursor = row.seq

    def _drained(self) -> bool:
        return not self._inflight and not self._acked and not self._read_ahead and self._outbox.backlog().unsent == 0

    def _on_connected(self, client: mqtt.Client) -> None:
        client.subscribe(self._topic[REVIEW], qos=1)
        client.publish(self._topic[STATUS], "online", qos=1, retain=True)
        backlog = self._outbox.backlog()
        self._outbox.set_connection("connected", f"{self._settings.broker_host}:{self._settings.broker_port}")
        log_event(
            "sync.connected",
            broker=f"{self._settings.broker_host}:{self._settings.broker_port}",
            backlog=backlog.unsent,
        )

    def _say_goodbye(self, client: mqtt.Client) -> None:
        """A clean exit: mark this device offline ourselves (a clean disconnect sends no last will)."""
        info = client.publish(self._topic[STATUS], "offline", qos=1, retain=True)
        deadline = time.monotonic() + 2.0
        while not info.is_published() and time.monotonic() < deadline and client.loop(timeout=LOOP_SECONDS) == 0:
            pass
        client.disconnect()

    def _serve_connection(self, until_drained: bool) -> tuple[bool, bool]:
        """One connection from connect to loss; returns (it was established, the work is done)."""
        self._reset_connection_state()
        client = self._new_client()
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = self._settings.session_expiry_s
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
            return False, False
        deadline, established, next_maintenance = time.monotonic() + self._settings.connect_timeout_s, False, 0.0
        try:
            while not self._stop.is_set():
                self.heartbeat.beat(self._settings.connect_timeout_s)
                if client.loop(timeout=0.0 if self._inflight else LOOP_SECONDS) != mqtt.MQTT_ERR_SUCCESS:
                    return established, False
                if self._connack is None:
                    if time.monotonic() > deadline:
                        self._problem = "the broker did not answer the connection in time"
                        return established, False
                    continue
                if not self._connack or self._problem:
                    return established, False
                if not established:
                    established = True
                    self._on_connected(client)
                self._commit_acks(force=False)
                self._fill_window(client)
                if until_drained and self._drained():
                    self._say_goodbye(client)
                    return True, True
                if time.monotonic() >= next_maintenance:
                    self.maintain()
                    next_maintenance = time.monotonic() + MAINTENANCE_SECONDS
            if established:
                self._commit_acks(force=True)
                self._say_goodbye(client)
            return established, True
        finally:
            self._commit_acks(force=True)
            if not established or self._problem:
                client.disconnect()

    def maintain(self) -> None:
        """Hourly: delete images past their retention, and report the backlog."""
        purged = self._store.purge_images(self._retention)
        backlog = self._outbox.backlog()
        oldest = backlog.oldest_unsent.isoformat() if backlog.oldest_unsent else "none"
        log_event("sync.backlog", unsent=backlog.unsent, oldest_unsent=oldest, images_purged=purged)

    def run(self, until_drained: bool = False) -> None:
        """Serve until stopped (or, with ``until_drained``, until every queued result is acknowledged)."""
        attempt = 0
        try:
            while not self._stop.is_set():
                self.heartbeat.beat(self._settings.connect_timeout_s)
                self._outbox.set_connection("connecting", f"{self._settings.broker_host}:{self._settings.broker_port}")
                established, done = self._serve_connection(until_drained)
                if done:
                    return
                attempt = 0 if established else attempt + 1
                delay = backoff_delay(
                    attempt, self._settings.backoff_initial_s, self._settings.backoff_max_s, self._rng
                )
                self._outbox.set_connection("disconnected", self._problem)
                log_event("sync.disconnected", level=logging.WARNING, problem=self._problem, retry_in_s=round(delay, 2))
                self.heartbeat.beat(delay)
                self._stop.wait(delay)
        finally:
            self._outbox.set_connection("stopped")
