"""Does APTOS's squashed geometry limit leave-one-source-out transfer? The go / no-go for restoring it.

    PYTHONPATH=. python -m models.build.aspect_transfer [--threads 1]

APTOS's photos are stored squashed sideways (``field_aspect``); DR-600's are round. If a model that
learnt on squashed retinas fails on round ones and the reverse, restoring APTOS's aspect before the
device's view (``field_aspect.read_round_field``) should lift the transfer both ways. Two checks,
each with the ablation's own machinery (float top, recipe settings, cached features; AUC on the
left-out source's training and validation images, never a test split):

1. the leave-one-source-out rows with APTOS as stored and with APTOS restored (``ablation``'s loso
   rows for both readers);
2. the top trained on APTOS as stored, scoring DR-600 as stored and DR-600 squashed like the median
   APTOS photo: if squashed retinas were what that top learnt, squashed DR-600 reads better.
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import replace

import numpy as np
import torch

from firmware_app.inference.preprocess import framed
from models.build import data, dr_referable
from models.build.ablation import rows_for
from models.build.ablation_rows import cached_features, trained_top_aucs
from models.build.backbone import build
from models.build.features import cached_trunk_features
from models.build.field_aspect import read_round_field, stretches, width_scaled
from models.build.metrics import auc
from models.build.pipeline import feature_key, seed_everything, train_top
from models.build.recipe import Recipe
from models.build.run_options import add_training_arguments
from models.build.sources import input_spec
from models.build.train import logits


def aptos_read_as(read: data.Reader) -> Recipe:
    """The DR recipe with APTOS decoded by ``read`` (as stored, or restored)."""
    recipe = dr_referable.RECIPE
    development = tuple(replace(ds, read=read) if ds.name == "aptos2019" else ds for ds in recipe.development)
    return replace(recipe, development=development)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_training_arguments(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    torch.set_num_threads(args.threads)
    trunk, _ = build(dr_referable.RECIPE.trunk, dr_referable.RECIPE.image_size, dr_referable.RECIPE.split_block)

    header = ["APTOS read", "trained on", "AUC dr-600 (validation)", "AUC aptos2019 (validation)", "AUC left out"]
    print("| " + " | ".join(header) + " |")
    print("|---|---|---|---|---|")
    for label, read in (("as stored", data.read_rgb), ("restored", read_round_field)):
        recipe = aptos_read_as(read)
        sources, feats = cached_features(recipe, True, trunk, args)
        for row in (r for r in rows_for(recipe) if r.kind == "loso"):
            aucs = trained_top_aucs(recipe, row, sources, feats, args.cache_dir)
            validation, left_out = aucs["validation_auc"], aucs["left_out_auc"]
            cells = " | ".join(f"{validation[s.name]:.3f}" for s in sources)
            ((name, value),) = left_out.items()
            print(f"| {label} | {row.trained_on[0]} | {cells} | {name} {value:.3f} |", flush=True)

    recipe = aptos_read_as(data.read_rgb)
    spec = input_spec(recipe)
    sources, feats = cached_features(recipe, True, trunk, args)
    (dr600, dr600_feats), (aptos, aptos_feats) = zip(sources, feats, strict=True)
    seed_everything(recipe.seed)
    top = train_top(recipe, [aptos], [aptos_feats], args.cache_dir).top
    median = float(np.median(stretches([s.path for s in aptos.samples], data.read_rgb)[0]))
    seen = np.concatenate([dr600.parts["train"], dr600.parts["validation"]])
    labels = dr600.labels()[seen]
    as_stored = logits(top, np.concatenate([dr600_feats.train, dr600_feats.validation]))
    views = np.stack([framed(width_scaled(data.read_rgb(dr600.samples[i].path), 1 / median), spec) for i in seen])
    key = f"{feature_key(recipe, spec)}-squashed-{median:.4f}"
    features = cached_trunk_features(
        trunk, data.device_views(views, spec), args.cache_dir, "dr-referable-dr-600-squashed", key
    )
    print(f"\nTop trained on APTOS as stored, on DR-600's {len(seen)} training + validation photos:")
    print(
        f"as stored {auc(labels, as_stored):.3f}; squashed by the APTOS median stretch {median:.3f}: "
        f"{auc(labels, logits(top, features)):.3f}"
    )


if __name__ == "__main__":
    main()
