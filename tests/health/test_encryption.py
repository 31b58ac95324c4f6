"""The doctor's encryption check against fixture mountinfo and sysfs trees (no dm-crypt here)."""

from __future__ import annotations

from pathlib import Path

from firmware_app.health.checks import Level, check_encryption
from firmware_app.messages import CATALOGUE

# A Pi's card (179:2 the root), a LUKS data partition (254:0, dm-crypt on 179:3), LVM stacked on it
# (254:1), a btrfs subvolume (0:33: no block device of its own), and a mount point with a space; all
# but the root mounted in a folder of the test's (FS), which the check resolves on the real disk.
MOUNTINFO = """\
22 1 179:2 / / rw,noatime shared:1 - ext4 /dev/mmcblk0p2 rw
30 22 254:0 / FS/var/lib/edgescreen rw,noatime shared:9 - ext4 /dev/mapper/edgescreen-data rw
31 22 254:1 / FS/srv/records rw shared:10 master:2 - ext4 /dev/mapper/vg-records rw
32 22 0:33 /@data FS/srv/btrfs rw - btrfs /dev/sda1 rw,subvol=/@data
33 22 179:3 / FS/media/usb\\040stick rw - vfat /dev/sda2 rw
"""


def sysfs(tmp_path: Path) -> Path:
    """/sys/dev/block links to device folders, with dm/uuid and slaves/ as the kernel lays them out."""
    root = tmp_path / "sys"
    devices = root / "devices"
    card = devices / "platform/mmc/mmcblk0"
    for number, partition in (("179:2", "mmcblk0p2"), ("179:3", "mmcblk0p3")):
        (card / partition).mkdir(parents=True)
        link = root / "dev/block" / number
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(card / partition)
    for number, name, uuid, below in (
        ("254:0", "dm-0", "CRYPT-LUKS2-0123456789abcdef-edgescreen-data\n", card / "mmcblk0p3"),
        ("254:1", "dm-1", "LVM-Jm1m2dZ3\n", devices / "virtual/block/dm-0"),
    ):
        folder = devices / "virtual/block" / name
        (folder / "dm").mkdir(parents=True)
        (folder / "dm/uuid").write_text(uuid)
        (folder / "slaves").mkdir()
        (folder / "slaves" / below.name).symlink_to(below)
        (root / "dev/block" / number).symlink_to(folder)
    return root


def check(tmp_path: Path, folder: str):
    fs = (tmp_path / "fs").resolve()
    for point in ("var/lib/edgescreen", "srv/records", "srv/btrfs", "media/usb stick"):
        (fs / point).mkdir(parents=True, exist_ok=True)
    mountinfo = tmp_path / "mountinfo"
    mountinfo.write_text(MOUNTINFO.replace(" FS/", f" {fs}/"))
    sys_root = tmp_path / "sys" if (tmp_path / "sys").exists() else sysfs(tmp_path)
    return check_encryption(fs / folder.lstrip("/"), mountinfo, sys_root)


def test_records_on_the_card_are_amber_and_say_what_a_stolen_card_exposes(tmp_path):
    plain = check(tmp_path, "/var/lib")  # the folder above the mount: on the card
    assert plain.level is Level.AMBER and plain.values["source"] == "/dev/mmcblk0p2"
    assert "lost or stolen card" in CATALOGUE[plain.message_key]["en"].format(**plain.values)


def test_records_on_luks_or_on_lvm_over_luks_are_green(tmp_path):
    assert check(tmp_path, "/var/lib/edgescreen/not-made-yet").level is Level.GREEN  # its folder above
    assert check(tmp_path, "/srv/records").values["source"] == "/dev/mapper/vg-records"
    assert check(tmp_path, "/srv/records").level is Level.GREEN


def test_a_mount_with_no_block_device_or_no_mountinfo_cannot_tell_and_says_so(tmp_path):
    btrfs = check(tmp_path, "/srv/btrfs")
    assert (btrfs.level, btrfs.message_key) == (Level.AMBER, "health.encryption.unknown")
    assert check_encryption(tmp_path, tmp_path / "none", tmp_path).message_key == "health.encryption.unknown"


def test_an_escaped_mount_point_is_read_as_the_kernel_wrote_it(tmp_path):
    usb = check(tmp_path, "/media/usb stick")
    assert usb.level is Level.AMBER and usb.values["source"] == "/dev/sda2"
