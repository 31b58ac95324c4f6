"""Accounts limited to sites: a reviewer or coordinator of one organisation reads its sites' results
and figures only; to them another site's result does not exist. Accounts with no site read all."""

from __future__ import annotations

import html
import json
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from review_station import accounts, contrary
from review_station.storage.tables import audit, reads
from review_station.web.app import LANGUAGE_COOKIE
from tests.review_station.kit import station_config
from tests.review_station.test_cli import review
from tests.review_station.web_kit import PASSWORD, add_results, csrf_of, signed_in_client, station

READ = {"verdict": "refer", "urgency": "routine"}


def two_sites(engine: Engine) -> tuple[list[str], list[str]]:
    """Two results at each of two sites, one device each."""
    return add_results(engine, "cam-a", "site-a", [0.9, 0.2]), add_results(engine, "cam-b", "site-b", [0.8, 0.1])


def test_an_account_limited_to_a_site_sees_only_that_sites_results(engine: Engine) -> None:
    ours, theirs = two_sites(engine)
    client = signed_in_client(engine, station(), "ana", "reviewer", sites=frozenset({"site-a"}))
    worklist = client.get("/").text
    assert all(result_id in worklist for result_id in ours)
    assert not any(result_id in worklist for result_id in theirs) and "site-b" not in worklist
    assert "sites site-a" in worklist  # the account's sites are named beside its name
    for result_id in theirs:
        for path in ("", "/next", "/delivery", "/photo-panel", "/photo.jpg"):
            refused = client.get(f"/results/{result_id}{path}")
            assert refused.status_code == 404 and "No such result." in refused.text, path
        posted = client.post(f"/results/{result_id}/reads", data={**READ, "csrf": csrf_of(client)})
        assert posted.status_code == 404
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(reads)).scalar_one() == 0
    # "Next result" stays within the account's sites.
    assert client.get(f"/results/{ours[0]}/next").headers["location"].startswith(f"/results/{ours[1]}")
    assert client.get(f"/results/{ours[1]}/next").headers["location"].startswith(f"/results/{ours[0]}")


def test_an_account_with_no_site_reads_every_site(engine: Engine) -> None:
    ours, theirs = two_sites(engine)
    worklist = signed_in_client(engine, station(), "ben", "reviewer").get("/").text
    assert all(result_id in worklist for result_id in ours + theirs)


def test_the_dashboard_and_the_export_keep_to_the_accounts_sites(engine: Engine) -> None:
    two_sites(engine)
    client = signed_in_client(engine, station(), "cleo", "coordinator", sites=frozenset({"site-a"}))
    dashboard = client.get("/dashboard").text
    assert "cam-a" in dashboard and "cam-b" not in dashboard and "all of yours" in dashboard
    assert "cam-b" not in client.get("/dashboard?site=site-b").text
    form = client.get("/export").text
    assert 'value="site-a"' in form and "site-b" not in form
    refused = client.get("/export?format=csv&site=site-b&start=2026-01-01&end=2030-01-01")
    assert refused.status_code == 422 and "among the sites you read" in refused.text


def test_changing_an_accounts_sites_applies_to_its_open_session_and_is_audited(engine: Engine) -> None:
    ours, theirs = two_sites(engine)
    client = signed_in_client(engine, station(), "ana", "reviewer", sites=frozenset({"site-a"}))
    assert client.get(f"/results/{theirs[0]}").status_code == 404
    accounts.set_sites(engine, "ana", frozenset({"site-b"}), by="admin")
    assert client.get(f"/results/{theirs[0]}").status_code == 200
    assert client.get(f"/results/{ours[0]}").status_code == 404
    accounts.set_sites(engine, "ana", frozenset(), by="admin")
    assert client.get(f"/results/{ours[0]}").status_code == 200
    with engine.connect() as connection:
        changes = [
            json.loads(details)
            for details in connection.execute(select(audit.c.details).where(audit.c.kind == "user_change")).scalars()
        ]
    assert [(change["action"], change["sites"]) for change in changes] == [
        ("add", ["site-a"]),
        ("sites", ["site-b"]),
        ("sites", []),
    ]


