"""The MQTT topics of one device (DESIGN.md, "MQTT topics"); the broker's ACL confines it to them."""

from __future__ import annotations

from dataclasses import dataclass

PREFIX = "edgescreen/v1"
RESULT = "result"  # device -> broker, QoS 1, not retained
STATUS = "status"  # retained "online" / "offline" (the last will)
REVIEW = "review"  # specialists -> device, QoS 1, edgescreen.review/1, /2 or /3 (signed)
REVIEW_ACK = "review_ack"  # device -> specialists, QoS 1, edgescreen.review-ack/1
ERASURE = "erasure"  # device -> station, QoS 1, edgescreen.erasure/1: a patient's results to erase
ERASED = "erased"  # station -> device, QoS 1, retained, edgescreen.erased/1 (signed): the results it erased


# A level that matches any site or any device, in a subscription filter.
ANY = "+"


@dataclass(frozen=True)
class DeviceTopic:
    """Whose topic a message came in on (the review station checks it against the payload)."""

    site_id: str
    device_id: str
    leaf: str


def device_topic(site: str, device: str, leaf: str) -> str:
    return f"{PREFIX}/{site}/{device}/{leaf}"


def parse_device_topic(topic: str) -> DeviceTopic | None:
    """The site, device and leaf of a device topic, or ``None`` for any other topic."""
    parts = topic.split("/")
    if len(parts) != 5 or "/".join(parts[:2]) != PREFIX:
        return None
    return DeviceTopic(parts[2], parts[3], parts[4])
