"""``edgescreen-review`` as an administrator uses it: config errors, devices, users, the audit check, each
said in the station's language (``[web] language``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, event, select, update

from firmware_app.messages import message
from firmware_app.service.reader_gone import READER_GONE
from review_station import accounts
from review_station.cli import main
from review_station.config import WebConfig, load_review_config
from review_station.storage.tables import audit, devices, users
from tests.conftest import PROJECT_ROOT, filled
from tests.review_station.kit import station_config
from tests.review_station.test_export import reviewed_site


def review(config: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "review_station", "--config", str(config), *args]
    return subprocess.run(command, cwd=PROJECT_ROOT, input=stdin, capture_output=True, text=True, timeout=60)


def test_a_bad_config_names_the_file_and_the_key(tmp_path) -> None:
    path = tmp_path / "review.toml"
    path.write_text("[web]\nlockout_failures = 0\n")
    done = review(path, "devices", "list")
    assert done.returncode == 2 and f"{path}: [web].lockout_failures: expected a value from 1 to 100" in done.stderr
    path.write_text("[mqtt]\n")
    assert "[mqtt]: unknown section" in review(path, "devices", "list").stderr


def _argument(name: str, said: str) -> str:
    """argparse's refusal of the argument ``name``, in French (``typed_argument.speaking``)."""
    return message("argparse.argument", "fr") % {"argument_name": name, "message": said}


# argparse's own refusals of the station's command line: the command, and how its French ends.
USAGE_ERRORS = {
    "an unknown option": (("devices", "list", "--bogus"), message("argparse.unrecognized", "fr") % "--bogus"),
    "a missing required option": (("devices", "add", "cam-01"), message("argparse.required", "fr") % "--site"),
    "a missing result id": (("results", "erase"), message("argparse.required", "fr") % "result"),
    "an option without its value": (
        ("devices", "add", "cam-01", "--site"),
        _argument("--site", message("argparse.expected_one", "fr")),
    ),
    "a format not offered": (
        ("export", "--format", "xml", "--site", "site-a", "--from", "2026-04-01", "--to", "2026-04-30"),
        _argument("--format", message("argparse.invalid_choice", "fr") % {"value": "xml", "choices": "'fhir', 'csv'"}),
    ),
}


@pytest.mark.parametrize("error", list(USAGE_ERRORS))
def test_argparses_own_refusals_are_said_in_french_at_a_french_station(tmp_path, error) -> None:
    """At a station whose ``[web] language`` is French, every refusal of a command was French but
    argparse's own ("unrecognized arguments", "the following arguments are required", "invalid
    choice"), said in English before the config was read: now in the language the config names, as the
    device's command line says them (exit status 2 in both)."""
    args, french = USAGE_ERRORS[error]
    english, config = tmp_path / "en.toml", tmp_path / "fr.toml"
    english.write_text('[web]\nlanguage = "en"\n')
    config.write_text('[web]\nlanguage = "fr"\n')
    said_in_english, refused = review(english, *args), review(config, *args)
    assert refused.returncode == said_in_english.returncode == 2, refused.stderr
    last = refused.stderr.splitlines()[-1]
    assert last.startswith("edgescreen-review") and last.endswith(f": erreur\u00a0: {french}"), last
    assert said_in_english.stderr.splitlines()[-1].split(": error: ")[1] not in last


def test_devices_users_and_the_audit_log_from_the_command_line(tmp_path, engine: Engine) -> None:
    config = station_config(tmp_path, engine, 1883)
    assert review(config, "devices", "add", "cam-01", "--site", "site-a").returncode == 0
    again = review(config, "devices", "add", "cam-01", "--site", "site-b")
    assert again.returncode == 1 and "already enrolled" in again.stderr
    retired = review(config, "devices", "retire", "cam-01")
    assert retired.returncode == 0 and "revoke it (broker/revoke-certs CA_DIR cam-01)" in retired.stdout
    listed = [json.loads(line) for line in review(config, "devices", "list", "--json").stdout.splitlines()]
    device = {"device": "cam-01", "site": "site-a", "active": False, "status": None, "last_seen": None}
    assert listed == [device | {"unsent_notice": None}]
    with engine.begin() as connection:  # seen on a whole second: its microseconds given all the same
        connection.execute(update(devices).values(last_seen_at=datetime(2099, 3, 1, 14, 5, 30, tzinfo=UTC)))
    seen = json.loads(review(config, "devices", "list", "--json").stdout)["last_seen"]
    assert seen == "2099-03-01T14:05:30.000000+00:00"
    added = review(config, "users", "add", "ana", "--role", "admin", stdin="a long enough secret\n")
    assert added.returncode == 0, added.stderr
    short = review(config, "users", "add", "bo", "--role", "reviewer", stdin="short\n")
    assert short.returncode == 1 and "at least 12" in short.stderr
    assert review(config, "users", "disable", "ana").returncode == 0
    verified = review(config, "audit", "verify")
    assert verified.returncode == 0 and "intact: 4 events" in verified.stdout
    with engine.begin() as connection:
        connection.execute(update(audit).where(audit.c.seq == 2).values(details='{"action":"nothing"}'))
    broken = review(config, "audit", "verify")
    assert broken.returncode == 4 and "event 2 (device_change) was altered" in broken.stderr


