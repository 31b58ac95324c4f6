"""Build scripts for EdgeScreen's triage models: train, quantise to full-integer TFLite, evaluate, write cards.

One command per model (``python -m models.build.dr_referable``, ``python -m models.build.melanoma``);
everything the two share lives in the modules of this package, so the two recipes differ only in data
and settings. See ``models/README.md``.
"""
