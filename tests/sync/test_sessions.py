"""The shipped site broker ties an MQTT session to the certificate that opens it
(``use_username_as_clientid``): a device's certificate that names another client's id gets a session of
its own, and the other client's session, with what is queued in it, is still there for its owner."""

from __future__ import annotations

import logging

import pytest

from tests.mqtt_broker import wait_until
from tests.records.kit import open_store
from tests.sync.kit import BackgroundWorker
from tests.sync.test_security import Client, device_config, sync_status

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
    # What a resumed session holds is sent with the CONNACK, ahead of any answer on that connection.
    intruder.subscribe("edgescreen/v1/clinic-7/cam-02/review")
    intruder.close()
    assert not intruder.session_present and intruder.messages == []

    owner = Client(site_broker.port, certs, victim, client_id=victim, resume=True)
    try:
        wait_until(lambda: owner.messages, 10, "the message queued in the owner's session")
        assert owner.session_present and owner.messages == [(topic, QUEUED)]
    finally:
        owner.close()


def test_the_sync_worker_logs_each_lost_connection_with_its_code_and_a_taken_session_as_an_error(
    tmp_path, certs, site_broker, caplog
):
    """A copy of the device's certificate (a second worker, or a stolen one) reconnecting as paho does:
    mosquitto 2.0.11 closes the older connection without a reason, so the worker sees each one lost
    (0x80) and, the third within a minute, says the session is taken over."""
    caplog.set_level(logging.WARNING, logger="edgescreen")
    config = device_config(tmp_path, certs, site_broker.port)
    open_store(tmp_path).records.close()
    worker = BackgroundWorker(config)
    try:
        wait_until(lambda: sync_status(config)["connection"] == "connected", 30, "the worker connected")
        copy = Client(site_broker.port, certs, "cam-01")
        try:
            taken = 'sync.session_taken_over reason="Unspecified error (0x80)"'
            wait_until(lambda: any(taken in record.getMessage() for record in caplog.records), 60, "the takeover")
        finally:
            copy.close()
    finally:
        worker.stop()
    assert next(r for r in caplog.records if "sync.session_taken_over" in r.getMessage()).levelno == logging.ERROR
    assert any("disconnected: Unspecified error (0x80)" in r.getMessage() for r in caplog.records)
