"""From measures to a verdict (``quality.verdict``): a measure that could not be taken, or is missing."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from firmware_app.quality.verdict import Rule, Verdict, judge, rejected


def test_a_measure_that_could_not_be_taken_fails_its_rule_and_is_left_out_of_the_record():
    """NaN compares false with any limit, so it would pass every rule; and the record and the results
    synced to the specialists carry finite numbers only."""
    rules = (Rule("too_dark", "highlights", "min_highlights", 0.9), Rule("noisy", "noise", "max_noise", 0.5))
    limits = SimpleNamespace(min_highlights=0.8, max_noise=1.0)
    report = judge("dermoscopy", rules, {"highlights": float("nan"), "noise": 0.5}, limits, usable_from=0.8)
    assert report.verdict is Verdict.REJECT and report.reasons == ("too_dark",)
    assert report.measures == {"noise": 0.5}
    assert rejected("fundus", "no_field_of_view", {"colourfulness": float("nan")}).measures == {}


def test_a_missing_measure_fails_closed_unless_another_of_its_group_is_there():
    """A rule's measure missing from a photo's measures (a misspelt name, a measure dropped in a
    change) must never pass the photo; of a ``one_of`` group (dermoscopy's two kinds of focus) the
    rules whose measures the photo carries judge it, and a photo carrying none of them is an error."""
    limits = SimpleNamespace(min_sharpness=0.4, min_coarse_sharpness=0.3)
    with pytest.raises(KeyError):
        judge("dermoscopy", (Rule("blurred", "sharpnes", "min_sharpness", 0.7),), {"sharpness": 0.05}, limits, 0.8)
    kinds = (
        Rule("blurred", "sharpness", "min_sharpness", 0.7, one_of="focus"),
        Rule("blurred", "coarse_sharpness", "min_coarse_sharpness", 0.6, one_of="focus"),
    )
    assert judge("dermoscopy", kinds, {"coarse_sharpness": 0.2}, limits, 0.8).reasons == ("blurred",)
    assert judge("dermoscopy", kinds, {"sharpness": 0.7}, limits, 0.8).verdict is Verdict.GOOD
    with pytest.raises(KeyError):
        judge("dermoscopy", kinds, {"sharpnes": 0.05}, limits, 0.8)


@pytest.mark.parametrize(
    ("setting", "typical", "good", "past"), [("max_glare", 0.0, 0.0, 0.01), ("min_level", 0.5, 0.7, 0.4)]
)
def test_a_limit_at_the_typical_value_passes_typical_photos_and_refuses_past_it(setting, typical, good, past):
    """A limit fitted where every good photo read the same value (a share none of them had any of)
    lies at the typical value: a photo reading it, or better, is good, not "at the limit" (every
    photo was ``usable`` for it); one past it is refused, for upper and lower limits alike."""
    rules = (Rule("defect", "measure", setting, typical),)
    limits = SimpleNamespace(**{setting: typical})
    assert judge("fundus", rules, {"measure": typical}, limits, usable_from=0.8).verdict is Verdict.GOOD
    assert judge("fundus", rules, {"measure": good}, limits, usable_from=0.8).verdict is Verdict.GOOD
    assert judge("fundus", rules, {"measure": past}, limits, usable_from=0.8).reasons == ("defect",)


@pytest.mark.parametrize(
    ("setting", "typical", "limit", "good", "past"),
    [("max_noise", 0.85, 0.6, 0.5, 0.7), ("min_level", 0.5, 0.6, 0.65, 0.55)],
)
def test_a_limit_set_tighter_than_the_typical_value_still_refuses_past_it(setting, typical, limit, good, past):
    """A limit on the good side of its rule's typical value (a camera's own quieter sensor fitted by
    ``edgescreen quality fit``, or set by hand) refuses what lies past it: the severity, measured
    from the typical value towards the limit, had the wrong sign there and read 0, so the rule
    never fired. What lies short of the limit passes, good."""
    rules = (Rule("defect", "measure", setting, typical),)
    limits = SimpleNamespace(**{setting: limit})
    assert judge("fundus", rules, {"measure": past}, limits, usable_from=0.8).reasons == ("defect",)
    assert judge("fundus", rules, {"measure": typical}, limits, usable_from=0.8).reasons == ("defect",)
    assert judge("fundus", rules, {"measure": good}, limits, usable_from=0.8).verdict is Verdict.GOOD
