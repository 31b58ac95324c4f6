"""Outbox throughput against a bare paho publish loop, and the cost of recording one screening durably.

With a local mosquitto started for the run, the same 10,000 result payloads are published twice:
 - bare: one paho (MQTT 5) client, QoS 1, the same in-flight window, publish all, wait for every PUBACK;
 - outbox: ``edgescreen sync run --until-drained`` semantics (the real worker) draining a backlog of
   10,000 recorded screenings, each row marked sent in SQLite (synchronous=FULL) after its PUBACK.
The ratio outbox/bare is what the design aims to keep at 0.5 or more. Recording cost is the median
of the real recording path on the bundled full-size fundus photo: JPEG encode + seal + one
synchronous=FULL transaction, and the transaction alone (image already encoded).

    .venv/bin/python bench/sync.py [--results 10000] [--window 32]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

import cv2
import paho.mqtt.client as mqtt

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from bench.inference import _median_ms  # noqa: E402
from edgescreen_wire.result import encode_result  # noqa: E402
from firmware_app.app import DurableRecorder, run_sync  # noqa: E402
from firmware_app.capture.frame import Frame  # noqa: E402
from firmware_app.capture.image_file import read_frame  # noqa: E402
from firmware_app.config import load_config  # noqa: E402
from firmware_app.records.images import JPEG, jpeg_bytes  # noqa: E402
from firmware_app.sync.payload import result_payload  # noqa: E402
from tests.mqtt_broker import Broker, stop_network_loop  # noqa: E402
from tests.records.kit import DEVICE, open_store, sample_record, write_config  # noqa: E402

SAMPLE = PROJECT_ROOT / "firmware_app" / "samples" / "fundus-retina.jpg"


def bare_publish_rate(port: int, payloads: list[bytes], window: int) -> float:
    """Results per second of the plainest reliable publisher: QoS 1, all PUBACKs awaited."""
    done = threading.Event()
    acked = [0]

    def on_publish(client, userdata, mid, reason, properties):
        acked[0] += 1
        if acked[0] == len(payloads):
            done.set()

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-bare", protocol=mqtt.MQTTv5)
    client.max_inflight_messages_set(window)
    client.max_queued_messages_set(0)
    client.on_publish = on_publish
    client.connect("127.0.0.1", port)
    client.loop_start()
    start = time.perf_counter()
    for payload in payloads:
        client.publish("edgescreen/v1/bench/bare/result", payload, qos=1)
    assert done.wait(600), "the bare loop did not finish"
    elapsed = time.perf_counter() - start
    stop_network_loop(client)
    client.disconnect()
    return len(payloads) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", type=int, default=10_000)
    parser.add_argument("--window", type=int, default=32, help="in-flight window, for both publishers")
    parser.add_argument("--record-repeats", type=int, default=50)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        broker = Broker(directory / "broker").start()
        try:
            config_path = write_config(directory, broker.port, f"inflight_window = {args.window}\n")
            store = open_store(directory)
            recorder = DurableRecorder(store, DEVICE)

            full = read_frame(SAMPLE)
            record_ms = _median_ms(lambda: recorder(sample_record(), recorder.keep(full)), args.record_repeats)
            encoded = [(JPEG, jpeg_bytes(full.pixels))]

            def transaction_only() -> None:
                record = sample_record()
                store.record_screening(record, encoded, encode_result(result_payload(record, DEVICE.id, DEVICE.site)))

            transaction_ms = _median_ms(transaction_only, args.record_repeats)

            # The backlog: real recordings, with a small photo so that filling it stays quick.
            small = Frame(cv2.resize(full.pixels, (128, 128), interpolation=cv2.INTER_AREA), "bench")
            start = time.perf_counter()
            backlog_size = args.results - 2 * args.record_repeats
            for _ in range(backlog_size):
                recorder(sample_record(), recorder.keep(small))
            fill_s = time.perf_counter() - start
            payloads = [
                bytes(r[0]) for r in store.records.connection.execute("SELECT payload FROM outbox ORDER BY seq")
            ]
            store.records.close()

            bare = bare_publish_rate(broker.port, payloads, args.window)
            start = time.perf_counter()
            run_sync(load_config(str(config_path)), until_drained=True)
            outbox = len(payloads) / (time.perf_counter() - start)
        finally:
            broker.stop()

    print(
        f"results: {len(payloads)} payloads of ~{sum(map(len, payloads)) // len(payloads)} bytes, window {args.window}"
    )
    print(f"bare paho QoS 1 publish loop:   {bare:8.0f} results/s")
    print(f"durable outbox (sync worker):   {outbox:8.0f} results/s")
    print(f"ratio outbox / bare:            {outbox / bare:8.2f}   (aim: >= 0.50)")
    print(f"record one screening durably:   {record_ms:8.1f} ms median (full-size photo: JPEG + seal + FULL commit)")
    print(f"  of which the transaction:     {transaction_ms:8.1f} ms median (image already encoded)")
    print(f"  backlog fill, small photos:   {fill_s / backlog_size * 1000:8.1f} ms per screening")


if __name__ == "__main__":
    main()
