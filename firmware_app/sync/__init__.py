"""Store-and-forward to the site broker: the wire payloads, the topics, and the MQTT worker."""
