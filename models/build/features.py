"""Run the frozen trunk once per view and cache its feature maps, so training only pays for the top.

The trunk is most of the network's compute (about 80 ms per 224 px image on this 2-core machine);
caching its output turns each training epoch into seconds. Features are kept in float32 so the float
model's scores computed from them equal those of the full network on the same view.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from models.build.backbone import Trunk
from models.build.trunks import PIXEL_MEAN, PIXEL_STD


def to_tensor(views: np.ndarray) -> torch.Tensor:
    """uint8 NHWC views -> normalised float NCHW tensor, exactly as the card's normalisation says."""
    mean = np.asarray(PIXEL_MEAN, np.float32)
    std = np.asarray(PIXEL_STD, np.float32)
    normalised = (views.astype(np.float32) - mean) / std
    return torch.from_numpy(np.ascontiguousarray(normalised.transpose(0, 3, 1, 2)))


def run_trunk(
    trunk: Trunk,
    views: np.ndarray,
    desc: str,
    transform: Callable[[np.ndarray, int], np.ndarray] | None = None,
    batch_size: int = 32,
) -> np.ndarray:
    """Trunk feature maps of every view (optionally transformed first), float32 NCHW."""
    chunks = []
    with torch.inference_mode():
        for start in tqdm(range(0, len(views), batch_size), desc=desc, unit="batch"):
            batch = views[start : start + batch_size]
            if transform is not None:
                batch = np.stack([transform(view, start + i) for i, view in enumerate(batch)])
            chunks.append(trunk(to_tensor(batch)).numpy())
    return np.concatenate(chunks)


def cached_trunk_features(
    trunk: Trunk,
    views: np.ndarray,
    cache_dir: Path,
    name: str,
    key: str,
    transform: Callable[[np.ndarray, int], np.ndarray] | None = None,
) -> np.ndarray:
    """``run_trunk`` memoised on disk; ``key`` must change whenever the trunk or the transform does."""
    digest = hashlib.sha256(key.encode())
    digest.update(hashlib.sha256(views.tobytes()).digest())
    path = cache_dir / f"features-{name}-{digest.hexdigest()[:16]}.npy"
    if path.exists():
        return np.load(path)
    features = run_trunk(trunk, views, desc=f"trunk {name}", transform=transform)
    cache_dir.mkdir(parents=True, exist_ok=True)
    np.save(path, features)
    return features
