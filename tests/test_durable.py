"""``replace_durably``, ``create_durably``, ``create_whole_durably``: a file written whole or not at all, on a
disk that fills too."""

from __future__ import annotations

import errno

import pytest

from firmware_app.durable import (
    _link_without_replacing,
    create_durably,
    create_whole_durably,
    rename_without_replacing,
    replace_durably,
)
from tests.conftest import filled


@pytest.mark.parametrize("write", [replace_durably, create_durably, create_whole_durably])
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


@pytest.mark.parametrize("rename", [rename_without_replacing, _link_without_replacing])
def test_a_name_taken_is_never_replaced_and_a_free_one_is_renamed_to(tmp_path, rename):
    """Both ways of renaming without replacing (renameat2's flag, and the link where a file system has
    no such flag): onto a name taken, ``FileExistsError`` and both files as they were; onto a free one,
    the file moved, its old name gone."""
    source, taken, free = tmp_path / "copy.partial", tmp_path / "taken", tmp_path / "free"
    source.write_bytes(b"new backup")
    taken.write_bytes(b"the only backup")
    with pytest.raises(FileExistsError):
        rename(source, taken)
    assert (source.read_bytes(), taken.read_bytes()) == (b"new backup", b"the only backup")
    rename(source, free)
    assert free.read_bytes() == b"new backup"
    assert not source.exists()


def test_a_whole_file_is_never_put_over_a_name_taken_and_leaves_nothing_beside_it(tmp_path):
    """``create_whole_durably`` (the station's ``export --out``): onto a name taken, even one taken
    after the caller found it free, ``FileExistsError``, that file as it was and no part of the new
    one left beside it; onto a free name, the data there, and nothing else."""
    taken, free = tmp_path / "taken.csv", tmp_path / "free.csv"
    taken.write_bytes(b"the earlier export")
    with pytest.raises(FileExistsError):
        create_whole_durably(taken, b"a new export")
    assert taken.read_bytes() == b"the earlier export" and list(tmp_path.iterdir()) == [taken]
    create_whole_durably(free, b"a new export")
    assert free.read_bytes() == b"a new export" and sorted(tmp_path.iterdir()) == [free, taken]
