"""Installing a verified bundle so that a power cut at any instant leaves a whole model active.

Layout under the models directory (``[models] directory``)::

    <id>            -> .bundles/<id>-<version>-<digest>     the active model (a symlink)
    .<id>.previous  -> .bundles/<id>-<old version>-<digest> what ``rollback`` returns to
    .bundles/       the installed bundles, each complete before any link points at it
    .bundles/.damaged-<id>-<version>-<digest>-<UTC time>-<random>   an active copy that failed its check, set
                    aside for inspection when its bundle was installed again (``_repair``), the fresh
                    copy then named ``<id>-<version>-<digest>-<random>``

A bundle is copied into a temporary folder, flushed to disk, verified there (so what runs is exactly
what was verified), renamed into ``.bundles/``, and only then is the link switched, by renaming a new
symlink over the old one: ``rename`` is atomic, so the link names the old bundle or the new one,
never neither. Leftovers of an interrupted install are removed when the next one completes.
"""

from __future__ import annotations

import errno
import fcntl
import math
import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from firmware_app.bundles.manifest import (
    STORE,
    BundleError,
    Manifest,
    installed_copy_gone,
    read_manifest,
    verify_bundle,
    version_key,
)
from firmware_app.durable import fsync_directory
from firmware_app.messages import system_reason
from firmware_app.records.database import RequestRefused

TEMPORARY_PREFIX = ".tmp-"
DAMAGED_PREFIX = ".damaged-"
LOCK_FILE = ".lock"
DIGEST_DIGITS = 12  # the manifest digest's hex digits in a bundle's name (``_bundle_name``)
UNIQUE_DIGITS = 8  # the hex digits that make a repair's names its own (``_unique``)
UNIQUE_SUFFIX = f"(-[0-9a-f]{{{UNIQUE_DIGITS}}})?"


class BundleNotCopied(BundleError, RequestRefused):
    """The bundle's copy onto the models' disk failed, so nothing was installed: said in the device's
    language (``own_words``) with the file it failed on and why, and refused as a bundle is."""


class NoRoomForBundle(BundleNotCopied):
    """The models' disk cannot hold the bundle: a refusal about the device's own drive, said in its
    language with the room the bundle needs there."""


class NoRoomToRollBack(BundleError, RequestRefused):
    """The models' disk has no room for the links a rollback makes: nothing switched, said in the
    device's language as a full disk is for an install."""


class Downgrade(BundleError, RequestRefused):
    """A bundle older than the version last active, installed without ``--allow-downgrade``: said in the
    device's language, as it is about the device's own model as much as the bundle given."""


class NoPreviousBundle(BundleError, RequestRefused):
    """No previous bundle to roll back to: said in the device's language, as the rollback's other
    refusals are (``PreviousCopyGone``, ``NoRoomToRollBack``), not in the tool's English alone."""


class PreviousCopyGone(BundleError, RequestRefused):
    """The previous link names a store copy deleted whole: nothing to roll back to, said in the device's
    language as a gone active copy is (``InstalledCopyGone``), not as a copy whose manifest is unreadable."""


class ModelsNotWritable(RequestRefused):
    """The models folder cannot be written by this user or on its file system: nothing was changed,
    said in the device's language with the system's reason."""


@dataclass(frozen=True)
class Switch:
    """What an install, a repair or a rollback did, for the audit log and the operator; a repair also
    why the active copy was refused (``damage``) and where it was set aside (``set_aside``)."""

    action: str
    model_id: str
    version: str
    digest: str
    previous_version: str | None  # none for a first install, and for a repair: its version stays active
    damage: str | None = None
    set_aside: Path | None = None


def _copy_durably(source: Path, target: Path) -> None:
    """Copy a bundle folder and flush every file and folder, so a power cut cannot leave it half-written."""
    shutil.copytree(source, target, copy_function=shutil.copy2)
    for path in sorted(target.rglob("*"), reverse=True):
        if path.is_file():
            with path.open("rb+") as handle:
                os.fsync(handle.fileno())
        else:
            fsync_directory(path)
    fsync_directory(target)


@dataclass(frozen=True)
class _Failure:
    """A file the copy failed on, and why (``errno`` ``None`` when the reason names none)."""

    file: str
    errno: int | None
    reason: str


def _failures(error: OSError, bundle: Path) -> list[_Failure]:
    """What the copy failed on: an ``OSError``'s one (the bundle itself, its folder not made), or each
    file copytree's ``shutil.Error`` gathered, whose reason it keeps as text only ("[Errno 2] No such
    file or directory: '...'"), so the errno is read back from it and said as the system says it."""
    if not isinstance(error, shutil.Error):
        return [_Failure(str(bundle), error.errno, error.strerror or str(error))]
    failures = []
    for source, _target, why in error.args[0]:
        number = re.match(r"\[Errno (\d+)\] ", str(why))
        code = None if number is None else int(number.group(1))
        failures.append(_Failure(str(source), code, str(why) if code is None else os.strerror(code)))
    return failures


