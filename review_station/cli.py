"""The ``edgescreen-review`` command line: the ingester, the web app, and the administrators' tools."""

from __future__ import annotations

import argparse
import getpass
import json
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import Engine

from edgescreen_wire.sealed_image import SealError
from edgescreen_wire.verdict_signature import VerdictKeyError
from firmware_app.events import log_event, setup_logging
from review_station import accounts, audit, devices
from review_station.config import ConfigError, ReviewConfig, load_review_config
from review_station.export import ExportError
from review_station.ingest.release import Released
from review_station.storage.database import DatabaseError, open_database
from review_station.verdicts import resend_verdicts

EXIT_REFUSED, EXIT_CONFIG, EXIT_DATABASE, EXIT_AUDIT = 1, 2, 3, 4
OPERATOR = "cli"  # who the audit log names for acts done at the station's console


def _ingest(config: ReviewConfig, engine: Engine, args: argparse.Namespace) -> int:
    from review_station.ingest.ingester import Ingester, verdict_signer

    ingester = Ingester(engine, config.broker, signer=verdict_signer(config.verdicts.private_key_file))
    signal.signal(signal.SIGTERM, lambda *_: ingester.stop())
    signal.signal(signal.SIGINT, lambda *_: ingester.stop())
    log_event("review.ingest_start", broker=f"{config.broker.host}:{config.broker.port}")
    ingester.run()
    log_event("review.ingest_stop", stored=ingester.totals.stored, quarantined=ingester.totals.quarantined)
    return 0


def _serve(config: ReviewConfig, engine: Engine, args: argparse.Namespace) -> int:
    import uvicorn

    from review_station.web.app import create_app

    log_event("review.web_start", host=config.web.host, port=config.web.port)
    uvicorn.run(create_app(config, engine), host=config.web.host, port=config.web.port, log_level="warning")
    return 0


def _uploads(config: ReviewConfig, engine: Engine, args: argparse.Namespace) -> int:
    from review_station.uploads import create_upload_app, upload_server

    server = upload_server(config, create_upload_app(config, engine))
    log_event("review.uploads_start", host=config.uploads.host, port=config.uploads.port)
    server.run()
    return 0


def _images(config: ReviewConfig, engine: Engine, args: argparse.Namespace) -> int:
    from edgescreen_wire.sealed_image import write_key_pair
    from review_station import images

    if args.action == "keygen":
        public = Path(args.public)
        write_key_pair(config.images.private_key_file, public)
        print(f"private key {config.images.private_key_file} (mode 0600); give devices {public}")
    elif args.action == "purge":
        print(f"deleted {images.purge(engine, config.images.retention_days)} photos past their retention")
    elif images.erase(engine, args.result, by=OPERATOR):
        print(f"deleted the photo of result {args.result}")
    else:
        print(f"the station holds no photo of result {args.result}")
    return 0


def _results(config: ReviewConfig, engine: Engine, args: argparse.Namespace) -> int:
    from review_station.erasure import erase_results

    done = erase_results(engine, args.result, by=OPERATOR)
    if done.erased:
        print(f"erased {len(done.erased)} result(s) with their reads, verdicts and photos: {' '.join(done.erased)}")
    if done.unknown:
        print(f"no such result here (erased already, never received, or mistyped): {' '.join(done.unknown)}")
        return 1
    return 0


def _verdicts(config: ReviewConfig, engine: Engine, args: argparse.Namespace) -> int:
    from edgescreen_wire.verdict_signature import write_key_pair

    public = Path(args.public)
    write_key_pair(config.verdicts.private_key_file, public)
    print(f"private key {config.verdicts.private_key_file} (mode 0600); give devices {public}")
    return 0


