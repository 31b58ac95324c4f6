"""The ``edgescreen-review`` command line: the ingester, the web app, and the administrators' tools.

Every line it prints for a person is in the station's language (``[web] language``, the pages' until a
reader chooses), from the station's catalogue (``review_station/words.py``), as the device's command
line speaks ``[device] language``, argparse's refusals of a command line too (``typed_argument``); JSON,
the export, the usage line and ``--help``, and the system's own words (a database's, a key file it
cannot use, a configuration problem) stay as they are.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import json
import logging
import os
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from edgescreen_wire.pem_keys import KeyRefusal
from edgescreen_wire.sealed_image import SealError
from edgescreen_wire.verdict_signature import VerdictKeyError
from firmware_app.durable import create_whole_durably
from firmware_app.events import log_event, setup_logging
from firmware_app.messages import message
from firmware_app.records.database import RequestRefused, output_problem
from firmware_app.service.hang_up import HangUpStopsServer
from firmware_app.service.reader_gone import quiet_when_reader_gone
from firmware_app.service.termination import stop_on_termination
from firmware_app.typed_argument import configured_language, speaking
from review_station import accounts, audit, devices
from review_station.config import ConfigError, ReviewConfig, load_review_config, station_error_languages
from review_station.erased_notices import Unsent, unsent_notices
from review_station.heartbeats import Heard, station_heard
from review_station.ingest.release import Released
from review_station.refused import Refused
from review_station.storage.database import DatabaseError, open_database
from review_station.verdicts import resend_verdicts
from review_station.words import code, moment, plural, refusal, say, unsent_why

EXIT_REFUSED, EXIT_CONFIG, EXIT_DATABASE, EXIT_AUDIT = 1, 2, 3, 4
OPERATOR = "cli"  # who the audit log names for acts done at the station's console


def _ingest(config: ReviewConfig, engine: Engine, args: argparse.Namespace) -> int:
    """Receive until SIGTERM, Ctrl-C or a closed terminal (``stop_on_termination``, as the device's
    sync worker stops), then say what was stored: a closed terminal killed it where it stood."""
    from review_station.ingest.ingester import Ingester, verdict_signer

    signer = verdict_signer(config.verdicts.private_key_file)
    with stop_on_termination(config.web.language) as stop:
        ingester = Ingester(engine, config.broker, signer=signer, stop=stop)
        log_event("review.ingest_start", broker=f"{config.broker.host}:{config.broker.port}")
        ingester.run()
    log_event("review.ingest_stop", stored=ingester.totals.stored, quarantined=ingester.totals.quarantined)
    return 0


def _serve(config: ReviewConfig, engine: Engine, args: argparse.Namespace) -> int:
    """The web app until Ctrl-C, SIGTERM or a closed terminal (``HangUpStopsServer``), each a graceful
    shutdown; exit status 3 when it could not start (the port taken), as ``uvicorn.run`` gave."""
    import uvicorn
    from uvicorn.main import STARTUP_FAILURE

    from review_station.web.app import create_app

    log_event("review.web_start", host=config.web.host, port=config.web.port)
    app = create_app(config, engine)
    server = HangUpStopsServer(uvicorn.Config(app, host=config.web.host, port=config.web.port, log_level="warning"))
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn hands Ctrl-C back once shut down
        server.run()
    return 0 if server.started else STARTUP_FAILURE


def _uploads(config: ReviewConfig, engine: Engine, args: argparse.Namespace) -> int:
    from review_station.uploads import create_upload_app, upload_server

    server = upload_server(config, create_upload_app(config, engine))
    log_event("review.uploads_start", host=config.uploads.host, port=config.uploads.port)
    server.run()
    return 0


def _images(config: ReviewConfig, engine: Engine, args: argparse.Namespace) -> int:
    from edgescreen_wire.sealed_image import write_key_pair
    from review_station import images

    language = config.web.language
    if args.action == "keygen":
        public = Path(args.public)
        write_key_pair(config.images.private_key_file, public)
        print(say("cli.key_made", language, private=config.images.private_key_file, public=public))
    elif args.action == "purge":
        deleted = images.purge(engine, config.images.retention_days)
        print(say(plural("cli.photos_purged", deleted, language), language, count=deleted))
    elif images.erase(engine, args.result, by=OPERATOR):
        print(say("cli.photo_erased", language, result=args.result))
    else:
        print(say("cli.no_photo", language, result=args.result))
    return 0


def _results(config: ReviewConfig, engine: Engine, args: argparse.Namespace) -> int:
    from review_station.erasure import erase_results

    language, done = config.web.language, erase_results(engine, args.result, by=OPERATOR)
    if done.erased:
        erased = len(done.erased)
        print(
            say(plural("cli.results_erased", erased, language), language, count=erased, results=" ".join(done.erased))
        )
    if done.already:
        already = plural("cli.results_erased_before", len(done.already), language)
        print(say(already, language, results=" ".join(done.already)))
    if done.quarantined:
        print(say("cli.results_quarantine_erased", language, results=" ".join(done.quarantined)))
    if done.unknown:
        print(say("cli.results_unknown", language, results=" ".join(done.unknown)))
        return 1
    return 0


def _verdicts(config: ReviewConfig, engine: Engine, args: argparse.Namespace) -> int:
    from edgescreen_wire.verdict_signature import write_key_pair

    public = Path(args.public)
    write_key_pair(config.verdicts.private_key_file, public)
    print(say("cli.key_made", config.web.language, private=config.verdicts.private_key_file, public=public))
    return 0


def _devices(config: ReviewConfig, engine: Engine, args: argparse.Namespace) -> int:
    language = config.web.language
    if args.action == "add":
        released = devices.enrol(engine, args.device, args.site, by=OPERATOR)
        words = _released_words(released, language)
        print(say("cli.enrolled", language, device=args.device, site=args.site, released=words))
    elif args.action == "retire":
        devices.retire(engine, args.device, by=OPERATOR)
        print(say("cli.retired", language, device=args.device))
    elif args.action == "resend-verdicts":
        count = resend_verdicts(engine, args.device, by=OPERATOR)
        key = plural("cli.resent", count, language) if count else "cli.resent_none"
        print(say(key, language, count=count, device=args.device))
    else:
        with engine.connect() as connection:
            known = devices.all_devices(connection)
            overdue = unsent_notices(connection, config.dashboard.unsent_notice_alert_h)
            heard = station_heard(connection, config.dashboard.ingester_alert_s)
        unsent = {item.device_id: item for item in overdue}
        for device in known:
            owed = unsent.get(device.device_id)
            row = {
                "device": device.device_id,
                "site": device.site_id,
                "active": device.active,
                "status": device.status,
                "last_seen": _instant(device.last_seen_at),
            }
            if args.json:
                print(json.dumps(row | {"unsent_notice": _unsent_notice(owed) if owed else None}))
                continue
            print("  ".join(f"{k}={v}" for k, v in row.items()))
            if owed:
                print(_unsent_line(owed, heard, language))
    return 0


def _unsent_notice(owed: Unsent) -> dict[str, object]:
    """A device's erasure notice owed too long, as ``devices list --json`` gives it: codes and times."""
    return {"results": owed.results, "since": _instant(owed.since), "reason": owed.reason, "detail": owed.detail}


