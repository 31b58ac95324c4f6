"""The device's local records: results, encrypted images, the audit chain, the outbox, reviews."""