def test_an_export_for_a_site_that_is_not_a_site_id_is_refused(tmp_path, engine: Engine) -> None:
    config = station_config(tmp_path, engine, 1883)
    out = tmp_path / "export.csv"
    dates = ("--from", "2026-04-01", "--to", "2026-04-30", "--out", str(out))
    done = review(config, "export", "--format", "csv", "--site", "../site-a", *dates)
    assert done.returncode == 1 and "site: '../site-a' does not match" in done.stderr and not out.exists()


def test_an_export_with_no_reviewed_results_says_so_and_writes_no_file(tmp_path, engine: Engine) -> None:
    """As the export page: a file of no results, written without a word, is no export."""
    config = station_config(tmp_path, engine, 1883)
    out = tmp_path / "export.json"
    dates = ("--from", "2026-04-01", "--to", "2026-04-30", "--out", str(out))
    done = review(config, "export", "--format", "fhir", "--site", "site-a", *dates)
    said = "refused: no reviewed results of site 'site-a' dated from 2026-04-01 to 2026-04-30"
    assert done.returncode == 1 and said in done.stderr and not out.exists()


# An export of ``reviewed_site``'s day, to ``--out``.
EXPORT = ("export", "--format", "csv", "--site", "site-a", "--from", "2026-11-29", "--to", "2026-11-29", "--out")


def exports_audited(engine: Engine) -> int:
    with engine.connect() as connection:
        return len(connection.execute(select(audit.c.seq).where(audit.c.kind == "export")).all())


@pytest.mark.parametrize("language", ["en", "fr"])
def test_an_export_never_writes_over_a_file_at_out(tmp_path, engine: Engine, language: str) -> None:
    """``export --out`` wrote over whatever was there, an earlier export too, without a word, and
    through a link to wherever it pointed; the device's export and backup never do. Now a file or a
    link there is refused in the station's language (status 1) before anything is exported or
    audited, and left byte for byte; a new name gets the whole export and nothing beside it."""
    reviewed_site(engine)
    config = station_config(tmp_path / "station", engine, 1883, extra=f'language = "{language}"\n')
    folder = tmp_path / "exports"
    folder.mkdir()
    earlier, link, new = folder / "export.csv", folder / "linked.csv", folder / "new.csv"
    earlier.write_bytes(b"result_id,verdict\r\nan earlier export,refer\r\n")
    link.symlink_to(tmp_path / "elsewhere.csv")
    for out in (earlier, link):
        refused = review(config, *EXPORT, str(out))
        said = {
            "en": f"refused: {out}: already exists; an export never writes over a file: give a new file name",
            "fr": f"refusé{NBSP}: {out} existe déjà{NBSP}; un export n'écrase jamais un fichier{NBSP}: "
            "indiquez un nouveau nom de fichier",
        }[language]
        assert refused.returncode == 1 and refused.stderr == f"{said}\n", refused.stderr
    assert earlier.read_bytes() == b"result_id,verdict\r\nan earlier export,refer\r\n"
    assert not (tmp_path / "elsewhere.csv").exists() and exports_audited(engine) == 0
    made = review(config, *EXPORT, str(new))
    assert made.returncode == 0, made.stderr
    assert len(new.read_text().splitlines()) == 3 and sorted(folder.iterdir()) == [earlier, link, new]
    assert new.stat().st_mode & 0o777 == 0o600  # specialists' verdicts on patients' results: its owner's alone


def test_an_export_never_writes_over_a_file_made_at_out_while_it_is_made(tmp_path, engine: Engine, capsys) -> None:
    """A file made at ``--out`` after the command found the name free (a second export to that name, a
    copy) is kept as it is too: the export is put in place by a rename that never replaces, refused
    as a file there before, and what it wrote beside it removed. Nothing was exported, so nothing is
    audited: the export was audited as it was built, before its file was written, so a refused write
    stood in the audit log as an export made."""
    reviewed_site(engine)
    config = station_config(tmp_path / "station", engine, 1883)
    folder = tmp_path / "exports"
    folder.mkdir()
    out = folder / "export.csv"

    def made_meanwhile(*executed: object) -> None:
        if "results.state" in str(executed[2]):  # the results read: the name was found free
            out.write_bytes(b"another export")

    event.listen(Engine, "after_cursor_execute", made_meanwhile)
    try:
        status = main(["--config", str(config), *EXPORT, str(out)])
    finally:
        event.remove(Engine, "after_cursor_execute", made_meanwhile)
    said = f"refused: {out}: already exists; an export never writes over a file: give a new file name\n"
    assert status == 1 and capsys.readouterr().err.endswith(said)
    assert out.read_bytes() == b"another export" and list(folder.iterdir()) == [out]
    assert exports_audited(engine) == 0


