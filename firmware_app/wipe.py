"""``edgescreen wipe``: make what a device kept about patients unreadable before it leaves a clinic
(decommissioned, sold, sent for repair, or re-assigned to another site).

The key goes first (crypto-erase): its file is overwritten in place with random bytes, flushed,
then removed. Every sealed value (patient references, notes, photos), wherever a copy of it lies
(the records' freed pages, an old WAL, a backup on a USB drive), is then unreadable for good, even
if the steps after it are cut short. ``rm`` alone frees the key's blocks with the key still in them:
a copy of the card found it in 0.4 s. Then every file in the records' folder (the records, their
WAL and shared memory, their witness and ledger of erasures, a restore's staged copy, backups and old
records a technician put there) is overwritten with zeros in place, flushed and removed; the
installed models, which identify nobody, stay, so a re-assigned device still starts.

What no program can promise on flash: an SD card or an SSD maps each write to fresh cells
(wear-levelling) and keeps the old ones until it reuses them, and a copy-on-write or log-structured
file system (btrfs, f2fs) writes an overwrite elsewhere too. The overwrite defeats a copy of the
card taken through its block device (``dd``, what the review's carving read); only full-disk
encryption with a key not on the card, or destroying the card, defeats reading the chips
themselves. ``scripts/install-device --purge`` runs this, then ``fstrim`` (README, "A lost or
stolen device").

Patients' erasures still to be sent to the review station refuse a wipe: the records are their one
copy. A device that can never reach its station again (its broker gone, decommissioned with no
network) would then never be wiped, and keep its patients' data for good, which is worse for them
than the station keeping results its administrator can be told to erase: so a wipe may write them
out first, as the station's commands (``unsent_erasures``), to a file the wipe does not erase.
Results the broker has not taken yet refuse it too: no clinician has seen them, and the records are
their one copy. So do the photos shared with the station's specialists that wait to be uploaded,
and those the station refused, kept for ``sync retry-photos``: the specialist who is to read one
would never get it. No file carries results or photos to the station (it imports none), so a device
that can never send them is wiped only when the technician says they are to be lost
(``discard_unsent_results``), and the wipe says how many were.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from edgescreen_wire.erasure import ErasureRequest, parse_erasure
from firmware_app.config import LANGUAGES, PROJECT_ROOT
from firmware_app.durable import create_durably, fsync_directory
from firmware_app.events import log_event
from firmware_app.messages import message, sentence, system_reason
from firmware_app.records.audit import NO_EXPORTS, Exports, exports
from firmware_app.records.database import RecordsError, RequestRefused, present
from firmware_app.records.outbox import Outbox
from firmware_app.records.presence import RecordsGone, marked
from firmware_app.records.store import Records
from firmware_app.records.uploads import UploadQueue
from firmware_app.sync.lock import WorkerLock

CHUNK = 1 << 20


class NotErased(RecordsError):
    """The files a wipe could not erase, each with the system's reason: its English is the log line's,
    the command line says it in the device's language (``said_in``), the reason as every refusal says
    one (``system_reason``), never the system's English inside a French sentence."""

    def __init__(self, failed: Sequence[tuple[Path, OSError]]) -> None:
        self.failed = tuple(failed)
        super().__init__(self.said_in("en"))

    def said_in(self, language: str) -> str:
        files = "; ".join(
            sentence("wipe.not_erased_file", language, path=str(path), reason=system_reason(error, language))
            for path, error in self.failed
        )
        return sentence("wipe.not_erased", language, files=files)