def _not_copied(error: OSError, bundle: Path, directory: Path) -> BundleNotCopied:
    """The refusal of a copy that failed: the disk full when any file's copy failed for want of space
    (the room the bundle needs said), else the first file that failed and why; never the list itself."""
    failures = _failures(error, bundle)
    if any(failure.errno == errno.ENOSPC for failure in failures):
        return _no_room(bundle, directory)
    first = failures[0]
    # The system's reason in the device's language (``system_reason``), as every refusal to write says it.
    reason = first.reason if first.errno is None else partial(system_reason, OSError(first.errno, first.reason))
    return BundleNotCopied.saying("models.not_copied", file=first.file, folder=str(directory), reason=reason)


def _no_room(bundle: Path, directory: Path) -> NoRoomForBundle:
    """The models disk too full for ``bundle``: said with the room its copy needs there."""
    said: dict[str, int | str] = {"bundle": str(bundle), "needed": _megabytes(bundle), "folder": str(directory)}
    return NoRoomForBundle.saying("models.no_room", **said)


def damaged_copies(directory: Path) -> dict[Path, int]:
    """The damaged copies repairs set aside, each with its size in whole MB: kept for the technician to
    inspect, never removed by an install, so they are listed (``edgescreen models``) until removed."""
    store = directory / STORE
    return {copy: _megabytes(copy) for copy in sorted(store.glob(f"{DAMAGED_PREFIX}*"))} if store.is_dir() else {}


@dataclass(frozen=True)
class Cleaned:
    """What ``remove_damaged_copies`` did: each copy removed with the MB it freed, each kept with the link
    that names it."""

    removed: dict[Path, int]
    linked: dict[Path, Path]


def remove_damaged_copies(directory: Path) -> Cleaned:
    """Remove the damaged copies repairs set aside (``damaged_copies``), the technician having inspected
    them; under ``exclusive``. They are known by their prefix, which no install gives a copy, and one a
    link of the models directory names (pointed at by hand) is kept: the active and previous copies
    always stay, where an ``rm -r`` typed beside them could delete the active one."""
    named = {link.resolve(): link for link in sorted(directory.iterdir()) if link.is_symlink()}
    removed, linked = {}, {}
    for copy, size in damaged_copies(directory).items():
        if copy.resolve() in named:
            linked[copy] = named[copy.resolve()]
        else:
            shutil.rmtree(copy)
            removed[copy] = size
    fsync_directory(directory / STORE)
    return Cleaned(removed, linked)


def _megabytes(bundle: Path) -> int:
    """The bundle's size in whole MB, rounded up: the room its copy needs, or a kept copy takes."""
    return math.ceil(sum(path.stat().st_size for path in bundle.rglob("*") if path.is_file()) / 2**20)


def _point(directory: Path, links: dict[str, str]) -> None:
    """Make each link name point at its target, in order, each in one atomic rename. Every new link is
    made before the first rename: a disk too full for one (a symlink takes an inode) switches none."""
    made = {name: _new_link(directory, target) for name, target in links.items()}
    for name, temporary in made.items():
        os.replace(temporary, directory / name)
        fsync_directory(directory)


def _new_link(directory: Path, target: str) -> Path:
    temporary = directory / f"{TEMPORARY_PREFIX}link-{uuid.uuid4().hex}"
    os.symlink(target, temporary)
    return temporary


def _switch(directory: Path, model_id: str, links: dict[str, str], full: Callable[[], Exception]) -> None:
    """``_point``, a disk with no room left for a link (one since an install's copy, or for a rollback's
    two) refused as ``full()`` says (called then: an install's measures its bundle), nothing switched,
    rather than a traceback: the links it made are removed, and so is the copy an install or a repair
    had put in the store."""
    try:
        _point(directory, links)
    except OSError as error:
        if error.errno != errno.ENOSPC:
            raise
        _remove_leftovers(directory, model_id)
        raise full() from None


def link_target(directory: Path, link_name: str) -> str | None:
    """Where ``link_name`` points, ``None`` when it is not there; a plain folder in its place is refused:
    nothing of a checkout's models is overwritten, and nothing is read from the bundle it names (a
    damaged copy, its manifest gone, is for its install to repair)."""
    link = directory / link_name
    if link.is_symlink():
        return os.readlink(link)
    if link.exists():
        raise BundleError(
            f"{link} is a plain folder, not an installed bundle: install bundles into a models directory "
            "they manage (the device's /var/lib/edgescreen/models), not into a checkout's models/"
        )
    return None


def _previous_name(model_id: str) -> str:
    return f".{model_id}.previous"