# Why an export could not be written, as the station says it in each language (the device's words).
UNWRITABLE = {
    "en": "refused: {out}: cannot be written there ({reason}); check that the folder exists (the drive is mounted) "
    "and can be written",
    "fr": "refusé\u00a0: {out}\u00a0: ne peut pas être écrit là ({reason})\u00a0; vérifiez que le dossier existe (le "
    "support est monté) et qu'on peut y écrire",
}
REASONS = {
    "en": ("No such file or directory", "Read-only file system"),
    "fr": ("aucun fichier ni dossier de ce nom", "support en lecture seule"),
}
FULL = {
    "en": "refused: {out}: the disk is full; free space on {folder} or use another drive",
    "fr": "refusé\u00a0: {out}\u00a0: le disque est plein\u00a0; libérez de la place sur {folder} ou utilisez un "
    "autre support",
}


@pytest.mark.parametrize("language", ["en", "fr"])
def test_an_export_that_cannot_be_written_is_refused_in_the_stations_language(
    tmp_path, tiny_filesystem, engine: Engine, language: str
) -> None:
    """``export --out`` into a folder that is not there, onto a full disk or a read-only one ended in a
    Python traceback. Now each is refused in the station's language (status 1), as the device says
    them (``output_problem``), and nothing is left where the export was to go."""
    reviewed_site(engine)
    config = station_config(tmp_path / "station", engine, 1883, extra=f'language = "{language}"\n')
    missing, read_only = REASONS[language]
    out = tmp_path / "gone" / "export.csv"
    refused = review(config, *EXPORT, str(out))
    assert refused.returncode == 1 and refused.stderr == UNWRITABLE[language].format(out=out, reason=missing) + "\n"
    out = tiny_filesystem / "export.csv"
    filled(tiny_filesystem)
    refused = review(config, *EXPORT, str(out))
    said = FULL[language].format(out=out, folder=tiny_filesystem)
    assert refused.returncode == 1 and refused.stderr == f"{said}\n", refused.stderr
    assert [path.name for path in tiny_filesystem.iterdir()] == ["filler"]
    (tiny_filesystem / "filler").unlink()
    subprocess.run(["mount", "-o", "remount,ro", str(tiny_filesystem)], check=True)
    refused = review(config, *EXPORT, str(out))
    said = UNWRITABLE[language].format(out=out, reason=read_only)
    assert refused.returncode == 1 and refused.stderr == f"{said}\n", refused.stderr
    assert exports_audited(engine) == 0  # nothing exported, nothing audited


# A database that refuses to store an export's audit event, in each of the station's databases.
REFUSE_EXPORT_EVENTS = {
    "sqlite": (
        "CREATE TRIGGER no_export BEFORE INSERT ON audit WHEN NEW.kind = 'export' "
        "BEGIN SELECT RAISE(ABORT, 'the audit log is full'); END",
    ),
    "postgresql": (
        "CREATE FUNCTION no_export() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'the audit log is full'; END $$",
        "CREATE TRIGGER no_export BEFORE INSERT ON audit FOR EACH ROW WHEN (NEW.kind = 'export') "
        "EXECUTE FUNCTION no_export()",
    ),
}


def test_an_export_whose_audit_event_cannot_be_written_leaves_no_file(tmp_path, engine: Engine) -> None:
    """The file is written before its export is audited, in one transaction: a database that then
    refuses the event (here a trigger) leaves no export outside the station that its log does not hold."""
    reviewed_site(engine)
    config = station_config(tmp_path / "station", engine, 1883)
    with engine.begin() as connection:
        for statement in REFUSE_EXPORT_EVENTS[engine.dialect.name]:
            connection.exec_driver_sql(statement)
    out = tmp_path / "export.csv"
    failed = review(config, *EXPORT, str(out))
    assert failed.returncode == 3 and "the audit log is full" in failed.stderr, failed.stderr
    assert not out.exists() and exports_audited(engine) == 0


def test_an_export_to_standard_output_whose_reader_is_gone_is_audited(tmp_path, engine: Engine) -> None:
    """``export ... | head``: the export was written to standard output inside its transaction, before
    its audit event, so a reader gone (the write refused, BrokenPipeError) rolled the event back while
    what had already left stood unaudited, and the command ended quietly. Now a standard-output export
    is audited first, as a file cannot be taken back from a pipe. The reader here is gone before the
    first byte (a pipe whose reading end is closed), and the FHIR export outgrows the output's buffer,
    so it is written while the export is made, not flushed at exit."""
    reviewed_site(engine)
    config = station_config(tmp_path / "station", engine, 1883)
    reading, writing = os.pipe()
    os.close(reading)
    fhir = ("export", "--format", "fhir", *EXPORT[3:-1])  # to standard output
    command = [sys.executable, "-m", "review_station", "--config", str(config), *fhir]
    try:
        done = subprocess.run(command, cwd=PROJECT_ROOT, stdout=writing, stderr=subprocess.PIPE, text=True, timeout=60)
    finally:
        os.close(writing)
    assert done.returncode == READER_GONE and done.stderr == "", done.stderr
    assert exports_audited(engine) == 1


