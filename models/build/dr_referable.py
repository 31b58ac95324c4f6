"""Build ``models/dr-referable``: referable diabetic retinopathy from fundus photos (DR-600).

    PYTHONPATH=. python -m models.build.dr_referable [--data-dir ../shared/data]

The fundus view is the device's circular field-of-view crop at 320 px: microaneurysms and small
haemorrhages are a few pixels wide at 224 px, so the larger input is worth its cost on a small set.
"""

from __future__ import annotations

from models.build.augment import Augmentation
from models.build.data import load_dr600
from models.build.pipeline import run
from models.build.recipe import DataSet, Recipe
from models.build.train import TrainSettings

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


def anchors(points: dict[str, dict[str, float]]) -> str:
    s, b = points["screening"], points["balanced"]
    return (
        f"On its held-out test split the int8 model reached sensitivity {s['sensitivity']:.0%} at specificity "
        f"{s['specificity']:.0%} (screening point) and {b['sensitivity']:.0%} at {b['specificity']:.0%} (balanced), "
        "against commercial referable-DR anchors of 87-96% sensitivity at 88-92% specificity; with 120 test "
        "images (60 patients) from one public dataset the intervals are wide, and it does not reach the anchors' "
        "specificity."
    )


RECIPE = Recipe(
    model_id="dr-referable",
    module="models.build.dr_referable",
    task="referable diabetic retinopathy (moderate NPDR or worse, any maculopathy, or advanced diabetic eye disease)",
    modality="fundus",
    crop="fundus_fov",
    labels=("referable_dr",),
    meaning="logit of P(referable diabetic retinopathy); sigmoid gives the score in [0, 1]",
    image_size=320,
    split_block=13,
    development=DR600,
    split_fractions=(0.6, 0.2, 0.2),
    screening_sensitivity=0.92,
    train=TrainSettings(epochs=12, batch_size=32, lr_blocks=5e-4, lr_head=2e-3, feature_flips=False, seed=7),
    augmentation=Augmentation(max_rotation_deg=30.0, max_scale=0.08, brightness=0.2, contrast=0.2, black_border=True),
    augmented_views=4,
    intended_use=(
        "Triage aid for diabetic retinopathy screening on a colour fundus photo: flags eyes that should be referred "
        "to an ophthalmologist. It is not a diagnosis; a clinician validates every result, and an ungradable photo "
        "is never a 'no referral'."
    ),
    limitations=(
        "Trained and tested on 600 photos of 300 patients from a single public dataset (one camera, one population); "
        "test figures rest on about 60 patients, so their confidence intervals are wide.",
        "Not validated on Raspberry-Pi-class cameras, smartphone adapters, non-mydriatic low-light captures or other "
        "ethnic groups; performance there is unknown until measured.",
        "Referable = moderate NPDR or worse, any maculopathy, or ADED, as labelled in the dataset; grading noise in "
        "the labels limits the achievable accuracy.",
        "Only the last EfficientNet-Lite0 blocks were trained (CPU budget); a fully fine-tuned or larger model on more "
        "data would likely do better.",
        "Scores are not calibrated probabilities; use only the card's operating points.",
    ),
    anchors="referable DR sensitivity 87-96% at specificity 88-92%",
    anchor_check=anchors,
)

if __name__ == "__main__":
    run(RECIPE)