def _remove_leftovers(directory: Path, model_id: str) -> None:
    """Delete interrupted installs' temporary files and bundles no link names any more."""
    store = directory / STORE
    kept = {link_target(directory, name) for name in (model_id, _previous_name(model_id))}
    for path in [*directory.glob(f"{TEMPORARY_PREFIX}*"), *store.glob("*")]:
        is_ours = path.name.startswith((TEMPORARY_PREFIX, f"{model_id}-"))
        if is_ours and f"{STORE}/{path.name}" not in kept:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()


@contextmanager
def exclusive(directory: Path) -> Iterator[None]:
    """One install, rollback or cleaning at a time: each cleans up the others' temporary files. A
    models folder this user may not write (a technician who forgot ``sudo -u edgescreen``) or on a
    file system remounted read-only is refused here, before anything changed, in the device's
    language (``ModelsNotWritable``), not as the traceback of the lock file it cannot open."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        lock = (directory / LOCK_FILE).open("a")
    except OSError as error:
        reason = partial(system_reason, error)
        raise ModelsNotWritable.saying("models.not_writable", folder=str(directory), reason=reason) from error
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _active(directory: Path, model_id: str) -> str | None:
    """Where the active link points, ``None`` when there is none or its copy is gone (deleted whole):
    a gone copy has nothing to repair nor set aside, and is never made the one to roll back to."""
    target = link_target(directory, model_id)
    return None if target is None or installed_copy_gone(directory / model_id) else target


def active_manifest(directory: Path, model_id: str) -> Manifest | None:
    target = _active(directory, model_id)
    return None if target is None else read_manifest(directory / target)


def install_bundle(
    bundle: Path,
    directory: Path,
    keys: dict[str, Any],
    threads: int,
    allow_downgrade: bool = False,
) -> Switch | None:
    """Verify and activate ``bundle``; ``None`` when exactly this bundle is already active."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / STORE).mkdir(exist_ok=True)
    staging = directory / STORE / f"{TEMPORARY_PREFIX}{uuid.uuid4().hex}"
    try:
        try:
            _copy_durably(bundle, staging)
        except OSError as error:  # shutil.Error too: a full disk, above all
            raise _not_copied(error, bundle, directory) from None
        try:
            manifest = verify_bundle(staging, keys, threads)
        except BundleError as error:  # named as the technician gave it, not as its staging copy
            raise BundleError(str(error).replace(str(staging), str(bundle))) from None
        active = _active(directory, manifest.model_id)
        if _installed_from(active, manifest):
            return _repair(directory, bundle, staging, manifest, keys, threads)
        last = _last_version(directory, manifest.model_id, active)
        downgrade = _downgrade(directory, bundle, manifest, last, gone=active is None)
        if downgrade is not None and not allow_downgrade:
            raise downgrade
        name = _bundle_name(manifest)
        final = directory / STORE / name
        if final.exists():  # the same bundle installed before (now the previous one): swap in the fresh copy
            os.rename(final, directory / STORE / f"{TEMPORARY_PREFIX}{uuid.uuid4().hex}")
        os.rename(staging, final)
        fsync_directory(directory / STORE)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    links = {} if active is None else {_previous_name(manifest.model_id): active}
    _switch(
        directory,
        manifest.model_id,
        links | {manifest.model_id: f"{STORE}/{name}"},
        partial(_no_room, bundle, directory),
    )
    _remove_leftovers(directory, manifest.model_id)
    return Switch("install", manifest.model_id, manifest.version, manifest.digest, last)


def _last_version(directory: Path, model_id: str, active: str | None) -> str | None:
    """The version last active: the active copy's (``active``, ``_active``), or, that copy deleted whole,
    the one its link's name records (``_gone_version``). What an install or a rollback checks a downgrade
    against, and says and audits as the version before it: a deleted copy's read as none, as if nothing
    had been active."""
    if active is not None:
        return read_manifest(directory / active).version
    return _gone_version(directory / model_id)


def _downgrade(directory: Path, bundle: Path, manifest: Manifest, last: str | None, gone: bool) -> Downgrade | None:
    """The refusal of ``manifest`` when it is older than ``last``, the version last active
    (``_last_version``); ``gone`` when the active copy was deleted whole, which the refusal names: checked
    against the active copy's manifest alone, a deleted copy let any older bundle in unasked."""
    if last is None or version_key(manifest.version) >= version_key(last):
        return None
    said = {"bundle": str(bundle), "model": manifest.model_id, "version": manifest.version, "active": last}
    if not gone:
        return Downgrade.saying("models.downgrade", **said)
    return Downgrade.saying("models.downgrade_gone", copy=str((directory / manifest.model_id).resolve()), **said)