NBSP = "\u00a0"  # French sets a space that never breaks before : ; ? ! and inside « » (the device's typography)
# What each command says, in each language: (arguments, standard input, exit status, stream, words).
SAID = (
    (("devices", "add", "cam-01", "--site", "site-a"), "", 0, "stdout", {
        "en": "enrolled cam-01 at site-a; 0 of its results released from quarantine",
        "fr": f"cam-01 enrôlé à site-a{NBSP}; résultats sortis de quarantaine{NBSP}: 0",
    }),
    (("devices", "add", "cam-01", "--site", "site-b"), "", 1, "stderr", {
        "en": "refused: device 'cam-01' is already enrolled (retired devices stay on record)",
        "fr": f"refusé{NBSP}: l'appareil 'cam-01' est déjà enrôlé (les appareils retirés restent enregistrés)",
    }),
    (("devices", "add", "cam 02", "--site", "site-a"), "", 1, "stderr", {
        "en": "refused: device id 'cam 02': expected letters, digits, '.', '_' or '-' (at most 64)",
        "fr": f"refusé{NBSP}: identifiant d'appareil 'cam 02'{NBSP}: lettres, chiffres, «{NBSP}.{NBSP}», "
        f"«{NBSP}_{NBSP}» ou «{NBSP}-{NBSP}» attendus (64 au plus)",
    }),
    (("devices", "resend-verdicts", "cam-01"), "", 0, "stdout", {
        "en": "no verdict of cam-01 stands: nothing to send again",
        "fr": f"aucun avis de cam-01 n'est en vigueur{NBSP}: rien à renvoyer",
    }),
    (("devices", "retire", "cam-01"), "", 0, "stdout", {
        "en": "retired cam-01: its results now go to quarantine.",
        "fr": f"cam-01 retiré{NBSP}: ses résultats vont désormais en quarantaine.",
    }),
    (("devices", "retire", "cam-01"), "", 1, "stderr", {
        "en": "refused: device 'cam-01' is not an enrolled, active device",
        "fr": f"refusé{NBSP}: l'appareil 'cam-01' n'est pas un appareil enrôlé et actif",
    }),
    (("users", "add", "bo", "--role", "reviewer"), "short\n", 1, "stderr", {
        "en": "refused: the password must have at least 12 characters",
        "fr": f"refusé{NBSP}: le mot de passe doit compter au moins 12 caractères",
    }),
    (("users", "add", "ana", "--role", "reviewer", "--site", "site-a"), "a long enough secret\n", 0, "stdout", {
        "en": "added ana (reviewer, reads site-a)",
        "fr": "ana ajouté (relecteur, lit site-a)",
    }),
    (("users", "add", "root", "--role", "admin"), "a long enough secret\n", 0, "stdout", {
        "en": "added root (admin, reads every site)",
        "fr": "root ajouté (administrateur, lit tous les sites)",
    }),
    (("users", "sites", "root", "--site", "site-a"), "", 1, "stderr", {
        "en": "refused: an admin account reads every site: give sites to reviewer or coordinator accounts",
        "fr": f"refusé{NBSP}: un compte administrateur lit tous les sites{NBSP}: donnez des sites aux comptes "
        "relecteur ou coordinateur",
    }),
    (("users", "sites", "nobody"), "", 1, "stderr", {
        "en": "refused: no user 'nobody'",
        "fr": f"refusé{NBSP}: aucun utilisateur 'nobody'",
    }),
    (("users", "disable", "root"), "", 0, "stdout", {
        "en": "disabled root: signed out everywhere",
        "fr": f"root désactivé{NBSP}: déconnecté partout",
    }),
    (("users", "disable", "root"), "", 1, "stderr", {
        "en": "refused: user 'root' is disabled already: nothing to disable",
        "fr": f"refusé{NBSP}: l'utilisateur 'root' est déjà désactivé{NBSP}: rien à désactiver",
    }),
    (("users", "list"), "", 0, "stdout", {
        "en": "ana\treviewer\tsite-a\tnever signed in\nroot\tadmin\tevery site (disabled)\tnever signed in",
        "fr": "ana\trelecteur\tsite-a\tjamais connecté\nroot\tadministrateur\ttous les sites (désactivé)\tjamais "
        "connecté",
    }),
    (("users", "enable", "root"), "", 0, "stdout", {
        "en": "enabled root: they sign in afresh (the sessions the disabling ended stay ended)\n",
        "fr": f"root réactivé{NBSP}: nouvelle connexion nécessaire (les sessions closes par la désactivation le "
        "restent)\n",
    }),
    (("users", "enable", "root"), "", 1, "stderr", {
        "en": "refused: user 'root' is not disabled: nothing to enable",
        "fr": f"refusé{NBSP}: l'utilisateur 'root' n'est pas désactivé{NBSP}: rien à réactiver",
    }),
    (("users", "enable", "nobody"), "", 1, "stderr", {
        "en": "refused: no user 'nobody'",
        "fr": f"refusé{NBSP}: aucun utilisateur 'nobody'",
    }),
    (("users", "list"), "", 0, "stdout", {
        "en": "ana\treviewer\tsite-a\tnever signed in\nroot\tadmin\tevery site\tnever signed in\n",
        "fr": "ana\trelecteur\tsite-a\tjamais connecté\nroot\tadministrateur\ttous les sites\tjamais connecté\n",
    }),
    (("export", "--format", "csv", "--site", "site-a", "--from", "2026-04-30", "--to", "2026-04-01"), "", 1, "stderr", {
        "en": "refused: the date range is empty: 'to' is before 'from'",
        "fr": f"refusé{NBSP}: la période est vide{NBSP}: la date de fin précède celle de début",
    }),
    (("export", "--format", "csv", "--site", "site-a", "--from", "2026-04-01", "--to", "2026-04-30"), "", 1, "stderr", {
        "en": "refused: no reviewed results of site 'site-a' dated from 2026-04-01 to 2026-04-30",
        "fr": f"refusé{NBSP}: aucun résultat relu du site «{NBSP}site-a{NBSP}» daté du 2026-04-01 au 2026-04-30",
    }),
    (("results", "erase", "0" * 32), "", 1, "stdout", {
        "en": f"no such result here (not received yet, or mistyped; refused if it arrives): {'0' * 32}",
        "fr": f"aucun résultat de ce nom ici (pas encore reçu, ou mal saisi{NBSP}; refusé s'il arrive){NBSP}: "
        f"{'0' * 32}",
    }),
    (("images", "erase", "0" * 32), "", 0, "stdout", {
        "en": f"the station holds no photo of result {'0' * 32}",
        "fr": f"la station ne détient aucune photo du résultat {'0' * 32}",
    }),
    (("images", "purge"), "", 0, "stdout", {
        "en": "deleted 0 photos past their retention",
        "fr": "0 photo supprimée après sa durée de conservation",  # French counts 0 as one
    }),
    (("audit", "verify"), "", 0, "stdout", {
        "en": "audit log intact: 7 events, each chained to the one before",
        "fr": f"journal d'audit intact{NBSP}: 7 événements, chacun chaîné au précédent",
    }),
)  # fmt: skip