@dataclass(frozen=True)
class Wiped:
    """What a wipe did: whether the key was crypto-erased, the files overwritten and removed, the ones
    it could not erase (with why), and the folder left in place (the installed models)."""

    key_erased: bool
    files: int
    failed: tuple[tuple[Path, OSError], ...]  # each file not erased, and why (``NotErased``)
    kept: Path | None
    # The records could not be read (``_owed``): the results, photos and erasure requests they held
    # unsent are gone with them, uncounted (none is 0: the counts below are of records that read).
    owed_unread: bool = False
    # The erasure requests written out for the station's administrator (``unsent_erasures``).
    erasures_written: int = 0
    # The results erased before the broker took them (``discard_unsent_results``): no clinician will see them.
    results_discarded: int = 0
    # The photos erased before the station had them, waiting or refused (``discard_unsent_results``): no
    # specialist will get them.
    photos_discarded: int = 0
    # The decrypted copies the audit log saw made (``audit.exports``), which the wipe does not reach;
    # none counted when the records could not be read (``owed_unread``).
    exported: Exports = NO_EXPORTS


@dataclass(frozen=True)
class Owed:
    """What the records alone hold for the review station: the patients' erasure requests, how many
    results the broker has not taken yet (``sync status``'s backlog: those withheld as altered, never
    to be sent, are not counted, as a request withheld is not), and how many shared photos the uploader
    will yet send and the station refused (``UploadQueue.owed``: none of a result never to be sent)."""

    erasures: tuple[ErasureRequest, ...]
    results: int
    photos: int
    photos_refused: int
    # Not owed, but read with them before the records go: the decrypted copies the audit log saw made.
    exported: Exports = NO_EXPORTS

    @property
    def photos_unsent(self) -> int:
        """The photos a discard loses, waiting or refused: the station has none of them."""
        return self.photos + self.photos_refused


NOTHING_OWED = Owed((), 0, 0, 0)


def _overwrite(path: Path, fill: Callable[[int], bytes]) -> None:
    """Write over ``path``'s bytes in place (no truncation: the same blocks), flush, then remove it."""
    size = path.stat().st_size
    with path.open("r+b", buffering=0) as file:
        for start in range(0, size, CHUNK):
            file.write(fill(min(CHUNK, size - start)))
        os.fsync(file.fileno())
    path.unlink()


def _erase(path: Path, fill: Callable[[int], bytes], failed: list[tuple[Path, OSError]]) -> bool:
    """Overwrite and remove one file (a link is removed, never followed); ``False`` and why, in
    ``failed``, when it cannot be."""
    try:
        if path.is_symlink() or not path.is_file():
            path.unlink()
        else:
            _overwrite(path, fill)
    except FileNotFoundError:
        return False
    except OSError as error:
        failed.append((path, error))
        return False
    return True


def _files(folder: Path, keep: Path | None) -> Iterator[Path]:
    """Every file under ``folder`` but those under ``keep``; links are listed, never followed."""
    for directory, subfolders, names in os.walk(folder, topdown=True):
        subfolders[:] = [name for name in subfolders if keep is None or Path(directory, name) != keep]
        yield from (Path(directory, name) for name in names)


def _remove_empty_folders(folder: Path, keep: Path | None) -> None:
    for directory, _, _ in sorted(os.walk(folder), key=lambda entry: -len(entry[0])):
        path = Path(directory)
        if path != folder and (keep is None or not keep.is_relative_to(path)):
            try:
                path.rmdir()
            except OSError:
                continue  # holds what could not be erased: named in ``failed`` already


def _refuse_shared_folder(folder: Path) -> None:
    """The records' folder is wiped whole, so it must be theirs alone: never the code's or a home."""
    resolved = folder.resolve()
    if PROJECT_ROOT.resolve().is_relative_to(resolved) or resolved == Path.home().resolve():
        raise RequestRefused.saying("refused.wipe_shared_folder", folder=str(folder))


