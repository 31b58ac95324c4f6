"""The station's tables (SQLAlchemy Core). Alembic's migrations create them; a test checks both agree.

Times are stored as timezone-aware UTC. A result row keeps the validated payload as received (JSON
text) beside the columns the worklist filters and sorts on.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


class UtcDateTime(TypeDecorator[datetime]):
    """A moment in UTC, aware on the way out on every database (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("a naive datetime cannot be stored: give it a time zone")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class database_now(FunctionElement[datetime]):  # lower case: an SQL function, as SQLAlchemy names them
    """The database's current time, in UTC: one clock for what hosts whose clocks differ write and compare
    (each ingester's heartbeat, judged by the web app on another host)."""

    type = UtcDateTime()
    inherit_cache = True


@compiles(database_now, "postgresql")
def _postgresql_now(element: database_now, compiler: SQLCompiler, **kw: Any) -> str:
    # The statement's start, not the transaction's (now()): a page's transaction may have begun earlier.
    return "statement_timestamp()"


@compiles(database_now, "sqlite")
def _sqlite_now(element: database_now, compiler: SQLCompiler, **kw: Any) -> str:
    # UTC in SQLAlchemy's own text for a SQLite datetime (microseconds: %f gives milliseconds), so that it
    # sorts and compares as text with the times written from Python.
    return "(strftime('%Y-%m-%d %H:%M:%f', 'now') || '000')"


metadata = MetaData()


def queue_rank_of(state: str) -> int:
    """A result's ``queue_rank``: 0 while it awaits a read, 1 once reviewed."""
    return 1 if state == "reviewed" else 0


devices = Table(
    "devices",
    metadata,
    Column("device_id", String(64), primary_key=True),
    Column("site_id", String(64), nullable=False),
    Column("enrolled_at", UtcDateTime(), nullable=False),
    Column("retired_at", UtcDateTime()),
    # From the device's retained status topic: "online" / "offline" (its last will).
    Column("status", String(16)),
    Column("status_at", UtcDateTime()),
    Column("last_seen_at", UtcDateTime()),
    # The verdict schema the device's latest result announced (``review_schema``, migration 0015; NULL
    # before its first result since): what its verdicts are sent in, signed when it is edgescreen.review/3.
    Column("review_schema", String(32)),
)

results = Table(
    "results",
    metadata,
    Column("result_id", String(32), primary_key=True),
    Column("schema", String(32), nullable=False),
    Column("device_id", String(64), nullable=False),
    Column("site_id", String(64), nullable=False),
    Column("modality", String(16), nullable=False),
    Column("captured_at", UtcDateTime(), nullable=False),
    Column("received_at", UtcDateTime(), nullable=False),
    # The station's time of the result (``review_station.dating``, migration 0010): ``captured_at`` when
    # the device's clock can be trusted, else ``received_at``. The worklist, date filters and exports use it;
    # ``dated_from`` says which (decided once, on arrival), for every page and export that shows it.
    Column("dated_at", UtcDateTime(), nullable=False),
    Column("dated_from", String(16), nullable=False),
    Column("triage", String(16), nullable=False),
    # 0: refer, 1: ungradable, 2: no_refer: the worklist shows the urgent ones first.
    Column("triage_rank", Integer, nullable=False),
    # 0 while the result awaits a read (first, second or adjudication), 1 once reviewed (migration
    # 0009): the worklist shows what awaits a reader before what is settled (``queue_rank_of``).
    Column("queue_rank", Integer, nullable=False),
    Column("quality_verdict", String(16)),
    Column("model_id", String(64)),
    Column("model_version", String(64)),
    # From edgescreen.result/2 (migration 0003); NULL for /1 results.
    Column("lesion_diameter_mm", Float),
    Column("skin_tone", String(16)),
    Column("operating_point", String(64)),
    Column("quality_reference", String(16)),
    # Where on the patient the photo was taken (migration 0017, from the payload): the eye of a fundus
    # photo ("L" or "R"), the coarse body site of a dermoscopy one; NULL when the nurse recorded none.
    # The worklist shows them: a patient's two eyes, or two lesions, are told apart in the list.
    Column("eye", String(1)),
    Column("body_site", String(16)),
    # awaiting_review, awaiting_second_read, disagreement, reviewed
    Column("state", String(24), nullable=False),
    Column("payload", JSON, nullable=False),
)
# The device's history on the result page: its latest results.
Index("results_device_history", results.c.device_id, results.c.dated_at)
# The worklist's order and counts read the index alone, never the rows with their payloads (migration 0005;
# an eye that could not be photographed is told by its quality, ``not_photographed``, migration 0022):
# - its order (awaiting a read before reviewed; refer, then ungradable, then no_refer; oldest first by
#   the station's time, migration 0010) with every column a page shows or a filter tests, so a page is
#   the first matching entries of this index, whatever the filters;
WORKLIST_COLUMNS = (
    "site_id",
    "device_id",
    "modality",
    "triage",
    "quality_verdict",
    "state",
    "dated_from",
    "eye",
    "body_site",
)
WORKLIST_ORDER = (results.c.queue_rank, results.c.triage_rank, results.c.dated_at, results.c.result_id)
Index("results_order", *WORKLIST_ORDER, *WORKLIST_COLUMNS)
# - the filters, most selective first, for the counts and for a page under a narrow filter.
FILTER_COLUMNS = ("site_id", "triage", "state", "device_id", "modality", "quality_verdict", "dated_at")
Index("results_filters", *FILTER_COLUMNS, results.c.triage_rank, results.c.result_id)

# How many results share each worklist filter value, kept in the transactions that add results or
# change their state (``storage/tallies.py``): the worklist's counts add up these rows, a few per
# device and day, instead of counting every result under the filters on every page load.
result_tallies = Table(
    "result_tallies",
    metadata,
    Column("site_id", String(64), primary_key=True),
    Column("device_id", String(64), primary_key=True),
    Column("modality", String(16), primary_key=True),
    Column("triage", String(16), primary_key=True),
    Column("quality_verdict", String(16), primary_key=True),  # "" for a result without one
    Column("state", String(24), primary_key=True),
    Column("dated_on", Date, primary_key=True),  # the UTC day of the result's ``dated_at`` (migration 0010)
    Column("results", Integer, nullable=False),
)

quarantine = Table(
    "quarantine",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("received_at", UtcDateTime(), nullable=False),
    Column("topic", String(512), nullable=False),
    Column("reason", Text, nullable=False),
    # The first bytes only (QUARANTINE_HEAD_BYTES), so a flood of large junk cannot fill the disk; but
    # the whole of a valid result refused only because its device is not enrolled (migration 0008),
    # at most MAX_RESULT_BYTES: enrolling the device releases it into the results.
    Column("payload", LargeBinary, nullable=False),
    Column("payload_bytes", Integer, nullable=False),
    # The device whose enrolment releases this result; NULL for a message no enrolment can make valid.
    Column("awaiting_device", String(64)),
    # SHA-256 of the topic and the whole payload (migration 0015): each ingester receives every message,
    # and a message refused by several of them, or re-sent by its device, is kept once.
    Column("message_sha256", String(64)),
    # The result id a refused result names, whatever the reason (migration 0024): a patient's erasure
    # removes every copy the station holds, and the head kept of a long one may end before its id.
    Column("result_id", String(32)),
)
Index("quarantine_awaiting_device", quarantine.c.awaiting_device)
Index("quarantine_result_id", quarantine.c.result_id)
Index("quarantine_message_sha256", quarantine.c.message_sha256, unique=True)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("password_hash", String(256), nullable=False),
    Column("role", String(16), nullable=False),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("failed_attempts", Integer, nullable=False, default=0),
    Column("locked_until", UtcDateTime()),
    Column("created_at", UtcDateTime(), nullable=False),
)