@pytest.mark.parametrize("language", ["en", "fr"])
def test_an_empty_or_one_event_audit_log_is_said_without_an_event_before_it(tmp_path, engine, language) -> None:
    """A single event was "1 event, chained to the one before" (there is none), and an empty log "0 events"
    ("0 événement, chaîné au précédent" in French, which counts 0 as one)."""
    config = station_config(tmp_path, engine, 1883, extra=f'language = "{language}"\n')
    none, one = {
        "en": ("audit log intact: no event recorded yet", "audit log intact: 1 event, the first of the chain"),
        "fr": (
            f"journal d'audit intact{NBSP}: aucun événement enregistré pour l'instant",
            f"journal d'audit intact{NBSP}: 1 événement, le premier de la chaîne",
        ),
    }[language]
    empty = review(config, "audit", "verify")
    assert empty.returncode == 0 and empty.stdout == f"{none}\n"
    assert review(config, "devices", "add", "cam-01", "--site", "site-a").returncode == 0  # the first event
    first = review(config, "audit", "verify")
    assert first.returncode == 0 and first.stdout == f"{one}\n"


@pytest.mark.parametrize("language", ["en", "fr"])
def test_every_command_speaks_the_stations_language(tmp_path, engine: Engine, language: str) -> None:
    """``[web] language`` is the command line's too: what each command did, and why it refused."""
    config = station_config(tmp_path, engine, 1883, extra=f'language = "{language}"\n')
    for args, stdin, status, stream, words in SAID:
        done = review(config, *args, stdin=stdin)
        assert done.returncode == status, (args, done.stderr)
        assert words[language] in getattr(done, stream), (args, done.stdout, done.stderr)
    trusted = {
        "en": "event 1 verifies; nothing from event 2 on can be trusted",
        "fr": f"l'événement 1 est vérifié{NBSP}; rien n'est fiable à partir de l'événement 2",
    }[language]
    # The time compared for "opened lately" (outside the hashes) moved: the station's own finding.
    with engine.begin() as connection:
        kept = connection.execute(select(audit.c.at_utc).where(audit.c.seq == 2)).scalar_one()
        connection.execute(update(audit).where(audit.c.seq == 2).values(at_utc=kept - timedelta(days=1)))
    mistimed = review(config, "audit", "verify")
    assert mistimed.returncode == 4 and mistimed.stderr.splitlines()[1] == trusted
    assert mistimed.stderr.startswith(
        {
            "en": "audit log BROKEN at event 2: event 2 (verdicts_resent) was altered: at_utc ",
            "fr": f"journal d'audit ROMPU à l'événement 2{NBSP}: l'événement 2 (verdicts_resent) a été modifié{NBSP}: "
            "son at_utc ",
        }[language]
    )
    # The chain itself: an event's details edited.
    with engine.begin() as connection:
        connection.execute(update(audit).where(audit.c.seq == 2).values(at_utc=kept, details='{"action":"nothing"}'))
    broken = review(config, "audit", "verify")
    assert broken.returncode == 4 and broken.stderr.splitlines() == [
        {
            "en": "audit log BROKEN at event 2: event 2 (verdicts_resent) was altered: its hash does not match",
            "fr": f"journal d'audit ROMPU à l'événement 2{NBSP}: l'événement 2 (verdicts_resent) a été modifié{NBSP}: "
            "son empreinte ne correspond pas",
        }[language],
        trusted,
    ]