def _owed(database: Path, key_file: Path) -> Owed | None:
    """What the broker has not taken yet (``Owed``): wiped, the station would keep the erased patients'
    results for good (``records/erasure_outbox.py``), and never receive the unsent ones. ``None`` for
    records that cannot be read (damaged; a missing key does not stop this read, which opens no sealed
    value): a device must still be wiped before it leaves, and the wipe says what that loses
    (``Wiped.owed_unread``)."""
    if not present(database):
        return NOTHING_OWED
    try:
        records = Records(database, key_file, read_only=True, must_exist=True)
        try:
            outbox = Outbox(records)
            waiting, _ = outbox.erasures_to_send()
            erasures = tuple(parse_erasure(row.payload) for row in waiting)  # each passed it: none is altered
            photos = UploadQueue(records).owed()
            unsent = outbox.backlog().unsent
            return Owed(erasures, unsent, photos.waiting, photos.refused, exports(records.connection))
        finally:
            records.close()
    except (RecordsError, sqlite3.Error) as error:  # opening them, or reading the requests
        log_event("wipe.owed_unread", logging.WARNING, error=error)
        return None


def _station_commands(requests: Sequence[ErasureRequest]) -> str:
    """The erasures no network will carry, as the station's administrator runs them: one
    ``edgescreen-review results erase`` a request, under the device id its results were sent with
    (the station erases the ids for any device; the id says whose they were). Said in every language:
    the administrator may not read the device's."""
    header = [f"# {message('wipe.unsent_erasures_file', language)}" for language in LANGUAGES]
    commands = [
        f"# device_id: {request.device_id}\nedgescreen-review results erase {' '.join(request.result_ids)}"
        for request in requests
    ]
    return "\n".join([*header, *commands]) + "\n"


def _refuse_unsent_erasures_file(path: Path, folder: Path) -> None:
    """The file must outlive the wipe, and keep what another wipe wrote in it (one USB drive, one name,
    several devices decommissioned in turn): never in the records' folder, never an existing file.
    Checked before the records are read, so a wipe with nothing to write is refused too; one made after
    this check is refused by the write itself (``_write_unsent_erasures``)."""
    if path.resolve().is_relative_to(folder.resolve()):
        raise RequestRefused.saying("refused.wipe_unsent_erasures_inside", file=str(path), folder=str(folder))
    if path.exists() or path.is_symlink():
        raise RequestRefused.saying("refused.wipe_unsent_erasures_exists", file=str(path))


def _write_unsent_erasures(path: Path, requests: Sequence[ErasureRequest]) -> None:
    """Write ``requests`` to ``path`` for good before anything is erased, or refuse the wipe with the
    system's reason (a drive not mounted, read-only or full). The log says how many and where, never
    the ids: those are in the file alone. A file made at ``path`` since the wipe's check (another wipe
    onto the same drive) is refused as any existing one, never replaced."""
    try:
        create_durably(path, _station_commands(requests).encode())
    except FileExistsError:
        raise RequestRefused.saying("refused.wipe_unsent_erasures_exists", file=str(path)) from None
    except OSError as error:
        reason = partial(system_reason, error)
        raise RequestRefused.saying("refused.wipe_unsent_erasures_unwritable", file=str(path), reason=reason) from None
    log_event("wipe.unsent_erasures_written", logging.WARNING, count=len(requests), file=path)


def _refused_unsent(owed: Owed) -> RequestRefused:
    """The results and the photos waiting and the photos refused, named in one refusal: the technician
    who adds ``--discard-unsent-results`` knows all it loses, and is told to queue the refused ones
    again (``sync retry-photos``) when there are any."""
    kinds = [
        (refusal, part, count)
        for refusal, part, count in (
            ("refused.wipe_results_unsent", "wipe.results_waiting", owed.results),
            ("refused.wipe_photos_unsent", "wipe.photos_waiting", owed.photos),
            ("refused.wipe_photos_refused", "wipe.photos_refused", owed.photos_refused),
        )
        if count
    ]
    if len(kinds) == 1:
        refusal, _, count = kinds[0]
        return RequestRefused.saying(refusal, count=count)
    parts = [partial(sentence, part, count=count) for _, part, count in kinds]
    if not owed.photos_refused:
        return RequestRefused.saying("refused.wipe_results_and_photos_unsent", results=parts[0], photos=parts[1])

    def waiting(language: str) -> str:
        return ", ".join(part(language) for part in parts[:-1])

    return RequestRefused.saying("refused.wipe_unsent_and_photos_refused", owed=waiting, refused=parts[-1])


