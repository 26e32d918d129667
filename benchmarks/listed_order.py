"""Does the order in which DrugBank lists a pair tell its type? A study of the flow expert's gain.

The benchmark's rows are ordered (drug1, drug2); ddi reads each training row in a random order and answers a pair
as the average of both orders, so its answer does not depend on the order a user types the drugs in. The flow
probe of ``flow_probe.py`` read every row in its listed order, and blended with the model it gained 0.7 points of
accuracy, where the flow expert built into the model (trained in random orders) gained nothing. This script trains
the flow expert of a model twice from the same start, once in random orders (as ``ddi train`` does) and once in
the listed order only, and combines each with the model the way the blend did: ``a log p_model + b log p_expert``,
a and b fitted on the valid pairs by log-loss, the expert read in the listed order (or both orders averaged)::

    python benchmarks/listed_order.py runs/expert2_s0 --epochs 6 --out benchmarks/results/listed_order.json
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import time
from pathlib import Path

import torch
from run_info import command_line

from ddi.evaluate import type_metrics
from ddi.predict.predictor import Predictor
from ddi.train.flow_expert import train_flow_expert
from ddi.train.trainer import FLOW_MODULES, build_model, encode, predict_type_probs


@torch.no_grad()
def expert_log_probs(model, ctx, part, both_orders: bool) -> torch.Tensor:
    """``B x T`` log type probabilities of the expert alone for the pairs of ``part`` as listed (or both orders
    averaged)."""
    heads, tails, _ = ctx.rows(getattr(ctx.split, part))
    encoded = encode(model.eval(), ctx)
    probs = model.flow_type_logits(encoded, heads, tails).softmax(-1)
    if both_orders:
        reverse = model.flow_type_logits(encoded, tails, heads).softmax(-1)
        probs = (probs + ctx.labels.flip(reverse)) / 2
    return ctx.labels.type_probs(probs).clamp_min(1e-8).log()


@torch.no_grad()
def model_log_probs(model, ctx, part) -> torch.Tensor:
    """``B x T`` log type probabilities of the model without its expert, as it is served."""
    heads, tails, _ = ctx.rows(getattr(ctx.split, part))
    with model.flow_expert_off():
        probs, _ = predict_type_probs(model, ctx, heads, tails)
    return ctx.labels.type_probs(probs).clamp_min(1e-8).log()


def fitted_combination(model_lp: dict, expert_lp: dict, truth: dict) -> dict:
    """a, b of ``a log p_model + b log p_expert`` fitted on valid by log-loss; test figures of the argmax."""
    a, b = torch.ones(1, requires_grad=True), torch.zeros(1, requires_grad=True)
    optimiser = torch.optim.LBFGS([a, b], max_iter=200)

    def closure():
        optimiser.zero_grad()
        loss = torch.nn.functional.cross_entropy(a * model_lp["valid"] + b * expert_lp["valid"], truth["valid"])
        loss.backward()
        return loss

    optimiser.step(closure)
    combined = (a * model_lp["test"] + b * expert_lp["test"]).detach()
    return {"a": float(a.detach()), "b": float(b.detach()), "test": combined}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", type=Path, help="a model with a flow expert (its expert is retrained here)")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/listed_order.json"))
    args = parser.parse_args()
    predictor = Predictor.load(args.model)
    ctx, base = predictor.ctx, predictor.model
    cfg = copy.deepcopy(predictor.run.train)
    cfg.flow_epochs = args.epochs
    truth = {
        part: torch.as_tensor(ctx.labels.type_index(getattr(ctx.split, part)["type"].to_numpy()))
        for part in ("valid", "test")
    }
    type_ids = ctx.labels.type_ids
    model_lp = {part: model_log_probs(base, ctx, part) for part in ("valid", "test")}
    result: dict = {"command": command_line(), "model": str(args.model), "epochs": args.epochs, "rows": {}}
    result["rows"]["model"] = type_metrics(
        type_ids[truth["test"].numpy()], type_ids[model_lp["test"].argmax(1).numpy()]
    )
    for listed in (False, True):
        start, history = time.time(), predictor.metrics.get("flow_expert", {}).get("history", [])
        model = base  # the model's own expert, which ddi train trained in random orders
        if listed:  # a fresh expert, from the same initial weights, trained in the listed order only
            torch.manual_seed(cfg.seed)
            model = build_model(ctx, predictor.run)
            fresh = {k: v for k, v in model.state_dict().items() if k.split(".")[0] in FLOW_MODULES}
            model.load_state_dict({**base.state_dict(), **fresh})
            history = train_flow_expert(model, ctx, dataclasses.replace(cfg, listed_order=True), progress=False)
        label = "listed order" if listed else "random orders"
        for both in (False, True):
            expert_lp = {part: expert_log_probs(model, ctx, part, both) for part in ("valid", "test")}
            fit = fitted_combination(model_lp, expert_lp, truth)
            name = f"expert trained in {label}, read {'in both orders' if both else 'as listed'}"
            result["rows"][name] = {
                "expert_alone": type_metrics(
                    type_ids[truth["test"].numpy()], type_ids[expert_lp["test"].argmax(1).numpy()]
                ),
                "combined": type_metrics(type_ids[truth["test"].numpy()], type_ids[fit["test"].argmax(1).numpy()]),
                "a": fit["a"],
                "b": fit["b"],
                "train_seconds": time.time() - start,
                "history": history,
            }
            print(name, {k: round(v, 4) for k, v in result["rows"][name]["combined"].items() if k != "n"}, flush=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
