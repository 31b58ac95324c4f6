"""One shape for what the station refuses as asked (an export's dates, an account's name, a device's
id), so that the export page and the command line say each refusal in their reader's language from
the station's catalogue (``review_station/words.py``: ``words.refusal``), while its log, its
traceback and a script's message keep the English."""

from __future__ import annotations


class Refused(ValueError):
    """A request refused as given; the message is the English of why. ``key`` names its sentence,
    "<topic>.refused.<key>" in the catalogue (``topic``: the subclass's), ``values`` what it says."""

    topic = ""

    def __init__(self, why: str, key: str, **values: str) -> None:
        super().__init__(why)
        self.key, self.values = key, values

    @property
    def sentence_key(self) -> str:
        return f"{self.topic}.refused.{self.key}"
