"""What each change bought, and leave-one-source-out, measured on the cached trunk features.

    PYTHONPATH=. python -m models.build.ablation dr-referable [--rows loso,baseline,pooled,colour,shipped]

Each row trains a fresh top with the recipe's settings on some of the development sources, with or
without colour constancy and augmentation, picks its epoch on the validation parts of the sources it
trained on, and reports the float model's AUC on every source's *validation* part (the "shipped"
row scores the committed int8 model instead of training the same recipe again) (the test parts
stay unread; a source left out of training is an out-of-source test, its validation part unseen).
A source a row leaves out is also scored on all of its training and validation images, none of
which that row's top saw: several times the images of its validation part alone (DR-600's is 120
photos, an AUC within about 0.05), so the out-of-source figure is that much less a matter of chance.
The shipped recipe was fixed before these rows were run, not chosen from them. The table goes to
stdout and to ``models/<id>/ablation.md``.
"""

from __future__ import annotations

import argparse
import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

from models.build import data, dr_referable, melanoma
from models.build.litert import Int8Model
from models.build.metrics import auc
from models.build.recipe import Recipe
from models.build.run_options import add_training_arguments, run_settings, tried_options, with_run_options
from models.build.sources import input_spec, load_source

log = logging.getLogger("models.build.ablation")
RECIPES = {r.model_id: r for r in (dr_referable.RECIPE, melanoma.RECIPE)}


@dataclass(frozen=True)
class Row:
    kind: str  # one of KINDS
    trained_on: tuple[str, ...]
    colour_constancy: bool
    augmentation: bool


KINDS = ("loso", "baseline", "pooled", "colour", "shipped")
# The table's words for a card's ``input.colour_constancy``.
COLOUR_CONSTANCY_WORDS = {"shades_of_gray_p6": "Shades of Gray", "background_subtracted": "background subtracted"}


def rows_for(recipe: Recipe) -> list[Row]:
    """Leave-one-source-out first, then the ladder from one source to the shipped recipe."""
    names = tuple(ds.name for ds in recipe.development)
    return [
        *[Row("loso", (name,), True, True) for name in names],
        Row("baseline", names[:1], False, False),
        Row("pooled", names, False, False),
        Row("colour", names, True, False),
        Row("shipped", names, True, True),
    ]


def _write_in_bundle(path: Path, text: str) -> None:
    """Write one of the ablation's files, which live in the model's signed bundle: a change breaks
    the bundle's manifest (the device then refuses the model) until the bundle is signed again."""
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return
    path.write_text(text, encoding="utf-8")
    if (path.parent / "manifest.sig").exists():
        log.warning(
            "%s changed inside a signed bundle: sign it again (edgescreen models sign --key PRIVATE_KEY %s) "
            "or restore the file, or the device refuses the model",
            path,
            path.parent,
        )


# A row's AUCs: "validation_auc" per source, and "left_out_auc" per source it left out, on that
# source's training and validation images together.
Aucs = dict[str, dict[str, float]]


def _store(recipe: Recipe, row: Row, aucs: Aucs) -> list[tuple[Row, Aucs]]:
    """Add one row's result to the kept ones; return all kept rows in the table's order."""
    path = data.REPO_ROOT / "models" / recipe.model_id / "ablation.json"
    kept = json.loads(path.read_text(encoding="utf-8")) if path.exists() else []

    def row_of(entry: dict) -> Row:
        return Row(**{**entry["row"], "trained_on": tuple(entry["row"]["trained_on"])})

    entry = {"row": asdict(row), **{key: {k: round(v, 4) for k, v in values.items()} for key, values in aucs.items()}}
    at = next((index for index, old in enumerate(kept) if row_of(old) == row), len(kept))
    kept[at : at + 1] = [entry]  # in place: a row measured again alike leaves the file as it was
    _write_in_bundle(path, json.dumps(kept, indent=1) + "\n")
    results = {row_of(entry): {key: entry[key] for key in entry if key.endswith("_auc")} for entry in kept}
    return [(r, results[r]) for r in rows_for(recipe) if r in results]


def row_table(recipe: Recipe, results: list[tuple[Row, Aucs]]) -> str:
    names = [ds.name for ds in recipe.development]
    header = [
        "row",
        "trained on",
        "colour constancy",
        "augmentation",
        *[f"AUC {n} (validation)" for n in names],
        "AUC left out (its training + validation images)",
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row, aucs in results:
        validation, left_out = aucs["validation_auc"], aucs.get("left_out_auc", {})
        cells = [
            "shipped (committed int8 model)" if row.kind == "shipped" else row.kind,
            " + ".join(row.trained_on),
            COLOUR_CONSTANCY_WORDS[recipe.colour_constancy] if row.colour_constancy else "none",
            "yes" if row.augmentation else "no",
            *[f"{validation[n]:.3f}" + ("" if n in row.trained_on else " (left out)") for n in names],
            ", ".join(f"{n} {value:.3f}" for n, value in left_out.items()) or "-",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_id", choices=sorted(RECIPES))
    parser.add_argument("--rows", default=",".join(KINDS), help=f"which rows, comma-separated, of {KINDS}")
    add_training_arguments(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    recipe = with_run_options(RECIPES[args.model_id], args)
    kinds = set(args.rows.split(","))
    chosen = [r for r in rows_for(recipe) if r.kind in kinds]

    trained = None
    for row in chosen:
        if row.kind == "shipped":
            aucs = committed_model_aucs(recipe, args.data_dir, args.cache_dir, args.threads)
        else:
            if trained is None:
                # Imported here: a trained row needs torch, the shipped row (the committed int8 model) does not.
                from models.build.ablation_rows import TrainedRows

                trained = TrainedRows(recipe, args)
            aucs = trained.aucs(row)
        log.info("%s -> %s", row, aucs)
        if tried_options(args):
            print(run_settings(recipe), flush=True)
            print(row_table(recipe, [(row, aucs)]), flush=True)
            continue
        table = row_table(recipe, _store(recipe, row, aucs))
        _write_in_bundle(data.REPO_ROOT / "models" / recipe.model_id / "ablation.md", table + "\n")
        print(table, flush=True)


def committed_model_aucs(recipe: Recipe, data_dir: Path, cache_dir: Path, threads: int) -> Aucs:
    """The shipped row is the committed int8 model itself, scored on each source's validation part."""
    spec = input_spec(recipe)
    model = Int8Model(data.REPO_ROOT / "models" / recipe.model_id / "model.tflite", spec, threads)
    aucs = {}
    for dataset in recipe.development:
        source = load_source(recipe, dataset, spec, data_dir, cache_dir)
        views = data.device_views(source.framed[source.parts["validation"]], spec)
        aucs[source.name] = auc(source.labels("validation"), model.logits(views, f"validation {source.name}"))
    return {"validation_auc": aucs}


if __name__ == "__main__":
    main()
