"""Build ``models/melanoma``: melanoma vs any other lesion from dermoscopy (HAM10000, external test ISIC UDA-1).

    PYTHONPATH=. python -m models.build.melanoma [--data-dir ../shared/data]

The HAM10000 copy is 200x150, so the device's plain resize to 224x224 adds no detail; ``dx_type``
(how the diagnosis was confirmed) leaks the label and is never read.
"""

from __future__ import annotations

from models.build.augment import Augmentation
from models.build.data import load_ham10000, load_isic_uda1
from models.build.pipeline import run
from models.build.recipe import DataSet, Recipe
from models.build.train import TrainSettings

HAM10000 = DataSet(
    name="ham10000",
    load=load_ham10000,
    source="HAM10000 (Tschandl P, Rosendahl C, Kittler H. The HAM10000 dataset, a large collection of "
    "multi-source dermatoscopic images of common pigmented skin lesions. Sci Data 5, 180161, 2018), "
    "10,015 images downscaled to 200x150 as kept in GitHub repository mmalek06/bounding-box-detection-ham1000",
    licence="CC BY-NC 4.0 (non-commercial use, attribution required)",
    attribution="Tschandl, Rosendahl, Kittler (2018), HAM10000, Sci. Data 5:180161, CC BY-NC 4.0",
    group_kind="lesion",
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


def anchors(points: dict[str, dict[str, float]]) -> str:
    s = points["screening"]
    return (
        f"At the screening point the int8 model reached sensitivity {s['sensitivity']:.0%} at specificity "
        f"{s['specificity']:.0%} on the HAM10000 test split, against a commercial anchor of 95% melanoma sensitivity "
        "at 70-78% specificity: it does not reach the anchors' specificity, and on the external ISIC UDA-1 set "
        "(metrics.int8.external_isic_uda1) it holds far less well."
    )


RECIPE = Recipe(
    model_id="melanoma",
    module="models.build.melanoma",
    task="melanoma vs any other pigmented lesion on a dermoscopic photo",
    modality="dermoscopy",
    crop="none",
    labels=("melanoma",),
    meaning="logit of P(melanoma); sigmoid gives the score in [0, 1]",
    image_size=224,
    split_block=14,
    development=HAM10000,
    external=ISIC_UDA1,
    split_fractions=(0.7, 0.15, 0.15),
    screening_sensitivity=0.95,
    train=TrainSettings(epochs=10, batch_size=64, lr_blocks=3e-4, lr_head=1e-3, feature_flips=True, seed=11),
    augmentation=Augmentation(max_rotation_deg=180.0, max_scale=0.10, brightness=0.15, contrast=0.15),
    augmented_views=0,
    intended_use=(
        "Triage aid for pigmented skin lesions on a dermoscopic photo: flags lesions that should be seen by a "
        "dermatologist because melanoma cannot be excluded. It is not a diagnosis; a clinician validates every "
        "result, and a 'no referral' never overrides clinical concern (changing, new or symptomatic lesions)."
    ),
    limitations=(
        "HAM10000 comes from two centres (Vienna, Queensland) and mostly light-skinned patients; performance on "
        "darker skin types, acral and mucosal sites is unknown and likely worse.",
        "Training images are 200x150 downscaled copies, so fine dermoscopic structures are partly lost; the device "
        "resizes to 224x224 without keeping the aspect ratio, as in training.",
        "The external ISIC UDA-1 set (melanoma vs nevus only, different cameras and era) shows how the figures move "
        "on another collection; thresholds were not re-tuned on it.",
        "Only the last EfficientNet-Lite0 blocks were trained (CPU budget); a fully fine-tuned or larger model would "
        "likely do better.",
        "Scores are not calibrated probabilities; use only the card's operating points.",
    ),
    anchors="melanoma sensitivity 95% at specificity 70-78%",
    anchor_check=anchors,
)

if __name__ == "__main__":
    run(RECIPE)
