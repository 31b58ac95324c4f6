"""Build ``models/melanoma``: melanoma vs any other lesion from dermoscopy.

    PYTHONPATH=. python -m models.build.melanoma [--data-dir ../shared/data]

Trained on HAM10000 (split by lesion) and ISIC 2017's training and validation parts (no lesion ids:
split by image); ISIC 2017's own test part and ISIC UDA-1 are external tests, never trained or
tuned on. The HAM10000 copy is 200x150, so the device's resize to 224x224 adds no detail; the view
is cut to what the dermatoscope lit (``lit_field``) and a share of augmented views framed darkly;
``dx_type`` (how the diagnosis was confirmed) leaks the label and is never read.
"""

from __future__ import annotations

from typing import Any

from models.build.augment import Augmentation
from models.build.data import load_ham10000, load_isic2017_development, load_isic2017_test, load_isic_uda1
from models.build.recipe import DataSet, Recipe, TrainSettings
from models.build.test_time import FLIP_SETS

HAM10000 = DataSet(
    name="ham10000",
    load=load_ham10000,
    source="HAM10000 (Tschandl P, Rosendahl C, Kittler H. The HAM10000 dataset, a large collection of "
    "multi-source dermatoscopic images of common pigmented skin lesions. Sci Data 5, 180161, 2018), "
    "10,015 images downscaled to 200x150 as kept in GitHub repository mmalek06/bounding-box-detection-ham1000",
    licence="CC BY-NC 4.0 (non-commercial use, attribution required)",
    attribution="Tschandl, Rosendahl, Kittler (2018), HAM10000, Sci. Data 5:180161, CC BY-NC 4.0",
    group_kind="lesion",
    one_training_image_per_group=True,
)

_ISIC2017_SOURCE = (
    "ISIC 2017 'Skin Lesion Analysis Towards Melanoma Detection' (Codella et al., ISBI 2018), images downscaled to "
    "256x256 as kept in GitHub repository walidbousseta/image_mining, ground truth from "
    "iramaniparth/Skin-Lesion-Analysis-for-Melanoma-Detection; images also in HAM10000 or UDA-1 removed"
)
ISIC2017 = DataSet(
    name="isic2017",
    load=load_isic2017_development,
    source=_ISIC2017_SOURCE + "; the challenge's training and validation parts",
    licence="CC0 1.0 (ISIC Archive)",
    attribution="ISIC 2017 challenge (Codella et al., ISBI 2018), ISIC Archive, CC0 1.0",
    group_kind="image",
)
ISIC2017_TEST = DataSet(
    name="isic2017_test",
    load=load_isic2017_test,
    source=_ISIC2017_SOURCE + "; the challenge's own test part, kept out of training and tuning",
    licence=ISIC2017.licence,
    attribution=ISIC2017.attribution,
    group_kind="image",
)

ISIC_UDA1 = DataSet(
    name="isic_uda1",
    load=load_isic_uda1,
    source="ISIC Archive, collection UDA-1 (557 dermoscopic images; 555 labelled melanoma/nevus), as kept in "
    "GitHub repository epostIt/MachineLearning; resized so the long side is at most 1024 px",
    licence="CC0 1.0",
    attribution="UDA-1 by Anonymous, ISIC Archive, CC0 1.0",
    group_kind="lesion",
)


def anchors(sets: dict[str, Any]) -> str:
    def specificity(name: str) -> str:
        s = sets[name]["operating_points"]["screening"]
        return f"{s['sensitivity']['value']:.0%} at {s['specificity']['value']:.0%}"

    return (
        "At the screening point the int8 model reached sensitivity/specificity "
        f"{specificity('test_ham10000')} on the HAM10000 test split, {specificity('test_isic2017')} on the ISIC 2017 "
        f"test split, and on the external sets {specificity('external_isic2017_test')} (ISIC 2017 test part) and "
        f"{specificity('external_isic_uda1')} (ISIC UDA-1), against a commercial anchor of 95% melanoma sensitivity "
        "at 70-78% specificity."
    )


RECIPE = Recipe(
    model_id="melanoma",
    version="2.3.0",
    module="models.build.melanoma",
    task="melanoma vs any other pigmented lesion on a dermoscopic photo",
    modality="dermoscopy",
    crop="lit_field",
    labels=("melanoma",),
    meaning="logit of P(melanoma); sigmoid gives the score in [0, 1]",
    image_size=224,
    split_block=12,
    development=(HAM10000, ISIC2017),
    externals=(ISIC2017_TEST, ISIC_UDA1),
    split_fractions=(0.7, 0.15, 0.15),
    screening_sensitivity=0.95,
    train=TrainSettings(epochs=6, batch_size=64, lr_blocks=3e-4, lr_head=1e-3, feature_flips=True, seed=11),
    augmentation=Augmentation(max_rotation_deg=180.0, framing=0.3),
    augmented_views=(0, 2),
    test_time_flips=FLIP_SETS["flips"],
    intended_use=(
        "Triage aid for pigmented skin lesions on a dermoscopic photo: flags lesions that should be seen by a "
        "dermatologist because melanoma cannot be excluded. It is not a diagnosis; a clinician validates every "
        "result, and a 'no referral' never overrides clinical concern (changing, new or symptomatic lesions)."
    ),
    limitations=(
        "HAM10000 comes from two centres (Vienna, Queensland) and ISIC 2017 mostly from Memorial Sloan Kettering and "
        "other ISIC contributors, mostly light-skinned patients; performance on darker skin types, acral and mucosal "
        "sites is unknown and likely worse.",
        "ISIC 2017 has no lesion ids: its training and validation parts were split by image, so photos of one lesion "
        "can straddle the split and its internal test is somewhat optimistic; its own test part is external.",
        "Training images are 200x150 downscaled copies, so fine dermoscopic structures are partly lost; the device "
        "cuts the photo to the box of what the dermatoscope lit (a black border or bars left out) and resizes it to "
        "224x224 without keeping the aspect ratio, as in training.",
        "A dermatoscope's round field or a light falling off to black in the corners stays in the model's view; "
        "training showed it such framings on a share of ISIC 2017's augmented views only (models/README.md, "
        "'the model's view cut to the lit field').",
        "The external sets (ISIC 2017's test part; ISIC UDA-1, melanoma vs nevus only, other cameras and era) show "
        "how the figures move on collections never tuned on; thresholds were not re-tuned on them.",
        "Each photo is scored four times, its view and the view's three mirror images, and the outputs averaged "
        "(models/README.md, 'Test-time flips'): the device runs the interpreter four times per photo.",
        "Only the last EfficientNet-Lite0 blocks were trained (CPU budget); a fully fine-tuned or larger model would "
        "likely do better.",
        "Scores are not calibrated probabilities; use only the card's operating points.",
    ),
    anchors="melanoma sensitivity 95% at specificity 70-78%",
    anchor_check=anchors,
)

if __name__ == "__main__":
    # Imported here: the build needs torch, a re-measure of the committed model (``remeasure``) reads RECIPE without it.
    from models.build.pipeline import run

    run(RECIPE)
