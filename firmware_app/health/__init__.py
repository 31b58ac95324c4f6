"""Is this device ready to screen? One set of red/amber/green checks, for every place that asks.

The touchscreen app's "Ready to screen?" screen shows them; a red one blocks screening before any
photo is taken. ``edgescreen doctor`` (``doctor.py``) runs the same ``readiness`` plus the checks only
a technician can act on, and the systemd watchdog (``firmware_app.service``) runs ``liveness``: one
idea of "healthy", in one place.
"""
