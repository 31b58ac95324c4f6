"""The comment sent to the device when two blind reads agree and settle a result: both readers'.

The verdict names one reviewer (the second reader, ``edgescreen.review``'s ``reviewer``) and carries one
comment of at most ``MAX_COMMENT`` characters, so each reader's comment is introduced by their place,
first or second, never their name, in the two languages a nurse may read (the device shows the
comment as it comes); where the two do not fit, each gets an even share, a short one whole.
"""

from __future__ import annotations

from edgescreen_wire.review import MAX_COMMENT

LABELS = ("First reader / Premier lecteur: ", "Second reader / Second lecteur: ")
CUT = "…"  # ends a comment cut to fit: the whole of it stays in the station's reads


def joint_comment(first: str | None, second: str | None) -> str | None:
    """Each reader's comment, labelled with their place and one to a line, within ``MAX_COMMENT``
    characters; ``None`` when neither reader wrote one."""
    labelled = [(label, text) for label, text in zip(LABELS, (first, second), strict=True) if text]
    if not labelled:
        return None
    room = MAX_COMMENT - sum(len(label) for label, _ in labelled) - (len(labelled) - 1)  # the line breaks
    kept = _shared([text for _, text in labelled], room)
    return "\n".join(label + text for (label, _), text in zip(labelled, kept, strict=True))


def _shared(texts: list[str], room: int) -> list[str]:
    """``texts`` within ``room`` characters together: the shortest first take what they need, up to an
    even share of what is left, so a short comment is never cut for a long one; a cut one ends in ``CUT``."""
    kept = list(texts)
    waiting = sorted(range(len(texts)), key=lambda index: len(texts[index]))
    for place, index in enumerate(waiting):
        share = room // (len(waiting) - place)
        if len(texts[index]) > share:
            kept[index] = texts[index][: share - len(CUT)] + CUT
        room -= len(kept[index])
    return kept