# The sites a reviewer's or coordinator's account reads (migration 0012). An account with no row here
# reads every site, as every account did before: a station serving one organisation needs none, and
# an upgrade locks nobody out. Admin accounts always read every site (``accounts.set_sites``).
user_sites = Table(
    "user_sites",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id"), primary_key=True),
    Column("site_id", String(64), primary_key=True),
)

sessions = Table(
    "sessions",
    metadata,
    # Only the token's SHA-256 is stored: a copy of the database does not sign anybody in.
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    # The absolute end, ``session_minutes`` after the sign-in, whatever the reader does; or when its
    # account was disabled, if that came first (``accounts.disable_user``).
    Column("expires_at", UtcDateTime(), nullable=False),
    # The reader's last request (migration 0020), to the minute: the session also ends ``idle_minutes``
    # after it (``accounts.session_user``).
    Column("last_request_at", UtcDateTime(), nullable=False),
    # Its end is in the audit log already (migration 0021): disabling its account ended it, and audited
    # that; the row is kept to tell its reader the session ended, and deleting it audits nothing more.
    Column("end_audited", Boolean, nullable=False, default=False),
)


def _what_a_read_says() -> list[Column[Any]]:
    """A specialist's read (verdict, grading, urgency, comment, when): a fresh set of columns for each
    table that keeps one, the reads and the refused contrary reads."""
    return [
        Column("verdict", String(16), nullable=False),
        Column("icdr_grade", String(16)),
        Column("maculopathy", String(16)),
        Column("diagnosis", String(32)),
        Column("urgency", String(16), nullable=False),
        Column("comment", Text),
        Column("created_at", UtcDateTime(), nullable=False),
    ]


