"""Does the flow of ``flow_probe.py`` know something a ddi model does not? Blend their type probabilities.

Reads the valid and test probabilities that ``flow_probe.py --save-test F`` saved, scores the same pairs with a
ddi model as it is served (``Predictor.score_ids``), and blends them, ``(1 - w) * model + w * flow``, with w chosen
on the valid pairs (best accuracy, or best macro-F1; grid of tenths). A blend above the model on test says the flow
carries evidence the model lacks, which a model with the flow built in could use; a blend level with it says it
does not::

    python benchmarks/flow_with_model.py models/default runs/flow_probe_test.npz \\
        --out benchmarks/results/flow_with_model.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from run_info import command_line

from ddi.data.templates import same_effect_wordings
from ddi.evaluate import same_effect_metrics, type_metrics
from ddi.predict.predictor import Predictor

WEIGHTS = [round(0.1 * i, 1) for i in range(11)]


def model_type_probs(predictor: Predictor, part: str, drug1: np.ndarray, drug2: np.ndarray) -> np.ndarray:
    """``N x T`` type probabilities of the pairs (drug1, drug2) of ``part``, columns in type-id order 1..T. Both
    read the split file in its order (a pair may be listed twice, with two types), which is checked."""
    ctx = predictor.ctx
    df = getattr(ctx.split, part)
    if not (np.array_equal(df["drug1_id"].to_numpy(), drug1) and np.array_equal(df["drug2_id"].to_numpy(), drug2)):
        raise SystemExit(f"the {part} pairs of the model's split and of the flow's file differ")
    heads, tails, _ = ctx.rows(df)
    probs, _ = predictor.score_ids(heads, tails)
    return ctx.labels.type_probs(probs).numpy()[:, np.argsort(ctx.labels.type_ids)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", type=Path, help="a ddi model directory (trained on S0)")
    parser.add_argument("flow", type=Path, help="the .npz that flow_probe.py --save-test wrote")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/flow_with_model.json"))
    args = parser.parse_args()
    flow = np.load(args.flow, allow_pickle=True)
    predictor = Predictor.load(args.model)
    wordings = same_effect_wordings(predictor.ctx.tables.interaction_types)
    blended: dict[str, dict[float, np.ndarray]] = {}
    truth: dict[str, np.ndarray] = {}
    for part in ("valid", "test"):
        model = model_type_probs(predictor, part, flow[f"{part}_drug1"], flow[f"{part}_drug2"])
        truth[part] = flow[f"{part}_type"]
        blended[part] = {w: ((1 - w) * model + w * flow[f"{part}_probs"]).argmax(1) + 1 for w in WEIGHTS}
    valid = {w: type_metrics(truth["valid"], p) for w, p in blended["valid"].items()}
    by_accuracy = max(WEIGHTS, key=lambda w: (valid[w]["accuracy"], -w))  # ties: the least flow
    by_macro_f1 = max(WEIGHTS, key=lambda w: (valid[w]["macro_f1"], -w))
    rows = {}
    for label, w in (
        ("model", 0.0),
        ("flow", 1.0),
        ("blend, w by valid accuracy", by_accuracy),
        ("blend, w by valid macro-F1", by_macro_f1),
    ):
        predicted = blended["test"][w]
        rows[label] = {
            "weight_of_flow": w,
            "valid": valid[w],
            "test": type_metrics(truth["test"], predicted),
            "test_with_same_effect_wordings_as_one_type": same_effect_metrics(truth["test"], predicted, wordings),
        }
        test = rows[label]["test"]
        print(f"{label} (w {w}): {test['macro_f1']:.4f} / {test['accuracy']:.4f} / {test['kappa']:.4f}")
    # Every weight's test figures, to show the trade-off (the weight itself is chosen on valid, above).
    every = {w: type_metrics(truth["test"], p) for w, p in blended["test"].items()}
    result = {
        "model": str(args.model),
        "flow": str(args.flow),
        "rows": rows,
        "valid_by_weight": valid,
        "test_by_weight": every,
    }
    result["command"] = command_line()
    args.out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
