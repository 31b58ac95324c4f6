"""``edgescreen-review images keygen`` and ``verdicts keygen`` as an administrator runs them: the public
half, the file the devices are given, never written over another file, and never a private key left
without its public half."""

from __future__ import annotations

import pytest

from edgescreen_wire.sealed_image import read_public_key as read_photo_key
from edgescreen_wire.verdict_signature import read_public_key as read_verdict_key
from tests.review_station.test_cli import review

# Each key: its config section, and how its public file is read back.
KEYS = {"images": read_photo_key, "verdicts": read_verdict_key}


def station(tmp_path, section: str, language: str = "en"):
    """A station config on an SQLite database speaking ``language``, its ``section``'s private key file
    to be made."""
    private = tmp_path / "station" / f"{section}.key"
    config = tmp_path / "review.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "review.sqlite3"}"\n[{section}]\nprivate_key_file = "{private}"\n'
        f'[web]\nlanguage = "{language}"\n'
    )
    return config, private


NBSP = "\u00a0"  # French sets a space that never breaks before : and ; (the device's typography)
# keygen's refusals as the station says them in each language.
SAID = {
    "en": {
        "private_taken": "refused: {path}: a key is already there; it is never overwritten",
        "public_taken": "refused: {path}: a file is already there; a public key is never written over it",
        "same_file": "refused: {path}: the public key goes to a file of its own, not the private key's",
        "public_unwritable": "refused: {path}: the public key cannot be written ([Errno 2] No such file or directory",
    },
    "fr": {
        "private_taken": f"refusé{NBSP}: {{path}}{NBSP}: une clé s'y trouve déjà{NBSP}; elle n'est jamais écrasée",
        "public_taken": f"refusé{NBSP}: {{path}}{NBSP}: un fichier s'y trouve déjà{NBSP}; une clé publique n'est "
        "jamais écrite par-dessus",
        "same_file": f"refusé{NBSP}: {{path}}{NBSP}: la clé publique va dans un fichier à elle, pas dans celui de la "
        "clé privée",
        "public_unwritable": f"refusé{NBSP}: {{path}}{NBSP}: la clé publique ne peut pas être écrite ([Errno 2] No "
        "such file or directory",
    },
}


@pytest.mark.parametrize("section", list(KEYS))
def test_keygen_never_writes_its_public_half_over_a_file_or_through_a_link(tmp_path, section: str) -> None:
    """``verdicts keygen --public images.pub`` wrote the verdict key over the photo key's public file,
    the one devices are given, without a word, and through a link to wherever it pointed. Now a file
    or a link there is refused (status 1), left as it was, and no private key is made."""
    config, private = station(tmp_path, section)
    other, link = tmp_path / "images.pub", tmp_path / "linked.pub"
    other.write_bytes(b"the photo key's public half, given to every device")
    link.symlink_to(tmp_path / "elsewhere.pub")
    for public in (other, link):
        refused = review(config, section, "keygen", "--public", str(public))
        said = SAID["en"]["public_taken"].format(path=public) + "\n"
        assert refused.returncode == 1 and refused.stderr == said, refused.stderr
    assert other.read_bytes() == b"the photo key's public half, given to every device"
    assert not (tmp_path / "elsewhere.pub").exists() and not private.exists()


@pytest.mark.parametrize("section", list(KEYS))
def test_keygen_leaves_no_private_key_without_its_public_half(tmp_path, section: str) -> None:
    """A ``--public`` the station cannot write (its folder missing) ended in a traceback after the
    private key was made: the public half was lost, and the next run refused "a key is already
    there". Now it is refused with nothing made, and made whole once the folder is there."""
    config, private = station(tmp_path, section)
    public = tmp_path / "usb" / "station.pub"
    refused = review(config, section, "keygen", "--public", str(public))
    said = SAID["en"]["public_unwritable"].format(path=public)
    assert refused.returncode == 1 and refused.stderr.startswith(said), refused.stderr
    assert not private.exists() and not public.parent.exists()
    public.parent.mkdir()
    made = review(config, section, "keygen", "--public", str(public))
    assert made.returncode == 0, made.stderr
    assert KEYS[section](public) and private.stat().st_mode & 0o777 == 0o600
    assert sorted(public.parent.iterdir()) == [public]


@pytest.mark.parametrize("section", list(KEYS))
def test_keygen_refuses_a_public_file_behind_a_link_loop_as_unwritable(tmp_path, section: str) -> None:
    """``--public`` through two links naming each other: resolving it to compare with the private key's
    file raised RuntimeError (``Path.resolve`` on a loop, Python 3.11) and keygen ended in a traceback.
    It is refused as a file it cannot write, the system's reason given, and no private key left."""
    config, private = station(tmp_path, section)
    (tmp_path / "loop").symlink_to(tmp_path / "back")
    (tmp_path / "back").symlink_to(tmp_path / "loop")
    public = tmp_path / "loop" / "station.pub"
    refused = review(config, section, "keygen", "--public", str(public))
    said = (
        SAID["en"]["public_unwritable"]
        .format(path=public)
        .replace("[Errno 2] No such file or directory", "[Errno 40] Too many levels of symbolic links")
    )
    assert refused.returncode == 1 and refused.stderr.startswith(said), refused.stderr
    assert not private.exists()


@pytest.mark.parametrize("section", list(KEYS))
def test_keygen_refuses_the_private_keys_own_file_however_it_is_spelt(tmp_path, section: str) -> None:
    """The two halves were told apart by their unresolved paths: ``--public`` naming the private key's
    file through ``..`` or a link to its folder passed as another file, the private half was written
    and then the public half refused as "a file is already there". Now the paths are compared
    resolved, and each spelling is refused as the private key's own file before anything is made."""
    config, private = station(tmp_path, section)
    (tmp_path / "linked").symlink_to(private.parent)
    for public in (private.parent / ".." / "station" / private.name, tmp_path / "linked" / private.name):
        refused = review(config, section, "keygen", "--public", str(public))
        said = SAID["en"]["same_file"].format(path=public) + "\n"
        assert refused.returncode == 1 and refused.stderr == said, refused.stderr
        assert not private.exists() and not private.parent.exists()


@pytest.mark.parametrize("language", list(SAID))
@pytest.mark.parametrize("section", list(KEYS))
def test_keygen_refuses_in_the_stations_language(tmp_path, section: str, language: str) -> None:
    """keygen's refusals were English whatever ``[web] language`` said, where the station's other
    refusals at its command line follow it. Now each is said in the station's language; the system's
    own reason for a file it cannot write stays its own words, as the station's other commands say them."""
    config, private = station(tmp_path, section, language)
    said = SAID[language]
    public = tmp_path / "usb" / "station.pub"
    refused = review(config, section, "keygen", "--public", str(public))
    assert refused.returncode == 1 and refused.stderr.startswith(said["public_unwritable"].format(path=public))
    refused = review(config, section, "keygen", "--public", str(private))
    assert refused.returncode == 1 and refused.stderr == said["same_file"].format(path=private) + "\n"
    public = tmp_path / "station.pub"
    assert review(config, section, "keygen", "--public", str(public)).returncode == 0
    refused = review(config, section, "keygen", "--public", str(public))
    assert refused.returncode == 1 and refused.stderr == said["private_taken"].format(path=private) + "\n"
    private.rename(tmp_path / "kept.key")
    refused = review(config, section, "keygen", "--public", str(public))
    assert refused.returncode == 1 and refused.stderr == said["public_taken"].format(path=public) + "\n"
