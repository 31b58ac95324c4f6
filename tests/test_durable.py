"""``replace_durably``, ``create_durably``: a file written whole or not at all, on a disk that fills too."""

from __future__ import annotations

import errno

import pytest

from firmware_app.durable import create_durably, replace_durably
from tests.conftest import filled


@pytest.mark.parametrize("write", [replace_durably, create_durably])
def test_a_file_larger_than_the_room_left_is_refused_never_put_in_place_cut_short(tiny_filesystem, write):
    """With less room than the data, the kernel writes what fits and returns that shorter count: it was
    taken for the whole, and a cut file renamed into place (a wipe's unsent erasures with commands
    missing, the wipe going on). Now the rest is written too, the disk says it is full, and nothing
    is left, not even the part written."""
    filled(tiny_filesystem, leaving=4096)
    with pytest.raises(OSError) as raised:
        write(tiny_filesystem / "erasures.txt", bytes(range(256)) * 64)  # 16 KiB
    assert raised.value.errno == errno.ENOSPC
    assert sorted(path.name for path in tiny_filesystem.iterdir()) == ["filler"]
