"""What recording a screening costs against the unsent backlog in the outbox (issue 10: recording adds
<= 5 ms), for a device that was offline for days or weeks, which is what the outbox is for.

Real records (SQLite, sealing, the witness) in a temporary folder: one screening recorded by the
recording pipeline's recorder (``DurableRecorder``: validated payload, the sealed archive JPEG of
the bundled retina, one transaction; the JPEG encoded beforehand, as the pipeline has it encoded
while the frame is judged), then copied in SQL until ``N`` results wait unsent, then
``--recordings`` more recorded and timed one by one. Each row shows the median and
the slowest of those recordings, and, of the transaction's reads that ask about the backlog, the
outbox age cap's question ("is an unsent result older than the cap?") on its own.

Then what reading the backlog (``Outbox.backlog``: the nurse's session, the hourly log line, ``sync
status``, ``doctor``) costs against the patients' erasure requests queued while offline, one in
ten altered on the card (withheld), on records with a long audit (``--audit`` events, copies of the
screening's): it classifies every request against the erasures' audit events on each read; and one
read of those events on its own (``Outbox.erased_at_the_station``), which the sync worker made once
a request.

    .venv/bin/python bench/outbox_backlog.py [--backlog 0 1000 10000 50000] [--recordings 30]
        [--erasures 0 100 1000] [--audit 20000] [--reads 20]
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import Future
from datetime import UTC, datetime, timedelta
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

import numpy as np  # noqa: E402

from edgescreen_wire.erasure import erasure_documents  # noqa: E402
from firmware_app.app import DurableRecorder, open_store  # noqa: E402
from firmware_app.capture.frame import Frame  # noqa: E402
from firmware_app.capture.image_file import read_frame  # noqa: E402
from firmware_app.config import SAMPLES_DIR, Config, RecordsConfig  # noqa: E402
from firmware_app.records.audit import append_event  # noqa: E402
from firmware_app.records.clock import BUILD_DATE  # noqa: E402
from firmware_app.records.images import KeptPhoto, jpeg_bytes  # noqa: E402
from firmware_app.records.outbox import Outbox  # noqa: E402
from firmware_app.records.store import ScreeningStore  # noqa: E402
from tests.records.kit import DEVICE, sample_record  # noqa: E402


def record(recorder: DurableRecorder, pixels: np.ndarray, jpeg: bytes) -> None:
    """One screening, its archive JPEG already encoded."""
    record = sample_record()
    encoded: Future[bytes] = Future()
    encoded.set_result(jpeg)
    recorder(record, KeptPhoto(Frame(pixels, record.source), encoded))


def fill_backlog(store: ScreeningStore, count: int) -> None:
    """``count`` unsent results, copies of the last one recorded (screening and outbox rows; the copies
    carry no photo and no audit event: what the recording's transaction reads is their number)."""
    db = store.records.connection
    columns = [row[1] for row in db.execute("PRAGMA table_info(screening)") if row[1] != "result_id"]
    names = ", ".join(columns)
    with db:
        db.execute(
            f"""WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
            INSERT INTO screening (result_id, {names})
            SELECT 'backlog-' || i, {names} FROM n, (SELECT * FROM screening ORDER BY rowid DESC LIMIT 1)""",
            (count,),
        )
        db.execute(
            """INSERT INTO outbox (result_id, payload, queued_at)
            SELECT result_id, (SELECT payload FROM outbox LIMIT 1), ? FROM screening
            WHERE result_id LIKE 'backlog-%'""",
            (datetime.now(UTC).isoformat(),),
        )


def fill_audit(store: ScreeningStore, count: int) -> None:
    """``count`` audit events, copies of the last one recorded (a screening's): the audit a device keeps
    for years, which a read of the erasures' events goes through (their hashes are not chained)."""
    with store.records.connection as db:
        db.execute(
            """WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
            INSERT INTO audit (at, kind, details, prev_hash, hash)
            SELECT at, kind, details, prev_hash, hash FROM n, (SELECT * FROM audit ORDER BY seq DESC LIMIT 1)""",
            (count,),
        )


def queue_erasures(store: ScreeningStore, count: int) -> int:
    """``count`` erasure requests as ``erase_patient`` queues them, each with its audit event naming the
    result held at the station; one in ten altered on the card to name another result. Returns those."""
    db, now = store.records.connection, datetime.now(UTC)
    altered = 0
    with db:
        for index in range(count):
            held = secrets.token_hex(16)
            append_event(db, "erasure", {"results": 1, "result_ids": [held], "results_at_the_station": [held]}, now)
            named = held if index % 10 else secrets.token_hex(16)
            altered += named != held
            for document in erasure_documents(DEVICE.id, [named]):
                db.execute("INSERT INTO erasure_outbox (payload, queued_at) VALUES (?, ?)", (document, now.isoformat()))
    return altered


def median_ms(read: Callable[[], object], reads: int) -> float:
    """The median of ``reads`` calls of ``read``, in ms."""
    timings = []
    for _ in range(reads):
        started = time.perf_counter()
        read()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def age_cap_ms(store: ScreeningStore) -> float:
    """The outbox age cap's question as ``ScreeningStore._make_room`` asks it, in ms."""
    cutoff = (datetime.now(UTC) - timedelta(days=90)).isoformat()
    started = time.perf_counter()
    store.records.connection.execute(
        "SELECT min(queued_at) FROM outbox WHERE sent_at IS NULL AND queued_at >= ? AND queued_at < ?",
        (BUILD_DATE.isoformat(), cutoff),
    ).fetchone()
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backlog", type=int, nargs="+", default=[0, 1000, 10000, 50000], help="unsent results")
    parser.add_argument("--recordings", type=int, default=30, help="recordings timed per backlog")
    parser.add_argument("--erasures", type=int, nargs="+", default=[0, 100, 1000], help="queued erasure requests")
    parser.add_argument("--audit", type=int, default=20000, help="audit events besides the erasures'")
    parser.add_argument("--reads", type=int, default=20, help="backlog reads timed per number of requests")
    args = parser.parse_args()
    pixels = read_frame(SAMPLES_DIR / "fundus-retina.jpg").pixels
    jpeg = jpeg_bytes(pixels)
    print(f"recording against an unsent backlog (archive JPEG {len(jpeg) // 1024} KiB), ms:")
    for backlog in args.backlog:
        with tempfile.TemporaryDirectory() as temp:
            config = Config(records=RecordsConfig(database=Path(temp) / "b.sqlite3", key_file=Path(temp) / "b.key"))
            store = open_store(config)
            recorder = DurableRecorder(store, DEVICE)
            try:
                record(recorder, pixels, jpeg)
                if backlog:
                    fill_backlog(store, backlog)
                timings, questions = [], []
                for _ in range(args.recordings):
                    started = time.perf_counter()
                    record(recorder, pixels, jpeg)
                    timings.append((time.perf_counter() - started) * 1000)
                    questions.append(age_cap_ms(store))
            finally:
                store.records.close()
        print(
            f"  {backlog:>6} unsent: recording median {statistics.median(timings):.2f}, "
            f"slowest {max(timings):.1f}; age cap question {statistics.median(questions):.2f}"
        )
    print(f"reading the backlog against queued erasure requests ({args.audit} audit events besides), ms:")
    previous = None
    for erasures in args.erasures:
        with tempfile.TemporaryDirectory() as temp:
            config = Config(records=RecordsConfig(database=Path(temp) / "b.sqlite3", key_file=Path(temp) / "b.key"))
            store = open_store(config)
            try:
                record(DurableRecorder(store, DEVICE), pixels, jpeg)
                if args.audit:
                    fill_audit(store, args.audit)
                altered = queue_erasures(store, erasures)
                outbox = Outbox(store.records)
                median = median_ms(outbox.backlog, args.reads)
                held = median_ms(outbox.erased_at_the_station, args.reads)
            finally:
                store.records.close()
        against = f", x{median / previous:.1f} the row before" if previous else ""
        print(
            f"  {erasures:>6} erasure requests ({altered} withheld): backlog median {median:.2f}{against}; "
            f"the erasures' audit events read once {held:.2f}"
        )
        previous = median


if __name__ == "__main__":
    main()
