"""Why the broker ended an MQTT 5 connection, in the same words on both sides (the device's sync worker
and the station's ingester), and when lost connections look like a session taken over.

The site broker makes a client's id its certificate's CN (``use_username_as_clientid``), so a
session is taken over only by another client with the same certificate: a copy of it (stolen, or two
ingesters or sync workers given one), and the two knock each other off. MQTT 5 has a reason for it,
0x8E "Session taken over", but mosquitto 2.0.11 (Debian 12) closes the older connection without
sending it (measured): the client sees only its connection lost, "Unspecified error (0x80)", like a
network fault. So a takeover is either said (0x8E, by a broker that sends it) or inferred: the third
lost connection within a minute, each of them established first.
"""

from __future__ import annotations

from collections import deque
from typing import Any

SESSION_TAKEN_OVER = 0x8E
REPEATED_LOSSES = 3
WINDOW_S = 60.0


def reason_with_code(reason: Any) -> str:
    """A paho ``ReasonCode`` as ``Session taken over (0x8E)``, the words and code mosquitto's log and
    the MQTT 5 specification use."""
    return f"{reason} (0x{reason.value:02X})"


class LossWatch:
    """The established connections lost lately, to tell a takeover from one network fault."""

    def __init__(self) -> None:
        self._lost_at: deque[float] = deque()

    def taken_over(self, reason: Any, now: float) -> bool:
        """Note one established connection lost (``now`` monotonic); whether it looks taken over."""
        if reason.value == SESSION_TAKEN_OVER:
            return True
        self._lost_at.append(now)
        while now - self._lost_at[0] > WINDOW_S:
            self._lost_at.popleft()
        return len(self._lost_at) >= REPEATED_LOSSES
