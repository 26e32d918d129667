"""``ddi info``: the model card of a saved model (architecture, size, sparsity, training data, test figures)."""

from __future__ import annotations

import argparse
import json

from ddi.cli.main import add_data_dir_argument, non_blank


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("info", help="show a model's card", description=__doc__)
    p.add_argument(
        "--model", type=non_blank, default=None, help="model directory (default: the shipped model under models/)"
    )
    p.add_argument("--json", action="store_true", help="print the card as JSON")
    p.add_argument(
        "--check",
        action="store_true",
        help="also load the model with its data (seconds) to confirm that its weights fit its config and data; "
        "the card alone reads the model's files only",
    )
    add_data_dir_argument(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ddi.models.card import model_card, type_decision_text
    from ddi.models.neighbour_votes import look_alike_basis
    from ddi.predict.predictor import DEFAULT_MODEL_DIR

    card = model_card(args.model or DEFAULT_MODEL_DIR)
    if args.check:
        from ddi.predict.predictor import Predictor

        # Loading builds the model its config describes on its data and loads the weights into it: weights that
        # do not fit, or data that is not the model's, fail here with a one-line message.
        Predictor.load(args.model, data_dir=args.data_dir)
        card["check"] = "the weights load into the configured model on its data"
    if args.json:
        print(json.dumps(card, indent=2, default=str))
        return 0
    arch = card["architecture"]
    print(f"model: {card['model_dir']} (ddi {card['ddi_version']})")
    print(
        f"  architecture: hidden {arch['hidden_dim']}, molecule layers {arch['mol_layers']}, context layers "
        f"{arch['kg_layers']}, paths up to {arch['path_length']} steps ({arch['message']}, {arch['aggregation']}), "
        f"rules {'on' if arch['use_rules'] else 'off'}, "
        f"per-drug vectors {'on' if arch.get('drug_id_embedding') else 'off'}"
    )
    print(f"  relation groups: {', '.join(arch['relation_groups'])}")
    if arch.get("flow_layers"):
        print(f"  flow: {arch['flow_layers']} steps over the whole graph, dim {arch['flow_dim']}, {flow_role(card)}")
    if arch["neighbour_votes"]:
        basis = look_alike_basis(arch["vote_annotations"])
        pool = arch.get("vote_pool", 0)
        searched = (
            f"; with the other drug, the closest with evidence among {pool}" if pool > arch["neighbour_votes"] else ""
        )
        print(f"  look-alike votes: {arch['neighbour_votes']} look-alikes per drug, by {basis}{searched}")
    print(
        f"  parameters: {card['parameters']:,} ({card['nonzero_parameters']:,} non-zero, sparsity "
        f"{card['sparsity']:.1%}), pruning: {card['pruning'].get('method', 'none')}"
    )
    levels = card["shared_value_levels"]
    shared = f" (kept values shared, at most {levels} per tensor)" if levels else ""
    print(f"  checkpoint: {card['checkpoint_bytes']:,} bytes{shared}")
    prior = card["prior_adjustment"]
    print(f"  type decision: prior correction {type_decision_text(prior)}")
    print(f"  trained on: split {card['split']} (seed {card['split_seed']}), data {card['data_dir']}")
    if card["train_seconds"] is not None:
        print(f"  training: {card['train_seconds'] / 60:.1f} min, best epoch {card['best_epoch']}")
    training = card["training"]
    if training.get("listed_order"):
        print("  training order: rows as listed (train.listed_order): compare its figures read as listed")
    if training.get("teacher"):
        print(
            f"  distilled from: {training['teacher']} (weight {training['teacher_weight']}, temperature "
            f"{training['teacher_temperature']})"
        )
    test = card["test"]
    if test:
        print(f"  test: {figures_text(test, ('macro_f1', 'accuracy', 'kappa', 'roc_auc', 'pr_auc'))}")
    if test.get("as_listed"):
        print(f"  test, each pair read as listed: {figures_text(test['as_listed'], ('macro_f1', 'accuracy', 'kappa'))}")
    if args.check:
        print(f"  check: {card['check']}")
    return 0


def figures_text(figures: dict, names: tuple[str, ...]) -> str:
    """``name value`` of each of ``names`` present in ``figures``, four decimals."""
    return ", ".join(f"{k} {figures[k]:.4f}" for k in names if k in figures)


def flow_role(card: dict) -> str:
    """How the model's flow enters its answers: read by the heads, or an expert with its fitted weight."""
    if not card["architecture"].get("flow_expert"):
        return "read by the heads"
    weight = card["flow_expert_weight"]
    return "an expert of its own" + (f" (weight {weight:.1f})" if weight is not None else " (weight not recorded)")