def lock_out(engine: Engine, user: str, settings: WebConfig) -> datetime:
    """Lock an account as a guesser does, with wrong passwords at sign-in; when its lockout ends."""
    for _ in range(settings.lockout_failures):
        with pytest.raises(accounts.SignInRefused):
            accounts.sign_in(engine, user, "wrong password!", settings)
    with engine.connect() as connection:
        return connection.execute(select(users.c.locked_until).where(users.c.username == user)).scalar_one()


@pytest.mark.parametrize("language", ["en", "fr"])
def test_users_list_says_until_when_an_account_is_locked_out_after_wrong_passwords(
    tmp_path, engine: Engine, language: str
) -> None:
    """Before, an account locked out after wrong passwords was listed as one that signs in: the
    administrator its reader calls could not see why it is refused, nor until when. Now ``users list``
    says it, the time in UTC as the station's pages give times. A lockout that has run out is not shown,
    and a disabled account is shown disabled only (``users enable`` lifts its lockout)."""
    config = station_config(tmp_path, engine, 1883, extra=f'language = "{language}"\n')
    settings = load_review_config(str(config)).web
    for user in ("ana", "bo", "cy"):
        added = review(config, "users", "add", user, "--role", "reviewer", stdin="a long enough secret\n")
        assert added.returncode == 0, added.stderr
    unlocks_at = lock_out(engine, "ana", settings)
    for user in ("bo", "cy"):
        lock_out(engine, user, settings)
    assert review(config, "users", "disable", "cy").returncode == 0
    with engine.begin() as connection:  # bo's lockout ran out a second ago
        past = datetime.now(UTC) - timedelta(seconds=1)
        connection.execute(update(users).where(users.c.username == "bo").values(locked_until=past))
    ana, *others = review(config, "users", "list").stdout.splitlines()
    never = {"en": "never signed in", "fr": "jamais connecté"}[language]
    listed = {
        "en": ("ana\treviewer\tevery site (locked after wrong passwords until ", "bo\treviewer\tevery site",
               "cy\treviewer\tevery site (disabled)"),
        "fr": ("ana\trelecteur\ttous les sites (verrouillé après des mots de passe erronés jusqu'au ",
               "bo\trelecteur\ttous les sites", "cy\trelecteur\ttous les sites (désactivé)"),
    }[language]  # fmt: skip
    assert ana.startswith(listed[0]) and others == [f"{line}\t{never}" for line in listed[1:]]
    ending = {"en": "{year}, {time} UTC)\t{never}", "fr": "{year} à {time} UTC)\t{never}"}[language]
    assert ana.endswith(ending.format(year=unlocks_at.year, time=f"{unlocks_at:%H:%M}", never=never))
    with engine.begin() as connection:  # ana's lockout ends at a moment written out here
        until = datetime(2099, 3, 1, 14, 5, 30, tzinfo=UTC)
        connection.execute(update(users).where(users.c.username == "ana").values(locked_until=until))
    said = {
        "en": "ana\treviewer\tevery site (locked after wrong passwords until 1 March 2099, 14:05 UTC)\tnever signed in",
        "fr": "ana\trelecteur\ttous les sites (verrouillé après des mots de passe erronés jusqu'au 1 mars 2099 à "
        "14:05 UTC)\tjamais connecté",
    }
    assert review(config, "users", "list").stdout.splitlines()[0] == said[language]


@pytest.mark.parametrize("language", ["en", "fr"])
def test_users_enable_lets_a_disabled_reader_sign_in_afresh_and_says_the_lockout_it_lifted(
    tmp_path, engine: Engine, language: str
) -> None:
    """Before, ``users enable`` was no command (argparse: "invalid choice: 'enable'", exit status 2) and
    a disabled account came back only by editing the database. Now the reader, locked out by wrong
    passwords before the disabling, signs in at once, with a new session: the one the disabling ended
    stays ended. The administrator is told the lockout was lifted, and the audit log still verifies."""
    config = station_config(tmp_path, engine, 1883, extra=f'language = "{language}"\n')
    settings = load_review_config(str(config)).web
    password = "a long enough secret"
    assert review(config, "users", "add", "ana", "--role", "reviewer", stdin=f"{password}\n").returncode == 0
    desk, _ = accounts.sign_in(engine, "ana", password, settings)
    lock_out(engine, "ana", settings)
    assert review(config, "users", "disable", "ana").returncode == 0
    enabled = review(config, "users", "enable", "ana")
    assert enabled.returncode == 0, enabled.stderr
    said = {
        "en": "enabled ana: they sign in afresh (the sessions the disabling ended stay ended); the lockout after "
        "wrong passwords it was under is lifted\n",
        "fr": f"ana réactivé{NBSP}: nouvelle connexion nécessaire (les sessions closes par la désactivation le "
        f"restent){NBSP}; le verrouillage qui le bloquait après des mots de passe erronés est levé\n",
    }
    assert enabled.stdout == said[language]
    fresh, signed_in = accounts.sign_in(engine, "ana", password, settings)
    with engine.begin() as connection:
        assert accounts.session_user(connection, desk, settings) is None
        assert accounts.session_user(connection, fresh, settings) == signed_in
    verified = review(config, "audit", "verify")
    assert verified.returncode == 0, verified.stderr
    with engine.connect() as connection:
        changes = connection.execute(select(audit.c.details).where(audit.c.kind == "user_change").order_by(audit.c.seq))
        assert json.loads(changes.scalars().all()[-1]) == {
            "action": "enable",
            "user": "ana",
            "by": "cli",
            "lock_lifted": True,
        }