def _unsent_line(owed: Unsent, heard: Heard, language: str) -> str:
    """The same for a person, in the station's language, on the line after its device's; a reason not
    known says whether the ingester runs (``heartbeats``)."""
    key = plural("cli.unsent_notice", owed.results, language)
    why = unsent_why(owed.reason, owed.detail, language, heard)
    return say(key, language, device=owed.device_id, count=owed.results, since=moment(owed.since, language), why=why)


def _released_words(released: Released, language: str) -> str:
    """What the enrolment brought in from quarantine, for the admin who ran it."""
    words = say("cli.released", language, count=released.stored)
    if released.released > released.stored:
        words += say("cli.released_repeats", language, count=released.released - released.stored)
    if released.kept:
        words += say("cli.released_kept", language, count=released.kept)
    return words


def _read_password(language: str) -> str:
    """From a terminal: asked twice, not echoed. Piped: the first line of standard input."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    first, second = getpass.getpass(say("cli.password", language)), getpass.getpass(say("cli.password_again", language))
    if first != second:
        raise accounts.AccountError("the two passwords differ", "passwords_differ")
    return first


def _sites_words(sites: frozenset[str], language: str) -> str:
    return ", ".join(sorted(sites)) if sites else say("cli.every_site", language)


def _account_state(account: accounts.Account, language: str) -> str:
    """Why an account cannot sign in now, as ``users list`` marks it: disabled, or locked after wrong
    passwords until when (in UTC, as the station's pages give times). A disabled account's lockout is
    not shown: ``users enable`` lifts it."""
    if account.disabled:
        return say("cli.user_disabled_mark", language)
    if account.locked_until is not None:
        return say("cli.user_locked_mark", language, when=moment(account.locked_until, language))
    return ""


def _account_line(account: accounts.Account, language: str) -> str:
    """An account as ``users list`` prints it for a person: name, role, sites and last sign-in in the
    station's words."""
    role, sites = code("role", account.role, language), _sites_words(account.sites, language)
    return f"{account.username}\t{role}\t{sites}{_account_state(account, language)}\t{_last_seen(account, language)}"


def _last_seen(account: accounts.Account, language: str) -> str:
    """When the account last signed in, in UTC as the station's pages give times, or that it never
    did: an account nobody uses any more is one to disable."""
    if account.last_sign_in is None:
        return say("cli.user_never_signed_in", language)
    return say("cli.user_last_sign_in", language, when=moment(account.last_sign_in, language))


def _instant(moment: datetime | None) -> str | None:
    """A moment as the ``--json`` listings give it to scripts: ISO 8601 with its microseconds always
    (``isoformat`` alone leaves them out on a whole second, a shape of its own), or None."""
    return moment.isoformat(timespec="microseconds") if moment is not None else None


def _account_codes(account: accounts.Account) -> dict[str, object]:
    """An account as ``users list --json`` prints it, for scripts: codes, not the station's words (a
    French station's table says "relecteur"), so a script reads it whatever ``[web] language`` is."""
    return {
        "user": account.username,
        "role": account.role,
        "sites": sorted(account.sites) or None,  # None: every site
        "disabled": account.disabled,
        "locked_until": _instant(account.locked_until),
        "last_sign_in": _instant(account.last_sign_in),
    }


def _users(config: ReviewConfig, engine: Engine, args: argparse.Namespace) -> int:
    language = config.web.language
    if args.action == "add":
        sites = frozenset(args.site)
        accounts.add_user(engine, args.user, _read_password(language), args.role, by=OPERATOR, sites=sites)
        role = code("role", args.role, language)
        print(say("cli.user_added", language, user=args.user, role=role, sites=_sites_words(sites, language)))
    elif args.action == "sites":
        sites = frozenset(args.site)
        accounts.set_sites(engine, args.user, sites, by=OPERATOR)
        print(say("cli.user_sites", language, user=args.user, sites=_sites_words(sites, language)))
    elif args.action == "list":
        for account in accounts.list_users(engine):
            print(json.dumps(_account_codes(account)) if args.json else _account_line(account, language))
    elif args.action == "enable":
        lifted = accounts.enable_user(engine, args.user, by=OPERATOR)
        lock = say("cli.user_lock_lifted", language) if lifted else ""
        print(say("cli.user_enabled", language, user=args.user) + lock)
    elif args.action == "unlock":
        accounts.unlock_user(engine, args.user, by=OPERATOR)
        print(say("cli.user_unlocked", language, user=args.user))
    else:
        accounts.disable_user(engine, args.user, by=OPERATOR, settings=config.web)
        print(say("cli.user_disabled", language, user=args.user))
    return 0


def _export(config: ReviewConfig, engine: Engine, args: argparse.Namespace) -> int:
    """The export to standard output, or to a new ``--out``: a file or a link there (an earlier export,
    lost without a word when written over) is refused before anything is exported or audited, as the
    device's export and backup refuse theirs."""
    from review_station.export import export

    out = Path(args.out) if args.out else None
    if out is not None and os.path.lexists(out):
        raise _out_exists(out)
    if out is None:  # audited before it is written (``export``): what a pipe took cannot be taken back
        sys.stdout.write(export(engine, args.format, args.site, args.start, args.end, by=OPERATOR))
    else:
        _export_to(out, engine, args)
    return 0


def _export_to(out: Path, engine: Engine, args: argparse.Namespace) -> None:
    """The export written whole at ``out`` before it is audited, in the export's transaction
    (``export``'s ``deliver``): a write refused leaves no event, nothing having been exported, and a
    file whose event the database then refuses is removed, so no export leaves the station unaudited."""
    from review_station.export import export

    written = False

    def write(text: str) -> None:
        nonlocal written
        _write_export(out, text)
        written = True

    try:
        export(engine, args.format, args.site, args.start, args.end, by=OPERATOR, deliver=write)
    except BaseException:
        if written:
            with contextlib.suppress(OSError):  # the database's refusal is what the user must read
                out.unlink()
        raise


def _write_export(out: Path, text: str) -> None:
    """``text`` at ``out``, whole and for good, never over a file made there since ``_export`` found
    the name free (another export to it, a copy): refused alike (``create_whole_durably``). A folder
    not there, one that cannot be written, a full disk: refused as the device refuses its own exports'
    (``output_problem``), nothing left there. Made 0600, as the device's exported photos: it holds
    specialists' verdicts on patients' results, pseudonymous but health data, for its owner alone."""
    try:
        create_whole_durably(out, text.encode("utf-8"), permissions=0o600)
    except FileExistsError:
        raise _out_exists(out) from None
    except OSError as error:
        raise output_problem(out, error) from error


def _out_exists(out: Path) -> Refused:
    from review_station.export import ExportError

    return ExportError(f"{out}: already exists; an export never writes over a file", "out_exists", path=str(out))


def _audit(config: ReviewConfig, engine: Engine, args: argparse.Namespace) -> int:
    with engine.connect() as connection:
        check = audit.verify(connection)
    said = "\n".join(check.sentences(config.web.language))
    print(said, file=sys.stdout if check.intact else sys.stderr)
    return 0 if check.intact else EXIT_AUDIT


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="edgescreen-review", description="The remote specialists' review station for EdgeScreen results."
    )
    parser.add_argument("--config", help="TOML file (default: $EDGESCREEN_REVIEW_CONFIG, /etc/edgescreen/review.toml)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("ingest", help="receive results from the broker and send verdicts back").set_defaults(
        run=_ingest
    )
    commands.add_parser("serve", help="the specialists' web app").set_defaults(run=_serve)
    commands.add_parser("uploads", help="receive the photos devices share (HTTPS, client certificates)").set_defaults(
        run=_uploads
    )
    image_parser = commands.add_parser("images", help="the photos devices share, sealed to this station")
    image_actions = image_parser.add_subparsers(dest="action", required=True)
    image_actions.add_parser("keygen", help="make the station's key pair ([images] private_key_file)").add_argument(
        "--public", required=True, help="where to write the public key the devices are given"
    )
    image_actions.add_parser("purge", help="delete photos past [images] retention_days after the verdict")
    image_actions.add_parser("erase", help="delete one result's photo (erasure on request)").add_argument(
        "result", help="the result id"
    )
    image_parser.set_defaults(run=_images)
    verdict_parser = commands.add_parser("verdicts", help="the key every verdict sent to a device is signed with")
    verdict_actions = verdict_parser.add_subparsers(dest="action", required=True)
    verdict_actions.add_parser(
        "keygen", help="make the station's verdict key pair ([verdicts] private_key_file)"
    ).add_argument("--public", required=True, help="where to write the public key the devices are given")
    verdict_parser.set_defaults(run=_verdicts)
    device_parser = commands.add_parser("devices", help="the device registry: which device files for which site")
    device_actions = device_parser.add_subparsers(dest="action", required=True)
    add = device_actions.add_parser("add", help="enrol a device at a site")
    add.add_argument("device", help="the device id, as in its config's [device] id and its certificate")
    add.add_argument("--site", required=True)
    device_actions.add_parser("retire", help="refuse a device's results from now on").add_argument(
        "device", help="the device id"
    )
    device_actions.add_parser(
        "resend-verdicts", help="send a device again its verdicts that still stand (after its records were restored)"
    ).add_argument("device", help="the device id")
    device_actions.add_parser("list", help="every device, its site and status").add_argument(
        "--json", action="store_true"
    )
    device_parser.set_defaults(run=_devices)
    result_parser = commands.add_parser("results", help="results held here")
    result_parser.add_subparsers(dest="action", required=True).add_parser(
        "erase",
        help="delete results and all the station holds of them (erasure on request)",
        description="Delete each named result with its reads and comments, verdicts to the device, refused "
        "contrary reads, photo and any upload in progress (a patient's erasure, the ids from the device's "
        "erase: a device of this release sends the request itself). It cannot be undone; the audit log keeps "
        "the ids and who erased them, and a copy of one that arrives later is refused.",
    ).add_argument("result", nargs="+", help="a result id (32 hexadecimal digits)")
    result_parser.set_defaults(run=_results)
    user_parser = commands.add_parser("users", help="the specialists' accounts")
    user_actions = user_parser.add_subparsers(dest="action", required=True)
    add_user = user_actions.add_parser(
        "add",
        help="add an account (password asked, or read from stdin)",
        description="Add a specialist's account. The password is asked twice on a terminal, or read from the "
        "first line of stdin when stdin is not one (for scripts).",
    )
    add_user.add_argument("user", help="the sign-in name")
    add_user.add_argument("--role", required=True, choices=accounts.ROLES)
    site_help = "a site the account reads (repeat for several; none: every site; reviewer and coordinator only)"
    add_user.add_argument("--site", action="append", default=[], help=site_help)
    user_sites = user_actions.add_parser(
        "sites",
        help="set the sites an account reads",
        description="Set the sites an account reads, replacing those it had; with no --site it reads every site. "
        "Its open sessions follow from their next page.",
    )
    user_sites.add_argument("user", help="the sign-in name")
    user_sites.add_argument("--site", action="append", default=[], help=site_help)
    user_actions.add_parser(
        "list", help="every account, its role and the sites it reads; disabled, or locked out until when (UTC)"
    ).add_argument("--json", action="store_true", help="one JSON object per account, with codes (for scripts)")
    user_actions.add_parser("disable", help="stop an account signing in, and end its sessions").add_argument(
        "user", help="the sign-in name"
    )
    user_actions.add_parser(
        "enable",
        help="let a disabled account sign in again",
        description="Let a disabled account sign in again, lifting a lockout after wrong passwords it was under. "
        "The sessions the disabling ended stay ended: its reader signs in afresh.",
    ).add_argument("user", help="the sign-in name")
    user_actions.add_parser(
        "unlock",
        help="let an account locked out after wrong passwords sign in now",
        description="Lift the lockout after wrong passwords an enabled account is under, so its reader signs in "
        "now rather than after [web] lockout_minutes; the wrong passwords counted start again from none.",
    ).add_argument("user", help="the sign-in name")
    user_parser.set_defaults(run=_users)
    export_parser = commands.add_parser("export", help="reviewed results of a site as FHIR R4 JSON or CSV")
    export_parser.add_argument("--format", choices=("fhir", "csv"), required=True)
    export_parser.add_argument("--site", required=True)
    export_parser.add_argument(
        "--from",
        dest="start",
        required=True,
        help="first day, YYYY-MM-DD, of a result's date: its capture, or its arrival if the device's clock is doubted",
    )
    export_parser.add_argument("--to", dest="end", required=True, help="last day, YYYY-MM-DD (likewise)")
    export_parser.add_argument("--out", help="a new file to write, never one there (default: standard output)")
    export_parser.set_defaults(run=_export)
    audit_parser = commands.add_parser("audit", help="the audit log")
    audit_parser.add_subparsers(dest="action", required=True).add_parser("verify", help="check the hash chain")
    audit_parser.set_defaults(run=_audit)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    return quiet_when_reader_gone(lambda: _command(argv))