def _gone_version(link: Path) -> str | None:
    """The version of the copy ``link`` names when that copy was deleted whole, read from the name its
    install gave it (``_bundle_name``): the link stays when the copy is gone, and its name is the models
    directory's one record of the version last active. ``None`` when the copy is there or not linked, or
    the link was pointed by hand at a name no install gives."""
    if not installed_copy_gone(link):
        return None
    version = r"(?P<version>[0-9]+(\.[0-9]+)*)"
    pattern = rf"{re.escape(link.name)}-{version}-[0-9a-f]{{{DIGEST_DIGITS}}}{UNIQUE_SUFFIX}"
    named = re.fullmatch(pattern, Path(os.readlink(link)).name)
    return None if named is None else named["version"]


def _repair(
    directory: Path, bundle: Path, staging: Path, manifest: Manifest, keys: dict[str, Any], threads: int
) -> Switch | None:
    """Put the verified ``staging`` copy of the active bundle in place of the active copy when that one
    fails its check (a card edited after the install), ``None`` when it passes: comparing manifests
    alone said "nothing changed" and left the model refused, with nothing to roll back to.

    The fresh copy takes a name of its own, so one rename of the link switches to it, as an install
    does; the previous bundle stays the one to roll back to. The damaged copy is then set aside under
    a name no cleanup touches: someone changed a model's files, and the technician looks at what."""
    link = directory / manifest.model_id
    try:
        verify_bundle(link, keys, threads)
        return None
    except BundleError as error:
        damage = str(error)
    damaged = directory / os.readlink(link)
    fresh = f"{STORE}/{_unique(_bundle_name(manifest))}"
    os.rename(staging, directory / fresh)
    fsync_directory(directory / STORE)
    _switch(directory, manifest.model_id, {manifest.model_id: fresh}, partial(_no_room, bundle, directory))
    set_aside = directory / STORE / _unique(f"{DAMAGED_PREFIX}{damaged.name}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}")
    os.rename(damaged, set_aside)
    fsync_directory(directory / STORE)
    _remove_leftovers(directory, manifest.model_id)
    return Switch("repair", manifest.model_id, manifest.version, manifest.digest, None, damage, set_aside)


def _bundle_name(manifest: Manifest) -> str:
    return f"{manifest.model_id}-{manifest.version}-{manifest.digest[:DIGEST_DIGITS]}"


def _installed_from(target: str | None, manifest: Manifest) -> bool:
    """Whether the active copy at ``target`` was installed from the bundle of ``manifest``, by the name
    its install gave it (``_bundle_name``, a repair's ``_unique`` after it): what its own manifest says
    now proves nothing, a changed manifest naming another digest, and it is checked in full (``_repair``)."""
    if target is None:
        return False
    return re.fullmatch(re.escape(_bundle_name(manifest)) + UNIQUE_SUFFIX, Path(target).name) is not None


def _unique(name: str) -> str:
    """``name`` made a repair's own: the same bundle can be repaired again, within the same second too."""
    return f"{name}-{uuid.uuid4().hex[:UNIQUE_DIGITS]}"


def rollback(directory: Path, model_id: str, keys: dict[str, Any], threads: int) -> Switch:
    """Make the previous bundle active again (verified first), and the current one the previous; a current
    copy that is gone is not: nothing is left to roll back to then. A previous copy that is gone is refused
    as such (``PreviousCopyGone``), before its verification would call its manifest unreadable; its link is
    left in place: nothing else reads it (``models`` and the health checks read the active links alone), it
    is what lets the refusal, asked again, say the copy is gone rather than that there never was one, a
    refusal changes nothing (nor audits a removal), and the next install over a whole active copy points it
    at that copy. Both links
    naming one copy (a power cut between a rollback's renames, the active one not switched) leave nothing
    to roll back to either: switching that copy to itself would audit a rollback that changed nothing, and
    remove the copy the cut one meant to return to as a leftover."""
    previous = link_target(directory, _previous_name(model_id))
    if previous is None or link_target(directory, model_id) in (None, previous):
        raise NoPreviousBundle.saying("models.no_previous_bundle", folder=str(directory), model=model_id)
    if installed_copy_gone(directory / _previous_name(model_id)):
        gone = str(directory / previous)
        raise PreviousCopyGone.saying("models.previous_gone", model=model_id, copy=gone)
    manifest = verify_bundle(directory / previous, keys, threads)
    current = _active(directory, model_id)
    current_version = _last_version(directory, model_id, current)
    links = {model_id: previous} if current is None else {_previous_name(model_id): current, model_id: previous}
    full = partial(NoRoomToRollBack.saying, "models.no_room_rollback", model=model_id, folder=str(directory))
    _switch(directory, model_id, links, full)
    if current is None:  # the previous link named what is now active: a second rollback would change nothing
        (directory / _previous_name(model_id)).unlink()
        fsync_directory(directory)
    _remove_leftovers(directory, model_id)
    return Switch("rollback", model_id, manifest.version, manifest.digest, current_version)