reads = Table(
    "reads",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("review_id", String(64), nullable=False, unique=True),
    Column("result_id", String(32), ForeignKey("results.result_id"), nullable=False),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    # first, second (blind), adjudication, amendment (a coordinator's, of a reviewed result)
    Column("kind", String(16), nullable=False),
    *_what_a_read_says(),
)
Index("reads_result", reads.c.result_id)

contrary_reads = Table(
    "contrary_reads",
    metadata,
    # A complete read refused out of turn (the loser of two readers at once, a stale amendment) that
    # differs in what the patient gets (``verdicts.care_of``) from the read that stood (migration 0014):
    # kept whole, for the result page, and flagged on the worklist until a coordinator settles it
    # (``review_station/contrary.py``). A refused read that agrees in care is only audited.
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("result_id", String(32), ForeignKey("results.result_id"), nullable=False),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    *_what_a_read_says(),
    Column("standing_review_id", String(64), ForeignKey("reads.review_id"), nullable=False),
    # Set when a coordinator settles it: "confirmed" (the read that stands) or "amended", with the read
    # confirmed or the amendment, by whom and when; NULL while it awaits a coordinator.
    Column("settlement", String(16)),
    Column("settled_review_id", String(64), ForeignKey("reads.review_id")),
    Column("settled_by", Integer, ForeignKey("users.id")),
    Column("settled_at", UtcDateTime()),
)
Index("contrary_reads_result", contrary_reads.c.result_id, contrary_reads.c.settled_at)

deliveries = Table(
    "deliveries",
    metadata,
    # One per verdict sent back to a device (edgescreen.review/1), until its review_ack arrives.
    Column("review_id", String(64), primary_key=True),
    Column("result_id", String(32), ForeignKey("results.result_id"), nullable=False),
    Column("topic", String(256), nullable=False),
    Column("payload", LargeBinary, nullable=False),
    # pending (not yet accepted by the broker), sent, stored, duplicate, unknown_result; a device's
    # "conflict" (the id is taken there) renames the row and makes it pending again
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_sent_at", UtcDateTime()),
    Column("updated_at", UtcDateTime(), nullable=False),
    # The payload's ``reviewed_at`` (migration 0011), by which the device orders a result's verdicts:
    # strictly later for each later decision on the result (``verdicts._decision_time``).
    Column("reviewed_at", UtcDateTime(), nullable=False),
    # A coordinator's word that a verdict which could not reach the nurse was passed on another way
    # (migration 0013, ``review_station.undelivered``): it leaves the list of undelivered verdicts.
    Column("handled_at", UtcDateTime()),
    Column("handled_by", String(64)),
)
Index("deliveries_state", deliveries.c.state)
Index("deliveries_result", deliveries.c.result_id, deliveries.c.reviewed_at)

