"""The per-client limit on sign-in attempts from the network (``web/sign_in_limit``), with a clock the
test moves: each address counted alone, a window that slides, a table of addresses that stays bounded
and one log line when a client is limited. Through the app, in ``test_sign_in_from_the_network``."""

from __future__ import annotations

import logging

import pytest

from firmware_app.web.sign_in_limit import ATTEMPTS, MAX_CLIENTS, WINDOW_S, SignInLimit

TABLET, OTHER = "192.0.2.10", "192.0.2.11"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture()
def clock() -> Clock:
    return Clock()


def used_up(limit: SignInLimit, client: str = TABLET) -> None:
    """Every attempt the window allows ``client``, each let through."""
    assert [limit.wait(client) for _ in range(ATTEMPTS)] == [0.0] * ATTEMPTS


def test_a_client_past_the_limit_waits_and_another_address_does_not(clock):
    limit = SignInLimit(clock)
    used_up(limit)
    clock.now += 60
    assert limit.wait(TABLET) == WINDOW_S - 60  # until its first attempt leaves the window
    assert limit.wait(TABLET) == WINDOW_S - 60  # a refused attempt does not push the end further
    assert limit.wait(OTHER) == 0.0  # keyed on the address alone


def test_the_window_slides_one_attempt_at_a_time(clock):
    limit = SignInLimit(clock)
    assert limit.wait(TABLET) == 0.0
    clock.now += 100
    used_up_after_first = [limit.wait(TABLET) for _ in range(ATTEMPTS - 1)]
    assert used_up_after_first == [0.0] * (ATTEMPTS - 1)
    assert limit.wait(TABLET) == WINDOW_S - 100
    clock.now += WINDOW_S - 100  # the first attempt has left the window; the others have not
    assert limit.wait(TABLET) == 0.0
    assert limit.wait(TABLET) == 100.0


def test_the_table_of_addresses_stays_bounded_forgetting_the_oldest(clock):
    limit = SignInLimit(clock)
    used_up(limit)
    for host in range(MAX_CLIENTS):  # a flood of addresses, one attempt each
        assert limit.wait(f"10.0.{host // 256}.{host % 256}") == 0.0
    assert len(limit) == MAX_CLIENTS
    assert limit.wait(TABLET) == 0.0  # forgotten, the oldest: it starts afresh


def test_a_limited_client_still_trying_is_not_forgotten_first(clock):
    limit = SignInLimit(clock)
    used_up(limit)
    for host in range(MAX_CLIENTS - 1):
        limit.wait(f"10.0.{host // 256}.{host % 256}")
    assert limit.wait(TABLET) > 0  # tried again: the most recent now
    limit.wait("10.1.0.0")
    assert limit.wait(TABLET) > 0


def test_a_client_limited_is_logged_once_with_its_address_only(clock, caplog):
    limit = SignInLimit(clock)
    used_up(limit)
    with caplog.at_level(logging.INFO, logger="edgescreen"):
        for _ in range(3):
            limit.wait(TABLET)
        clock.now += WINDOW_S
        used_up(limit)  # allowed again, then limited again: a second line
        limit.wait(TABLET)
    lines = [record.getMessage() for record in caplog.records]
    assert lines == [f"app.sign_in_limited client={TABLET} attempts={ATTEMPTS} window_minutes={WINDOW_S // 60}"] * 2


def test_an_ipv6_client_is_counted_by_its_64_and_an_ipv4_one_the_same_however_it_arrives(clock):
    """A host on an IPv6 network holds a whole /64 and takes any address in it at will: counted by its
    address, it got 20 more attempts with each new one, and the limit held it to nothing. An IPv4 client
    reaching an app bound to ``::`` arrives as an IPv4-mapped address (``::ffff:192.0.2.10``): counted
    as itself, not with every other IPv4 client in ``::/64``."""
    limit = SignInLimit(clock)
    for host in range(ATTEMPTS):
        assert limit.wait(f"2001:db8:1:2::{host + 1:x}") == 0.0
    assert limit.wait("2001:db8:1:2:aaaa:bbbb:cccc:dddd") > 0  # another address of the same /64
    assert limit.wait("2001:db8:1:3::1") == 0.0  # another network
    used_up(limit, f"::ffff:{TABLET}")
    assert limit.wait(TABLET) > 0  # the same client, as the app bound to an IPv4 address sees it
    assert limit.wait(f"::ffff:{OTHER}") == 0.0