def user_changes(engine: Engine) -> list[dict[str, object]]:
    """The details of every ``user_change`` in the audit log, in its order."""
    with engine.connect() as connection:
        changes = connection.execute(select(audit.c.details).where(audit.c.kind == "user_change").order_by(audit.c.seq))
        return [json.loads(details) for details in changes.scalars()]


@pytest.mark.parametrize("language", ["en", "fr"])
def test_users_unlock_lets_a_reader_locked_out_after_wrong_passwords_sign_in_now(
    tmp_path, engine: Engine, language: str
) -> None:
    """Before, ``users unlock`` was no command (argparse: "invalid choice: 'unlock'", exit status 2): a
    reader locked out after wrong passwords waited ``lockout_minutes``, as ``users enable`` refuses an
    account that is not disabled. Now the lockout is lifted, audited, and the reader signs in at once;
    an unknown name, a disabled account and an account not locked out are refused (exit status 1), in
    the station's language, and nothing is audited for them."""
    config = station_config(tmp_path, engine, 1883, extra=f'language = "{language}"\n')
    settings = load_review_config(str(config)).web
    password = "a long enough secret"
    for user in ("ana", "bo"):
        assert review(config, "users", "add", user, "--role", "reviewer", stdin=f"{password}\n").returncode == 0
        lock_out(engine, user, settings)
    assert review(config, "users", "disable", "bo").returncode == 0
    with pytest.raises(accounts.SignInRefused):  # locked: the right password is refused too
        accounts.sign_in(engine, "ana", password, settings)
    unlocked = review(config, "users", "unlock", "ana")
    assert unlocked.returncode == 0, unlocked.stderr
    assert (
        unlocked.stdout
        == {
            "en": "unlocked ana: they can sign in now, and wrong passwords are counted from none again\n",
            "fr": f"ana déverrouillé{NBSP}: connexion possible dès maintenant, le décompte des mots de passe erronés "
            "repart de zéro\n",
        }[language]
    )
    assert user_changes(engine)[-1] == {"action": "unlock", "user": "ana", "by": "cli"}
    accounts.sign_in(engine, "ana", password, settings)
    refusals = {
        "ana": {
            "en": "refused: user 'ana' is not locked out: nothing to unlock\n",
            "fr": f"refusé{NBSP}: l'utilisateur 'ana' n'est pas verrouillé{NBSP}: rien à déverrouiller\n",
        },
        "bo": {
            "en": "refused: user 'bo' is disabled: users enable lets it sign in again, lifting any lockout\n",
            "fr": f"refusé{NBSP}: l'utilisateur 'bo' est désactivé{NBSP}: users enable le réactive et lève tout "
            "verrouillage\n",
        },
        "nobody": {
            "en": "refused: no user 'nobody'\n",
            "fr": f"refusé{NBSP}: aucun utilisateur 'nobody'\n",
        },
    }
    changes = len(user_changes(engine))
    for user, said in refusals.items():
        refused = review(config, "users", "unlock", user)
        assert (refused.returncode, refused.stdout, refused.stderr) == (1, "", said[language])
    assert len(user_changes(engine)) == changes
    verified = review(config, "audit", "verify")
    assert verified.returncode == 0, verified.stderr