def _settle(database: Path, key_file: Path, unsent_erasures: Path | None, discard_unsent_results: bool) -> Owed | None:
    """What the records owe the station (``_owed``), the wipe refused unless the technician said what
    becomes of each: the erasures written to ``unsent_erasures``, the results and photos lost (logged,
    counted). Both refusals come before the file is written: a refusal after it would leave the file
    there, and the wipe run again with both options would be refused for it
    (``_refuse_unsent_erasures_file``)."""
    owed = _owed(database, key_file)
    if owed is None:
        return None
    if owed.erasures and unsent_erasures is None:
        raise RequestRefused.saying("refused.wipe_erasures_queued", count=len(owed.erasures))
    if (owed.results or owed.photos_unsent) and not discard_unsent_results:
        raise _refused_unsent(owed)
    if owed.erasures and unsent_erasures is not None:  # refused above without it
        _write_unsent_erasures(unsent_erasures, owed.erasures)
    if owed.results:
        log_event("wipe.unsent_results_discarded", logging.WARNING, count=owed.results)
    if owed.photos_unsent:
        log_event("wipe.unsent_photos_discarded", logging.WARNING, count=owed.photos_unsent)
    return owed


def wipe(
    database: Path,
    key_file: Path,
    models: Path | None,
    marker: Path | None = None,
    unsent_erasures: Path | None = None,
    discard_unsent_results: bool = False,
) -> Wiped:
    """Crypto-erase ``key_file``, then overwrite and remove every file in ``database``'s folder but
    the ``models`` folder, and last the ``marker`` naming the records, wherever it is kept (left, a
    re-assigned device's first start would be refused as records gone); refused while this device's
    sync worker runs (it would write on), while patients' erasures wait to be sent to the review
    station unless they are written to ``unsent_erasures`` first, while results or photos wait to be sent unless
    ``discard_unsent_results`` says they are to be lost (``_settle``), and while the
    marker names records gone with their key (a records drive not mounted): the wipe erased nothing of
    them then, yet removed the marker and said it was done, and the device's next start made new
    records over the drive's mount point."""
    folder = database.parent
    _refuse_shared_folder(folder)
    if not present(database) and not key_file.exists() and marked(marker, database):
        raise RecordsGone.saying("refused.wipe_records_gone", path=str(database), marker=str(marker))
    if unsent_erasures is not None:
        _refuse_unsent_erasures_file(unsent_erasures, folder)
    lock = WorkerLock(database)
    if folder.is_dir() and not lock.acquire():
        raise RequestRefused.saying("refused.wipe_worker_running")
    try:
        owed = _settle(database, key_file, unsent_erasures, discard_unsent_results)
        failed: list[tuple[Path, OSError]] = []
        key_copies = [key_file, *key_file.parent.glob(f".{key_file.name}.*.tmp")]  # a key being created
        key_erased = sum(_erase(path, os.urandom, failed) for path in key_copies) > 0
        if key_file.parent.is_dir():
            fsync_directory(key_file.parent)
        keep = models.resolve() if models is not None and models.resolve().is_relative_to(folder.resolve()) else None
        files = 0
        if folder.is_dir():
            files = sum(_erase(path, bytes, failed) for path in _files(folder.resolve(), keep))
            _remove_empty_folders(folder.resolve(), keep)
            fsync_directory(folder)
        if marker is not None and marker.exists():
            _erase(marker, bytes, failed)
    finally:
        lock.release()
    settled = owed or NOTHING_OWED  # records that could not be read: ``owed_unread`` says what went with them
    erasures, results, photos = len(settled.erasures), settled.results, settled.photos_unsent
    return Wiped(key_erased, files, tuple(failed), keep, owed is None, erasures, results, photos, settled.exported)
