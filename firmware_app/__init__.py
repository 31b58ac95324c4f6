"""EdgeScreen: on-device triage of fundus and dermoscopy photos. A triage aid, never a diagnosis."""

__version__ = "0.1.0"