def test_sites_are_checked_and_admins_read_every_site(engine: Engine) -> None:
    with pytest.raises(accounts.AccountError, match="admin account reads every site"):
        accounts.add_user(engine, "root", PASSWORD, "admin", by="test", sites=frozenset({"site-a"}))
    with pytest.raises(accounts.AccountError, match="site 'site a'"):
        accounts.add_user(engine, "ana", PASSWORD, "reviewer", by="test", sites=frozenset({"site a"}))
    with pytest.raises(accounts.AccountError, match="no user"):
        accounts.set_sites(engine, "nobody", frozenset({"site-a"}), by="test")
    accounts.add_user(engine, "root", PASSWORD, "admin", by="test")
    with pytest.raises(accounts.AccountError, match="admin account reads every site"):
        accounts.set_sites(engine, "root", frozenset({"site-a"}), by="test")


def test_sites_from_the_command_line(tmp_path, engine: Engine) -> None:
    config = station_config(tmp_path, engine, 1883)
    added = review(config, "users", "add", "ana", "--role", "reviewer", "--site", "site-a", stdin=PASSWORD + "\n")
    assert added.returncode == 0 and "reads site-a" in added.stdout, added.stderr
    assert review(config, "users", "add", "root", "--role", "admin", stdin=PASSWORD + "\n").returncode == 0
    changed = review(config, "users", "sites", "ana", "--site", "site-b", "--site", "site-c")
    assert changed.returncode == 0 and "now reads site-b, site-c" in changed.stdout
    assert review(config, "users", "list").stdout.splitlines() == [
        "ana\treviewer\tsite-b, site-c\tnever signed in",
        "root\tadmin\tevery site\tnever signed in",
    ]
    refused = review(config, "users", "sites", "root", "--site", "site-a")
    assert refused.returncode == 1 and "admin account reads every site" in refused.stderr


def flagged_sentence(client: TestClient) -> str:
    """The worklist's count of results holding a refused contrary read, up to the read (its tags gone)."""
    found = re.search(r'data-test="contrary-count">(.*?)</p>', client.get("/").text, re.S)
    assert found
    return " ".join(re.sub(r"<[^>]+>", "", html.unescape(found.group(1))).split()[:8])


def test_refused_contrary_reads_are_counted_within_the_accounts_sites(engine: Engine) -> None:
    ours, theirs = two_sites(engine)
    admin = signed_in_client(engine, station(), "root", "admin")
    for result_id in (ours[0], theirs[0]):
        posted = admin.post(f"/results/{result_id}/reads", data={**READ, "csrf": csrf_of(admin)})
        assert posted.status_code == 303
        with engine.begin() as connection:
            standing = connection.execute(select(reads.c.review_id).where(reads.c.result_id == result_id)).scalar_one()
            contrary_read = {"verdict": "no_refer", "urgency": "routine", "icdr_grade": None, "maculopathy": None}
            contrary.keep(connection, result_id, 1, contrary_read | {"diagnosis": None, "comment": None}, standing)
    assert flagged_sentence(admin) == "2 results in all hold a read refused"
    cleo = signed_in_client(engine, station(), "cleo", "coordinator", sites=frozenset({"site-a"}))
    assert flagged_sentence(cleo) == "1 result in all holds a read refused"
    # The verb agrees with the count in French too: "1 résultat en tout portent" read as a slip.
    for client, said in ((admin, "2 résultats en tout portent"), (cleo, "1 résultat en tout porte")):
        client.cookies.set(LANGUAGE_COOKIE, "fr")
        assert flagged_sentence(client) == f"{said} une lecture refusée"
    assert (
        cleo.post(f"/results/{theirs[0]}/contrary-reads", data={"csrf": csrf_of(cleo), "seen": "2"}).status_code == 404
    )
