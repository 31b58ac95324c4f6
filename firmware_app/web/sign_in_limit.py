"""How often one client on the network may try to sign in, counted by its address before any PIN is hashed.

Every sign-in from the network hashes its PIN (scrypt, about 50 ms of a core on a Pi), for a name that
does not exist or is locked too, so that no answer tells which names exist (``operators._refused``).
The locks on a name (``operators``: the device's count of wrong PINs and the network's) come after
that hash, so a client that floods sign-in attempts kept a core busy and slowed the device's
screening. This limit comes first and is keyed on the client's address alone (an IPv6 one's /64),
never on the name typed: a limited client gets the same refusal whatever name it types, and learns
nothing of names.
The device's own screen (loopback, the kiosk) is not limited by it: its lock is the device's count.
"""

from __future__ import annotations

import ipaddress
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from firmware_app.events import log_event
from firmware_app.web.server import client_address

# Attempts one address may make in any window of this long. A nurse who mistypes five times is locked
# by her name's lock (a minute, then two): mistyping through two of those rounds, and trying during
# them, is about 15 attempts in 10 minutes; several nurses sharing a tablet, or tablets behind one
# NAT address, sign in a few times each in 10 minutes. At the limit a client holds a core about 1 s
# in 10 minutes (20 hashes of 50 ms), where an unlimited one held it all the time.
ATTEMPTS = 20
WINDOW_S = 10 * 60
# Addresses remembered, the least recently seen forgotten first: a flood of addresses cannot grow the
# table without end. Forgetting costs the limit nothing: a client with more addresses than this gets as
# many attempts by using new ones.
MAX_CLIENTS = 256
# An IPv6 host holds a whole /64 and takes any address in it at will (privacy addresses are made so):
# counted by its address, it got ATTEMPTS more with each new one, and the limit held it to nothing.
IPV6_CLIENT_PREFIX = 64


def counted_as(host: str) -> str:
    """The client whose attempts ``host``'s are counted with: an IPv6 address's /64; an IPv4 client as
    itself, however it arrives (``server.client_address``: never with every IPv4 client in ``::/64``)."""
    address = client_address(host)
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.ip_network(f"{address}/{IPV6_CLIENT_PREFIX}", strict=False))
    return str(address or host)


@dataclass
class _Client:
    attempts: deque[float] = field(default_factory=lambda: deque(maxlen=ATTEMPTS))  # when each was let through
    limited: bool = False  # refused since its last attempt let through: logged once, not at every refusal


class SignInLimit:
    """The attempts of each client (``counted_as``) in the last ``WINDOW_S``; ``clock`` a monotonic one (in
    memory only: a restart forgets them, as it signs everyone out)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._clients: OrderedDict[str, _Client] = OrderedDict()

    def __len__(self) -> int:
        return len(self._clients)

    def wait(self, address: str) -> float:
        """0 when ``address`` may try to sign in now (the attempt is counted); else the seconds until it
        may. A refused attempt is not counted: it costs nothing, and a nurse's retry does not push the
        end further away."""
        now = self._clock()
        counted = counted_as(address)
        client = self._clients.pop(counted, None) or _Client()
        self._clients[counted] = client  # the most recently seen
        if len(self._clients) > MAX_CLIENTS:
            self._clients.popitem(last=False)
        attempts = client.attempts
        while attempts and attempts[0] <= now - WINDOW_S:
            attempts.popleft()
        if len(attempts) < ATTEMPTS:
            attempts.append(now)
            client.limited = False
            return 0.0
        if not client.limited:
            client.limited = True
            log_event("app.sign_in_limited", client=counted, attempts=ATTEMPTS, window_minutes=WINDOW_S // 60)
        return attempts[0] + WINDOW_S - now