def _command(argv: Sequence[str] | None) -> int:
    words = sys.argv[1:] if argv is None else argv
    with speaking(configured_language(words, station_error_languages)):  # its refusals in [web] language
        args = build_parser().parse_args(words)
    try:
        config = load_review_config(args.config)
    except ConfigError as error:  # said in the language the file still names, else in each (the device's rule)
        for language in station_error_languages(args.config):
            print(message("config.error", language).format(problem=error), file=sys.stderr)
        return EXIT_CONFIG
    setup_logging(config.logging.level)
    language = config.web.language
    try:
        engine = open_database(config.database.url)
    except DatabaseError as error:
        print(say("cli.database_error", language, problem=error), file=sys.stderr)
        return EXIT_DATABASE
    try:
        return args.run(config, engine, args)
    except (Refused, RequestRefused, SealError, VerdictKeyError) as error:
        print(say("cli.refused", language, why=_why(error, language)), file=sys.stderr)
        return EXIT_REFUSED
    except ConfigError as error:  # what a command finds wrong in its files ([uploads], [broker] TLS)
        print(message("config.error", language).format(problem=error), file=sys.stderr)
        return EXIT_CONFIG
    except SQLAlchemyError as error:  # the database failing under a command: its server stopped, a table unreadable
        log_event("review.database_failed", level=logging.ERROR, error=error)
        print(say("cli.database_error", language, problem=getattr(error, "orig", None) or error), file=sys.stderr)
        return EXIT_DATABASE
    finally:
        engine.dispose()


def _why(error: Refused | RequestRefused | SealError | VerdictKeyError, language: str) -> str:
    """Why a command was refused, in ``language``: the station's refusals from its catalogue, keygen's
    too (``pem_keys.KeyRefusal``), a file it could not write in the device's words for it
    (``output_problem``); a key file it cannot use names it in its own English."""
    if isinstance(error, Refused) or (isinstance(error, KeyRefusal) and error.key is not None):
        return refusal(error, language)
    if isinstance(error, RequestRefused):
        return error.said_in(language)
    return str(error)


if __name__ == "__main__":
    sys.exit(main())
