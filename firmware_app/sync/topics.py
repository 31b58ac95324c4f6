"""The MQTT topics of one device (DESIGN.md, "MQTT topics"); the broker's ACL confines it to them."""

from __future__ import annotations

RESULT = "result"  # device -> broker, QoS 1, not retained
STATUS = "status"  # retained "online" / "offline" (the last will)
REVIEW = "review"  # specialists -> device, QoS 1, edgescreen.review/1
REVIEW_ACK = "review_ack"  # device -> specialists, QoS 1, edgescreen.review-ack/1


def device_topic(site: str, device: str, leaf: str) -> str:
    return f"edgescreen/v1/{site}/{device}/{leaf}"
