"""The shipped site broker ties an MQTT session to the certificate that opens it
(``use_username_as_clientid``): a device's certificate that names another client's id gets a session of
its own, and the other client's session, with what is queued in it, is still there for its owner."""

from __future__ import annotations

import time

import pytest

from tests.mqtt_broker import wait_until
from tests.sync.test_security import Client

QUEUED = b"queued while its client was away"
# The victim's certificate (CN = client id): what it subscribes to, and who sends it what meanwhile.
VICTIMS = {
    "review-ingest-1": ("edgescreen/v1/+/+/result", "cam-01", "edgescreen/v1/clinic-7/cam-01/result"),
    "cam-01": ("edgescreen/v1/clinic-7/cam-01/review", "review-ingest-1", "edgescreen/v1/clinic-7/cam-01/review"),
}


@pytest.mark.parametrize("resume", [True, False], ids=["resume-its-session", "clean-start"])
@pytest.mark.parametrize("victim", VICTIMS)
def test_a_device_certificate_cannot_take_or_wipe_another_clients_session(certs, site_broker, victim, resume):
    """cam-02's valid certificate with the victim's client id: asking to resume the session (to read
    what waits in it) or to start clean (which deletes it) reaches neither the session nor its queue."""
    subscription, sender, topic = VICTIMS[victim]
    owner = Client(site_broker.port, certs, victim, client_id=victim, resume=True)
    owner.subscribe(subscription)
    owner.close()
    device = Client(site_broker.port, certs, sender)
    assert device.publish(topic, QUEUED) == "Success"
    device.close()

    intruder = Client(site_broker.port, certs, "cam-02", client_id=victim, resume=resume)
    time.sleep(1.0)  # what a resumed session holds comes at once
    intruder.close()
    assert not intruder.session_present and intruder.messages == []

    owner = Client(site_broker.port, certs, victim, client_id=victim, resume=True)
    try:
        wait_until(lambda: owner.messages, 10, "the message queued in the owner's session")
        assert owner.session_present and owner.messages == [(topic, QUEUED)]
    finally:
        owner.close()