images = Table(
    "images",
    metadata,
    # A photo a device shared, exactly as it arrived: sealed to this station's key, opened only when a
    # signed-in reviewer looks at it. Its digest and size are the ones the result announced.
    Column("result_id", String(32), ForeignKey("results.result_id"), primary_key=True),
    Column("device_id", String(64), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("sealed", LargeBinary, nullable=False),
    Column("received_at", UtcDateTime(), nullable=False),
)

upload_parts = Table(
    "upload_parts",
    metadata,
    # The received prefix of a photo upload in progress (a resumable upload), in the parts that
    # arrived: each request's bytes from its ``Upload-Offset``. Keyed by the result and the digest
    # its result announced; joined, checked and moved to ``images`` once the announced size is
    # reached; purged when left unfinished for ``[uploads] partial_max_age_hours``.
    Column("result_id", String(32), ForeignKey("results.result_id"), primary_key=True),
    Column("sha256", String(64), primary_key=True),
    Column("offset", Integer, primary_key=True, autoincrement=False),
    Column("size", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("received_at", UtcDateTime(), nullable=False),
)

erased_results = Table(
    "erased_results",
    metadata,
    # The tombstone of each result erased here (migration 0023), ids only: a copy of it still on its way
    # (in flight at the broker, queued at a bridge, resent by a device that missed the PUBACK), or one
    # named by its device's erasure before it arrived, is refused on ingest instead of coming back.
    # Keyed by the device too: a device's erasure never stops another device's result; an
    # administrator's for a result not received yet is for any device (``erasure.ANY_DEVICE``).
    Column("result_id", String(32), primary_key=True),
    Column("device_id", String(64), nullable=False),
)

erased_notices = Table(
    "erased_notices",
    metadata,
    # What each device is told the station erased of its own (migration 0025, ``review_station.erased_notices``):
    # ids only, kept for good, as the notice names them all. The device is the one that sent the result
    # (or named it in its erasure): an administrator's tombstone says "any device", and its device would
    # never be told. ``noticed`` once the broker took a notice naming it; an erasure clears it.
    Column("result_id", String(32), primary_key=True),
    Column("device_id", String(64), nullable=False),
    Column("noticed", Boolean, nullable=False, default=False),
    # Since when it is owed, and why the ingester last could not send a notice naming it (a code of
    # ``erased_notices.not_sent``, and the broker's or the library's own words): a notice owed too
    # long is shown on the dashboard and in ``devices list`` (migration 0026).
    Column("owed_at", UtcDateTime(), nullable=False),
    Column("unsent_reason", String(16)),
    Column("unsent_detail", Text),
)
Index("erased_notices_device", erased_notices.c.device_id, erased_notices.c.noticed)

audit = Table(
    "audit",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    # The event's time as the chain rule wrote it (ISO 8601, any offset and precision): the text its hash
    # covers, never compared. ``at_utc`` is the same moment as a time (migration 0019), which the
    # databases order as times, for every query that selects events by when they happened.
    Column("at", String(40), nullable=False),
    Column("at_utc", UtcDateTime(), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("details", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)
# A kind's recent events (migration 0018): a result page reads who else opened it lately from the
# "view" events of the last minutes, not from the whole log (``review_station.opened``); by the time
# as a time since migration 0019.
Index("audit_recent", audit.c.kind, audit.c.at_utc)

meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

ingesters = Table(
    "ingesters",
    metadata,
    # Each ingester's heartbeat (migration 0027, ``review_station.heartbeats``): the pages say a verdict
    # waits for the ingester, not the broker, when none runs. One row per process; a restart on the same
    # host under the same client id takes over its row.
    Column("client_id", String(64), primary_key=True),
    Column("host", String(255), primary_key=True),
    Column("pid", Integer, primary_key=True, autoincrement=False),
    Column("started_at", UtcDateTime(), nullable=False),
    Column("heartbeat_at", UtcDateTime(), nullable=False),
    Column("connected", Boolean, nullable=False),
    Column("stopped", Boolean, nullable=False),
)
