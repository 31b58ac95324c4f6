"""How often one client on the network may try to sign in, counted by its address before any PIN is hashed.

Every sign-in from the network hashes its PIN (scrypt, about 50 ms of a core on a Pi), for a name that
does not exist or is locked too, so that no answer tells which names exist (``operators._refused``).
The locks on a name (``operators``: the device's count of wrong PINs and the network's) come after
that hash, so a client that floods sign-in attempts kept a core busy and slowed the device's
screening. This limit comes first and is keyed on the client's address alone, never on the name
typed: a limited client gets the same refusal whatever name it types, and learns nothing of names.
The device's own screen (loopback, the kiosk) is not limited by it: its lock is the device's count.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from firmware_app.events import log_event

# Attempts one address may make in any window of this long. A nurse who mistypes five times is locked
# by her name's lock (a minute, then two): mistyping through two of those rounds, and trying during
# them, is about 15 attempts in 10 minutes; several nurses sharing a tablet, or tablets behind one
# NAT address, sign in a few times each in 10 minutes. At the limit a client holds a core about 1 s
# in 10 minutes (20 hashes of 50 ms), where an unlimited one held it all the time.
ATTEMPTS = 20
WINDOW_S = 10 * 60
# Addresses remembered, the least recently seen forgotten first: a flood of addresses (IPv6 gives a
# client a whole /64 of them) cannot grow the table without end. Forgetting costs the limit nothing:
# a client with more addresses than this gets as many attempts by using new ones.
MAX_CLIENTS = 256


@dataclass
class _Client:
    attempts: deque[float] = field(default_factory=lambda: deque(maxlen=ATTEMPTS))  # when each was let through
    limited: bool = False  # refused since its last attempt let through: logged once, not at every refusal


class SignInLimit:
    """The attempts of each client address in the last ``WINDOW_S``; ``clock`` a monotonic one (in
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
        client = self._clients.pop(address, None) or _Client()
        self._clients[address] = client  # the most recently seen
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
            log_event("app.sign_in_limited", client=address, attempts=ATTEMPTS, window_minutes=WINDOW_S // 60)
        return attempts[0] + WINDOW_S - now