@pytest.mark.parametrize("language", ["en", "fr"])
def test_users_list_json_gives_codes_whatever_the_stations_language(tmp_path, engine: Engine, language: str) -> None:
    """Before, ``users list`` printed only its table, in the station's words ("relecteur" on a French
    station), and ``--json`` was refused (exit status 2): a script keyed on role codes broke. Now
    ``--json`` prints one object per account, by name, with codes, the same in either language, and a
    lockout's end in one shape, its microseconds given on a whole second too; the table is unchanged."""
    config = station_config(tmp_path, engine, 1883, extra=f'language = "{language}"\n')
    settings = load_review_config(str(config)).web
    for user, role, sites in (
        ("ana", "reviewer", ("site-b", "site-a")),
        ("bo", "coordinator", ()),
        ("root", "admin", ()),
        ("cy", "reviewer", ()),
    ):
        named = [argument for site in sites for argument in ("--site", site)]
        added = review(config, "users", "add", user, "--role", role, *named, stdin="a long enough secret\n")
        assert added.returncode == 0, added.stderr
    lock_out(engine, "ana", settings)
    bo_until = lock_out(engine, "bo", settings)  # then disabled: the table leaves its lockout out, not the JSON
    assert review(config, "users", "disable", "bo").returncode == 0
    until = datetime(2099, 3, 1, 14, 5, 30, 250000, tzinfo=UTC)
    with engine.begin() as connection:
        connection.execute(update(users).where(users.c.username == "ana").values(locked_until=until))
        # A whole second: ``isoformat`` alone gave "2099-03-01T14:05:30+00:00", a shape of its own.
        whole = until.replace(microsecond=0)
        connection.execute(update(users).where(users.c.username == "cy").values(locked_until=whole))
    listed = review(config, "users", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [json.loads(line) for line in listed.stdout.splitlines()] == [
        {"user": "ana", "role": "reviewer", "sites": ["site-a", "site-b"], "disabled": False,
         "locked_until": "2099-03-01T14:05:30.250000+00:00", "last_sign_in": None},
        {"user": "bo", "role": "coordinator", "sites": None, "disabled": True,
         "locked_until": bo_until.isoformat(timespec="microseconds"), "last_sign_in": None},
        {"user": "cy", "role": "reviewer", "sites": None, "disabled": False,
         "locked_until": "2099-03-01T14:05:30.000000+00:00", "last_sign_in": None},
        {"user": "root", "role": "admin", "sites": None, "disabled": False, "locked_until": None,
         "last_sign_in": None},
    ]  # fmt: skip
    table = review(config, "users", "list").stdout.splitlines()
    assert [line.split("\t")[1] for line in table] == {
        "en": ["reviewer", "coordinator", "reviewer", "admin"],
        "fr": ["relecteur", "coordinateur", "relecteur", "administrateur"],
    }[language]


@pytest.mark.parametrize("language", ["en", "fr"])
def test_users_list_gives_each_accounts_last_sign_in_in_one_query(tmp_path, engine: Engine, language: str) -> None:
    """Before, neither the table nor ``--json`` said when an account last signed in: an administrator
    looking for the accounts nobody uses any more read the audit log. Now both give it, from the latest
    of the account's ``sign_in`` events (a refused attempt is none), or say it never did; listing
    more accounts takes no more statements."""
    config = station_config(tmp_path, engine, 1883, extra=f'language = "{language}"\n')
    settings = load_review_config(str(config)).web
    password = "a long enough secret"
    for user in ("ana", "bo", "cy"):
        assert review(config, "users", "add", user, "--role", "reviewer", stdin=f"{password}\n").returncode == 0
    accounts.sign_in(engine, "ana", password, settings)
    first_over = datetime.now(UTC)
    accounts.sign_in(engine, "ana", password, settings)
    ana_last = datetime.now(UTC)
    accounts.sign_in(engine, "bo", password, settings)
    with pytest.raises(accounts.SignInRefused):
        accounts.sign_in(engine, "cy", "wrong password!", settings)
    listed = review(config, "users", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    last = {entry["user"]: entry["last_sign_in"] for entry in map(json.loads, listed.stdout.splitlines())}
    assert last["cy"] is None and last["ana"].endswith("+00:00") and len(last["ana"]) == 32
    ana, bo = datetime.fromisoformat(last["ana"]), datetime.fromisoformat(last["bo"])
    assert first_over < ana < ana_last < bo < datetime.now(UTC)
    table = [line.split("\t")[3] for line in review(config, "users", "list").stdout.splitlines()]
    said = {"en": ("last signed in ", "{year}, {time} UTC", "never signed in"),
            "fr": ("dernière connexion le ", "{year} à {time} UTC", "jamais connecté")}[language]  # fmt: skip
    assert table[0].startswith(said[0]) and table[0].endswith(said[1].format(year=ana.year, time=f"{ana:%H:%M}"))
    assert table[2] == said[2]

    three = statements_listing(engine)
    for user in ("dee", "eve"):
        accounts.add_user(engine, user, password, "reviewer", by="test")
        accounts.sign_in(engine, user, password, settings)
    assert len(accounts.list_users(engine)) == 5 and statements_listing(engine) == three


def statements_listing(engine: Engine) -> int:
    """How many SQL statements ``accounts.list_users`` sends to ``engine``."""
    statements: list[str] = []

    def sent(*executed: object) -> None:
        statements.append(str(executed[2]))

    event.listen(engine, "before_cursor_execute", sent)
    try:
        accounts.list_users(engine)
    finally:
        event.remove(engine, "before_cursor_execute", sent)
    return len(statements)


def test_a_config_error_is_said_in_the_language_the_file_names_else_in_both(tmp_path) -> None:
    """The problem itself is the technician's English (the file, the key), as the device says it."""
    path = tmp_path / "review.toml"
    path.write_text('[web]\nlanguage = "fr"\nlockout_failures = 0\n')
    done = review(path, "users", "list")
    problem = f"{path}: [web].lockout_failures: expected a value from 1 to 100, got 0"
    assert done.returncode == 2 and done.stderr == f"erreur de configuration{NBSP}: {problem}\n"
    path.write_text("[web\n")  # not TOML: which language it meant cannot be read
    said = review(path, "users", "list").stderr.splitlines()
    assert [line.split(":")[0] for line in said] == ["configuration error", f"erreur de configuration{NBSP}"]


def test_a_database_that_cannot_be_opened_is_said_in_the_stations_language(tmp_path) -> None:
    path = tmp_path / "review.toml"
    path.write_text('[database]\nurl = "mysql://station/db"\n[web]\nlanguage = "fr"\n')
    done = review(path, "users", "list")
    assert done.returncode == 3 and done.stderr.startswith(f"erreur de base de données{NBSP}: mysql://station/db: ")
