from firmware_app.inference.card import Estimate, OperatingPoint
from firmware_app.inference.model import ModelReference, Prediction
from firmware_app.inference.triage import Outcome, triage, ungradable

POINT = OperatingPoint("screening", 0.3, Estimate(0.9, (0.8, 0.95)), Estimate(0.7, (0.6, 0.8)))
MODEL = ModelReference("dr-referable", "1.0.0", "0" * 64)


def test_at_the_threshold_is_refer_and_below_is_no_refer():
    assert triage(Prediction(0.3, MODEL), POINT).outcome is Outcome.REFER
    assert triage(Prediction(0.2999, MODEL), POINT).outcome is Outcome.NO_REFER


def test_result_carries_threshold_and_operating_point():
    result = triage(Prediction(0.8, MODEL), POINT)
    assert result.threshold == 0.3 and result.operating_point is POINT and result.model is MODEL


def test_ungradable_never_becomes_no_refer_even_with_a_low_forced_score():
    plain = ungradable()
    forced = ungradable(Prediction(0.01, MODEL), POINT)
    assert plain.outcome is forced.outcome is Outcome.UNGRADABLE
    assert plain.score is None and not plain.research_only
    assert forced.score == 0.01 and forced.research_only
