"""From measures to a verdict (``quality.verdict``): a measure that could not be taken."""

from __future__ import annotations

from types import SimpleNamespace

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
