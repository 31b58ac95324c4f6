"""A read's verdict must agree with the reader's own grading: "no refer" beside a referable grade or a
malignant diagnosis, or "ungradable" beside a grading, is refused with why; "refer" stands beside any."""

from __future__ import annotations

import pytest

from review_station.verdicts import ReadForm, ReadRefused


@pytest.mark.parametrize(
    ("form", "modality", "why"),
    [
        (ReadForm("no_refer", "routine", "severe", "absent"), "fundus", "ICDR grade severe"),
        (ReadForm("no_refer", "routine", "none", "present"), "fundus", "maculopathy present"),
        (ReadForm("no_refer", "routine", "none", "ungradable"), "fundus", "could be graded"),
        (ReadForm("ungradable", "routine", "mild", "absent"), "fundus", "ungradable verdict contradicts"),
        (ReadForm("no_refer", "routine", diagnosis="melanoma"), "dermoscopy", "diagnosis melanoma"),
        (ReadForm("no_refer", "routine", diagnosis="basal_cell_carcinoma"), "dermoscopy", "basal cell carcinoma"),
        (ReadForm("no_refer", "routine", diagnosis="ungradable"), "dermoscopy", "could be graded"),
        (ReadForm("ungradable", "routine", diagnosis="naevus"), "dermoscopy", "diagnosis naevus read off"),
    ],
)
def test_a_verdict_its_own_grading_contradicts_is_refused(form, modality, why):
    with pytest.raises(ReadRefused, match=why):
        form.checked(modality)


@pytest.mark.parametrize(
    ("form", "modality"),
    [
        (ReadForm("refer", "soon", "none", "absent"), "fundus"),  # referred for what the grade does not cover
        (ReadForm("refer", "soon", "ungradable", "ungradable"), "fundus"),  # for a manual examination
        (ReadForm("no_refer", "routine", "mild", "absent"), "fundus"),
        (ReadForm("ungradable", "routine", "ungradable", "absent"), "fundus"),
        (ReadForm("refer", "soon", diagnosis="naevus"), "dermoscopy"),
        (ReadForm("no_refer", "routine", diagnosis="actinic_keratosis"), "dermoscopy"),
        (ReadForm("ungradable", "routine", diagnosis="ungradable"), "dermoscopy"),
    ],
)
def test_a_consistent_read_is_accepted(form, modality):
    assert form.checked(modality) is form
