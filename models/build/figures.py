"""Print the per-set figures of the committed cards as the markdown table the READMEs show.

    python -m models.build.figures

The figures are the cards' own (int8 model, each source's held-out test split and each external
set), read through the device's ``read_card``; this only lays them out, so the READMEs cannot drift
from the cards.
"""

from __future__ import annotations

from pathlib import Path

from firmware_app.inference.card import Estimate, MeasuredSet, ModelCard, read_card

MODELS_DIR = Path(__file__).resolve().parents[1]
MODEL_IDS = ("dr-referable", "melanoma")


def _estimate(estimate: Estimate) -> str:
    return f"{estimate.value:.3f} ({estimate.ci95[0]:.3f}-{estimate.ci95[1]:.3f})"


def _set_label(name: str) -> str:
    kind, _, source = name.partition("_")
    return f"{source} (internal test)" if kind == "test" else f"{source} (external)"


def _row(card: ModelCard, measured: MeasuredSet) -> str:
    point = card.default_operating_point
    cells = [
        f"`{card.id}`",
        _set_label(measured.name),
        f"{measured.images} ({measured.positives} positive)",
        _estimate(measured.auc),
        _estimate(measured.sensitivity[point]),
        _estimate(measured.specificity[point]),
    ]
    return "| " + " | ".join(cells) + " |"


def table(cards: list[ModelCard]) -> str:
    header = "| model | test set | images | AUC | sensitivity (screening) | specificity (screening) |"
    lines = [header, "|---|---|---|---|---|---|"]
    for card in cards:
        sets = [m for name, m in card.measured.items() if name.startswith(("test_", "external_"))]
        lines += [_row(card, measured) for measured in sets]
    return "\n".join(lines)


def main() -> None:
    print(table([read_card(MODELS_DIR / model_id / "card.json") for model_id in MODEL_IDS]))


if __name__ == "__main__":
    main()
