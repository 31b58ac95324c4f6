"""Is this device ready to screen? One set of red/amber/green checks, for every place that asks.

The touchscreen app's "Ready to screen?" screen shows them; a red one blocks screening before any
photo is taken. A future ``edgescreen doctor`` and a watchdog are meant to call the same
``readiness`` rather than grow their own idea of "healthy".
"""
