"""The device out of memory, said as such: a 2 GB board with the app, the sync service and a camera
buffer can run short, and a bare ``MemoryError`` (or a JPEG that "could not be encoded") read as a
bug. Raised where an allocation failed (reading a model, encoding the kept photo), before anything
is written; the command line and the nurse's app tell the nurse to restart the device."""

from __future__ import annotations

# The catalogue's sentence (firmware_app/messages.py) the nurse and the command line read.
MESSAGE_KEY = "device.out_of_memory"


class OutOfMemory(RuntimeError):
    """An allocation failed while ``doing``; nothing of the screening was recorded."""

    def __init__(self, doing: str) -> None:
        super().__init__(f"out of memory while {doing}")
