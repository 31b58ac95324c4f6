"""The committed models, copied where a test may tamper with them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import MODELS_DIR

MODEL_IDS = ("dr-referable", "melanoma")


@pytest.fixture(params=MODEL_IDS)
def model_id(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture()
def model_copy(tmp_path: Path, model_id: str) -> Path:
    """A private copy of a committed model's folder."""
    return Path(shutil.copytree(MODELS_DIR / model_id, tmp_path / model_id))


def edit_card(model_dir: Path, edit) -> None:
    """Apply ``edit`` to the card's JSON document in place."""
    card_path = model_dir / "card.json"
    document = json.loads(card_path.read_text())
    edit(document)
    card_path.write_text(json.dumps(document))
