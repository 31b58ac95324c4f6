"""From the broker into the database: results, device status, and the devices' acks of verdicts."""
