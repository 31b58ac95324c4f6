"""Running under systemd: readiness and watchdog notifications, driven by the health checks."""
