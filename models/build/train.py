"""Fit the trainable top of the network on cached trunk features, keeping the epoch with the best validation AUC.

The class imbalance (melanoma is ~11% of HAM10000) is handled by weighting positives in the loss.
Several sources are balanced by sampling: each epoch draws images with replacement so every source
contributes equally, or a large source (HAM10000, APTOS) would teach its own camera's look. The
epoch kept is the one with the best mean of the per-source validation AUCs, so a model that does
well on one source only is not preferred.
Each training image may have several cached views (augmented in image space); on top of that, a
random flip/transpose of the feature maps adds cheap orientation variety for rotation-free subjects
(skin lesions), and is switched off where orientation carries meaning.
Two optional regularisers aim at transfer to other cameras rather than at the training sources'
look: mixup of the trained blocks' input features (pairs of views blended with their labels, a
smoother boundary between what one source and another look like), and an exponential moving average
of the weights, which is what is validated and kept (weight averaging settles in flatter minima,
which carry better to unseen domains: Cha et al., SWAD, NeurIPS 2021).
"""

from __future__ import annotations

import copy
import logging

import numpy as np
import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from tqdm import tqdm

from models.build.backbone import Top
from models.build.metrics import auc
from models.build.recipe import TrainSettings

log = logging.getLogger(__name__)


@torch.inference_mode()
def logits(top: Top, features: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Float logits of the top in eval mode (the float model's output on those views)."""
    top.eval()
    starts = range(0, len(features), batch_size)
    out = [top(torch.from_numpy(features[i : i + batch_size])).numpy()[:, 0] for i in starts]
    return np.concatenate(out).astype(np.float64)


def _flip(batch: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random dihedral transform of square feature maps, one draw per batch (cheap, and enough)."""
    choice = torch.randint(0, 8, (1,), generator=generator).item()
    if choice & 1:
        batch = batch.flip(3)
    if choice & 2:
        batch = batch.flip(2)
    if choice & 4:
        batch = batch.transpose(2, 3)
    return batch


def _mixup(
    batch: torch.Tensor, targets: torch.Tensor, alpha: float, rng: np.random.Generator, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Blend each view with another of the batch, and its label likewise (one weight per batch)."""
    weight = float(rng.beta(alpha, alpha))
    partner = torch.randperm(len(batch), generator=generator)
    return weight * batch + (1 - weight) * batch[partner], weight * targets + (1 - weight) * targets[partner]


def source_balanced_weights(sources: np.ndarray) -> np.ndarray:
    """Sampling weight per image so that each source's images weigh the same in total."""
    _, inverse, counts = np.unique(sources, return_inverse=True, return_counts=True)
    return 1.0 / counts[inverse]


def mean_source_auc(labels: np.ndarray, scores: np.ndarray, sources: np.ndarray) -> float:
    """Mean over sources of each source's AUC."""
    return float(np.mean([auc(labels[sources == s], scores[sources == s]) for s in np.unique(sources)]))


def fit_top(
    top: Top,
    train_features: np.ndarray,
    train_labels: np.ndarray,
    train_sources: np.ndarray,
    val_features: np.ndarray,
    val_labels: np.ndarray,
    val_sources: np.ndarray,
    settings: TrainSettings,
) -> tuple[Top, list[dict[str, float]]]:
    """Train ``top`` and return the copy with the best mean per-source validation AUC, with the history."""
    torch.manual_seed(settings.seed)
    generator = torch.Generator().manual_seed(settings.seed)
    rng = np.random.default_rng(settings.seed)
    weights = source_balanced_weights(train_sources)
    positives = float(weights[train_labels == 1].sum())
    pos_weight = torch.tensor([(weights.sum() - positives) / max(positives, 1e-9)])
    draw = torch.from_numpy(weights)
    loss_fn = nn.BCEWithLogitsLoss(pos_weight=pos_weight)
    head_params = list(top.fc.parameters())
    head_ids = {id(p) for p in head_params}
    body_params = [p for p in top.parameters() if id(p) not in head_ids]
    optimiser = torch.optim.AdamW(
        [{"params": body_params, "lr": settings.lr_blocks}, {"params": head_params, "lr": settings.lr_head}],
        weight_decay=settings.weight_decay,
    )
    steps = settings.epochs * int(np.ceil(len(train_labels) / settings.batch_size))
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimiser, max_lr=[settings.lr_blocks, settings.lr_head], total_steps=steps, pct_start=0.15
    )
    x_all = torch.from_numpy(train_features)
    y_all = torch.from_numpy(train_labels.astype(np.float32))
    # The average keeps the BatchNorm statistics too, so it can be evaluated as it is.
    average = (
        AveragedModel(top, multi_avg_fn=get_ema_multi_avg_fn(settings.ema_decay), use_buffers=True)
        if settings.ema_decay
        else None
    )
    kept = top if average is None else average.module
    best_auc, best_state, history = -1.0, copy.deepcopy(top.state_dict()), []
    for epoch in range(settings.epochs):
        top.train()
        order = torch.multinomial(draw, len(y_all), replacement=True, generator=generator)
        total = 0.0
        starts = range(0, len(order), settings.batch_size)
        for start in tqdm(starts, desc=f"epoch {epoch + 1}", unit="batch", leave=False):
            index = order[start : start + settings.batch_size]
            batch = x_all[index]
            targets = y_all[index]
            if settings.feature_flips:
                batch = _flip(batch, generator)
            if settings.mixup_alpha:
                batch, targets = _mixup(batch, targets, settings.mixup_alpha, rng, generator)
            loss = loss_fn(top(batch)[:, 0], targets)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            if average is not None:
                average.update_parameters(top)
            total += loss.item() * len(index)
        val_auc = mean_source_auc(val_labels, logits(kept, val_features), val_sources)
        history.append({"epoch": epoch + 1, "train_loss": total / len(order), "val_auc": val_auc})
        log.info("epoch=%d train_loss=%.4f val_auc=%.4f", epoch + 1, total / len(order), val_auc)
        if val_auc > best_auc:
            best_auc, best_state = val_auc, copy.deepcopy(kept.state_dict())
    top.load_state_dict(best_state)
    top.eval()
    return top, history