def _devices(config: ReviewConfig, engine: Engine, args: argparse.Namespace) -> int:
    if args.action == "add":
        released = devices.enrol(engine, args.device, args.site, by=OPERATOR)
        print(f"enrolled {args.device} at {args.site}; {_released_words(released)}")
    elif args.action == "retire":
        devices.retire(engine, args.device, by=OPERATOR)
        print(
            f"retired {args.device}: its results now go to quarantine. A lost or stolen device keeps its "
            f"certificate: revoke it (broker/revoke-certs CA_DIR {args.device}) and install the new crl.pem on "
            'the broker and here (README, "Revoking a certificate")'
        )
    elif args.action == "resend-verdicts":
        count = resend_verdicts(engine, args.device, by=OPERATOR)
        print(f"{count} verdict(s) queued again for {args.device}: it stores those it lost, the ingester sends them")
    else:
        with engine.connect() as connection:
            known = devices.all_devices(connection)
        for device in known:
            row = {
                "device": device.device_id,
                "site": device.site_id,
                "active": device.active,
                "status": device.status,
                "last_seen": device.last_seen_at.isoformat() if device.last_seen_at else None,
            }
            print(json.dumps(row) if args.json else "  ".join(f"{k}={v}" for k, v in row.items()))
    return 0


def _released_words(released: Released) -> str:
    """What the enrolment brought in from quarantine, for the admin who ran it."""
    words = f"{released.stored} of its results released from quarantine"
    if released.released > released.stored:
        words += f" ({released.released - released.stored} repeated messages dropped)"
    if released.kept:
        words += f"; {released.kept} refused again, kept in quarantine (see /quarantine)"
    return words


def _read_password() -> str:
    """From a terminal: asked twice, not echoed. Piped: the first line of standard input."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    first, second = getpass.getpass("password: "), getpass.getpass("again: ")
    if first != second:
        raise accounts.AccountError("the two passwords differ")
    return first


def _sites_words(sites: frozenset[str]) -> str:
    return ", ".join(sorted(sites)) if sites else "every site"


def _users(config: ReviewConfig, engine: Engine, args: argparse.Namespace) -> int:
    if args.action == "add":
        sites = frozenset(args.site)
        accounts.add_user(engine, args.user, _read_password(), args.role, by=OPERATOR, sites=sites)
        print(f"added {args.user} ({args.role}, reads {_sites_words(sites)})")
    elif args.action == "sites":
        sites = frozenset(args.site)
        accounts.set_sites(engine, args.user, sites, by=OPERATOR)
        print(f"{args.user} now reads {_sites_words(sites)}")
    elif args.action == "list":
        for account in accounts.list_users(engine):
            state = " (disabled)" if account.disabled else ""
            print(f"{account.username}\t{account.role}\t{_sites_words(account.sites)}{state}")
    else:
        accounts.disable_user(engine, args.user, by=OPERATOR, settings=config.web)
        print(f"disabled {args.user}: signed out everywhere")
    return 0


def _export(config: ReviewConfig, engine: Engine, args: argparse.Namespace) -> int:
    from review_station.export import export

    text = export(engine, args.format, args.site, args.start, args.end, by=OPERATOR)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def _audit(config: ReviewConfig, engine: Engine, args: argparse.Namespace) -> int:
    with engine.connect() as connection:
        check = audit.verify(connection)
    if check.intact:
        print(f"audit log intact: {check.events} events")
        return 0
    print(f"audit log broken at event {check.first_bad}: {check.problem}", file=sys.stderr)
    return EXIT_AUDIT


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
        "erase). It cannot be undone; the audit log keeps the ids and who erased them.",
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
    user_actions.add_parser("list", help="every account, its role and the sites it reads")
    user_actions.add_parser("disable", help="stop an account signing in, and end its sessions").add_argument(
        "user", help="the sign-in name"
    )
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
    export_parser.add_argument("--out", help="file to write (default: standard output)")
    export_parser.set_defaults(run=_export)
    audit_parser = commands.add_parser("audit", help="the audit log")
    audit_parser.add_subparsers(dest="action", required=True).add_parser("verify", help="check the hash chain")
    audit_parser.set_defaults(run=_audit)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        config = load_review_config(args.config)
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return EXIT_CONFIG
    setup_logging(config.logging.level)
    try:
        engine = open_database(config.database.url)
    except DatabaseError as error:
        print(f"database error: {error}", file=sys.stderr)
        return EXIT_DATABASE
    try:
        return args.run(config, engine, args)
    except (devices.DeviceError, accounts.AccountError, ExportError, SealError, VerdictKeyError) as error:
        print(f"refused: {error}", file=sys.stderr)
        return EXIT_REFUSED
    except ConfigError as error:  # what a command finds wrong in its files ([uploads], [broker] TLS)
        print(f"configuration error: {error}", file=sys.stderr)
        return EXIT_CONFIG
    finally:
        engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
