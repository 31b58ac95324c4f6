"""How much of the APTOS -> DR-600 transfer gap is the two sources' definitions of "referable".

    PYTHONPATH=. python -m models.build.label_shift [--split-block N] [--threads 1]

DR-600 refers an eye for moderate NPDR or worse, any maculopathy, or advanced diabetic eye disease;
APTOS grades the ICDR scale alone (referable: grade 2 or more), with no maculopathy grade. A top
trained on APTOS alone was never told that a mild eye with maculopathy is referable. This scores
the ablation's APTOS-only leave-one-source-out top (``ablation --rows loso``, loaded from its cache
when that row has run) on all of DR-600's training and validation images, as that row does, under
DR-600's own labels, under APTOS's definition (ICDR grade 2 or more; ADED, ungraded on the ICDR
scale, referable), and with the eyes referable by maculopathy alone left out. No test split is read.
"""

from __future__ import annotations

import argparse

import torch

from models.build.ablation import RECIPES, Row
from models.build.ablation_rows import cached_features, row_top, unseen_scores
from models.build.backbone import build
from models.build.data import dr600_by_grade
from models.build.metrics import auc
from models.build.run_options import add_training_arguments, trained_blocks, with_run_options


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_training_arguments(parser)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    recipe = with_run_options(RECIPES["dr-referable"], args)
    trunk, _ = build(recipe.trunk, recipe.image_size, recipe.split_block)
    sources, features = cached_features(recipe, True, trunk, args)
    row = Row("loso", ("aptos2019",), colour_constancy=True, augmentation=True)
    top = row_top(recipe, row, sources, features, args.cache_dir)
    dr600 = next(i for i, s in enumerate(sources) if s.name == "dr-600")
    source = sources[dr600]
    seen, scores = unseen_scores(top, source, features[dr600])
    own = source.labels()[seen]
    by_icdr, maculopathy_only = (values[seen] for values in dr600_by_grade(source.samples, args.data_dir))
    kept = ~maculopathy_only
    print(
        f"top trained on APTOS alone, {trained_blocks(recipe)}, colour constancy {recipe.colour_constancy}; "
        f"DR-600's {seen.size} training and validation images:"
    )
    print(f"  DR-600's own labels ({int(own.sum())} referable): AUC {auc(own, scores):.3f}")
    print(
        f"  APTOS's definition, ICDR grade >= 2 or ADED ({int(by_icdr.sum())} referable): "
        f"AUC {auc(by_icdr, scores):.3f}"
    )
    print(
        f"  own labels, the {int(maculopathy_only.sum())} eyes referable by maculopathy alone left out: "
        f"AUC {auc(own[kept], scores[kept]):.3f}"
    )


if __name__ == "__main__":
    main()
