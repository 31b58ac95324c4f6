"""Build ``models/dr-referable``: referable diabetic retinopathy from fundus photos (DR-600 and APTOS 2019).

    PYTHONPATH=. python -m models.build.dr_referable [--data-dir ../shared/data]

Two sources, two populations and several cameras: DR-600 (one camera, split by patient) and APTOS
2019 (Aravind, several cameras, no patient ids: split by image). The fundus view is the device's
circular field-of-view crop with Shades of Gray colour constancy, at 224 px: APTOS, six images in
seven of the training set, is stored at 224 px, so a larger input adds no detail to most of the
data while the cost of training the top on two cores grows with its area.
"""

from __future__ import annotations

from typing import Any

from models.build.augment import Augmentation
from models.build.data import load_aptos2019, load_dr600
from models.build.recipe import DataSet, Recipe, TrainSettings

DR600 = DataSet(
    name="dr-600",
    load=load_dr600,
    source="public GitHub dataset SRahimDR/DR-image-dataset ('Retinal Fundus Image Dataset for Diabetic "
    "Retinopathy Detection'), 600 colour fundus photos of 300 patients, graded by certified ophthalmologists; "
    "resized so the long side is 1280 px",
    licence="free for academic use, with attribution",
    attribution="SRahimDR/DR-image-dataset, Retinal Fundus Image Dataset for Diabetic Retinopathy Detection",
    group_kind="patient",
)

APTOS2019 = DataSet(
    name="aptos2019",
    load=load_aptos2019,
    source="APTOS 2019 Blindness Detection training set (Asia Pacific Tele-Ophthalmology Society, Aravind Eye "
    "Hospital, India; rural screening with several fundus cameras), 3,662 photos graded 0-4 (referable = grade >= 2), "
    "as kept resized to 224x224 without keeping the aspect ratio in GitHub repository besnikkelmendi/MasterThesis",
    licence="competition data for non-commercial, academic use, with attribution",
    attribution="APTOS 2019 Blindness Detection, Asia Pacific Tele-Ophthalmology Society / Aravind Eye Hospital",
    group_kind="image",
)


def anchors(sets: dict[str, Any]) -> str:
    def point(name: str) -> str:
        s = sets[name]["operating_points"]["screening"]
        return f"{s['sensitivity']['value']:.0%} at {s['specificity']['value']:.0%}"

    return (
        f"At the screening point the int8 model reached sensitivity/specificity {point('test_dr-600')} on the DR-600 "
        f"test split and {point('test_aptos2019')} on the APTOS test split, against commercial referable-DR anchors "
        "of 87-96% sensitivity at 88-92% specificity; the DR-600 test split has 60 patients, so its intervals are wide."
    )


RECIPE = Recipe(
    model_id="dr-referable",
    version="2.0.0",
    module="models.build.dr_referable",
    task="referable diabetic retinopathy (moderate NPDR or worse, any maculopathy, or advanced diabetic eye disease)",
    modality="fundus",
    crop="fundus_fov",
    labels=("referable_dr",),
    meaning="logit of P(referable diabetic retinopathy); sigmoid gives the score in [0, 1]",
    image_size=224,
    split_block=13,
    development=(DR600, APTOS2019),
    split_fractions=(0.6, 0.2, 0.2),
    screening_sensitivity=0.92,
    train=TrainSettings(epochs=6, batch_size=32, lr_blocks=5e-4, lr_head=2e-3, feature_flips=False, seed=7),
    augmentation=Augmentation(max_rotation_deg=180.0, black_border=True),
    augmented_views=(3, 1),
    intended_use=(
        "Triage aid for diabetic retinopathy screening on a colour fundus photo: flags eyes that should be referred "
        "to an ophthalmologist. It is not a diagnosis; a clinician validates every result, and an ungradable photo "
        "is never a 'no referral'."
    ),
    limitations=(
        "Trained on two public sources: DR-600 (one camera, 300 patients) and APTOS 2019 (Indian rural screening, "
        "several cameras). The DR-600 test split rests on about 60 patients, so its confidence intervals are wide.",
        "APTOS has no patient ids: it was split by image, so both eyes of one patient (and the set's few "
        "near-duplicates) can straddle its splits, which makes its internal test somewhat optimistic.",
        "APTOS photos were stored at 224x224 without their aspect ratio; their circular fields are stretched, and "
        "upsampled to the model's input size they carry less detail than a full-resolution capture.",
        "Not validated on Raspberry-Pi-class cameras, smartphone adapters, non-mydriatic low-light captures or "
        "populations other than the two sources'; performance there is unknown until measured.",
        "Referable = moderate NPDR or worse, any maculopathy, or ADED (DR-600) and ICDR grade >= 2 (APTOS, which has "
        "no separate maculopathy grade); the two definitions differ slightly, and grading noise limits the accuracy.",
        "Only the last EfficientNet-Lite0 blocks were trained (CPU budget); a fully fine-tuned or larger model on more "
        "data would likely do better.",
        "Scores are not calibrated probabilities; use only the card's operating points.",
    ),
    anchors="referable DR sensitivity 87-96% at specificity 88-92%",
    anchor_check=anchors,
)

if __name__ == "__main__":
    # Imported here: the build needs torch, a re-measure of the committed model (``remeasure``) reads RECIPE without it.
    from models.build.pipeline import run

    run(RECIPE)
