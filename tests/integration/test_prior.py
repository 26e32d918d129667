"""The prior correction of the type decision: fitted on validation, saved with the weights, reloaded, settable."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch

from ddi.cli.main import main
from ddi.predict.predictor import Predictor
from ddi.train.prior import TAU_GRID, choose_correction, choose_tau, type_log_prior


def test_training_fits_tau_on_validation_and_the_model_reloads_with_it(tiny_model_dir):
    prior = json.loads((tiny_model_dir / "metrics.json").read_text())["prior_adjustment"]
    assert prior["fitted_on"] == "valid" and prior["tau"] in TAU_GRID and prior["valid_pairs"] == 200
    valid = prior["valid"]
    assert set(valid) == {str(t) for t in TAU_GRID}
    # The best validation macro-F1 among the values that cost at most half a point of validation accuracy
    # against the decision with neither correction nor vote (``valid`` lists each tau at the chosen vote weight).
    floor = prior["valid_uncorrected"]["accuracy"] - prior["max_accuracy_cost"]
    allowed = [v["macro_f1"] for v in valid.values() if v["accuracy"] >= floor]
    chosen = valid[str(prior["tau"])]
    assert chosen["macro_f1"] == pytest.approx(max(allowed), abs=1e-6) and chosen["accuracy"] >= floor
    predictor = Predictor.load(tiny_model_dir)
    assert float(predictor.model.prior_adjustment) == pytest.approx(prior["tau"])
    expected = np.repeat(type_log_prior(predictor.ctx), 2)
    assert np.allclose(predictor.model.class_log_prior.numpy(), expected, atol=1e-5)


def test_the_correction_hands_close_calls_to_the_rarer_type(tiny_model_dir):
    model = Predictor.load(tiny_model_dir).model
    prior = model.class_log_prior.clone()
    tied = torch.zeros(1, prior.numel())  # the network cannot tell the classes apart
    model.set_prior_adjustment(prior, 0.0)
    assert torch.allclose(model.class_probs(tied), torch.full_like(tied, 1 / prior.numel()))
    model.set_prior_adjustment(prior, 0.3)
    rarest = prior == prior.min()
    assert bool(rarest[model.class_probs(tied).argmax()])


def test_checkpoint_from_before_the_correction_loads_uncorrected(tiny_model_dir, tmp_path):
    old = tmp_path / "old"
    shutil.copytree(tiny_model_dir, old)
    state = torch.load(old / "model.pt", weights_only=True)
    del state["class_log_prior"], state["prior_adjustment"]
    torch.save(state, old / "model.pt")
    predictor = Predictor.load(old)
    assert float(predictor.model.prior_adjustment) == 0.0
    assert float(predictor.model.class_log_prior.abs().sum()) == 0.0


def test_adjust_prior_command_sets_tau_rewrites_the_model_and_refuses_bad_values(tiny_model_dir, tmp_path, capsys):
    model = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model)
    fitted = json.loads((model / "metrics.json").read_text())["prior_adjustment"]
    assert main(["adjust-prior", "--model", str(model), "--tau", "0"]) == 0
    assert f"tau 0.00, look-alike vote weight {fitted['vote_blend']:.1f} (given)" in capsys.readouterr().out
    metrics = json.loads((model / "metrics.json").read_text())
    assert metrics["prior_adjustment"] == {"tau": 0.0, "fitted_on": "given", "vote_blend": fitted["vote_blend"]}
    assert "macro_f1" in metrics["test"] and "macro_f1" in metrics["test_without_prior_adjustment"]
    assert float(Predictor.load(model).model.prior_adjustment) == 0.0
    assert main(["adjust-prior", "--model", str(model), "--tau", "1.5"]) == 2
    assert "--tau must be between 0 and 1" in capsys.readouterr().err


def test_setting_tau_by_hand_keeps_the_look_alike_vote_weight(tiny_model_dir, tmp_path, capsys):
    model = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model)
    assert Predictor.load(model).model.num_votes  # the tiny model votes, so there is a weight to lose
    assert main(["adjust-prior", "--model", str(model), "--tau", "0.1", "--vote-weight", "0.3"]) == 0
    assert main(["adjust-prior", "--model", str(model), "--tau", "0.2", "--float16"]) == 0
    assert "tau 0.20, look-alike vote weight 0.3 (given)" in capsys.readouterr().out
    reloaded = Predictor.load(model).model
    assert float(reloaded.vote_blend) == pytest.approx(0.3, abs=1e-3)
    assert float(reloaded.prior_adjustment) == pytest.approx(0.2, abs=1e-3)
    prior = json.loads((model / "metrics.json").read_text())["prior_adjustment"]
    assert prior["vote_blend"] == pytest.approx(0.3, abs=1e-6)
    assert main(["adjust-prior", "--model", str(model), "--vote-weight", "0.3"]) == 2
    assert "--vote-weight needs --tau" in capsys.readouterr().err


def test_training_can_start_from_a_trained_model_of_the_same_split_only(tiny_model_dir, benchmark_tables, tmp_path):
    from dataclasses import replace

    from ddi.models.checkpoint import CheckpointError
    from ddi.models.config import RunConfig
    from ddi.train.context import TrainingContext
    from ddi.train.trainer import train

    source = RunConfig.load(tiny_model_dir / "config.json")
    run = RunConfig.load(tiny_model_dir / "config.json")
    run.train.init_from, run.train.lr, run.train.epochs = str(tiny_model_dir), 1e-12, 1
    ctx = TrainingContext.build(run, benchmark_tables, progress=False)
    model = train(ctx, run, progress=False).model
    start = Predictor.load(tiny_model_dir).model
    weight = "heads.trunk.0.weight"
    # At a negligible learning rate the weights stay where the source model left them (not a fresh init).
    assert torch.allclose(model.state_dict()[weight], start.state_dict()[weight], atol=1e-6)
    assert float(model.prior_adjustment) == 0.0  # refitted after training, not inherited

    other_arch = RunConfig.load(tiny_model_dir / "config.json")
    other_arch.model = replace(source.model, head_dim=32)
    other_arch.train.init_from = str(tiny_model_dir)
    with pytest.raises(CheckpointError, match="another architecture"):
        train(TrainingContext.build(other_arch, benchmark_tables, progress=False), other_arch, progress=False)

    other_split = RunConfig.load(tiny_model_dir / "config.json")
    other_split.split_dir = None  # the full S0 split: another training set than the source model's
    other_split.train.init_from = str(tiny_model_dir)
    with pytest.raises(CheckpointError, match="other data or another split"):
        train(TrainingContext.build(other_split, benchmark_tables, progress=False), other_split, progress=False)


def test_tau_is_the_best_macro_f1_that_costs_at_most_half_a_point_of_accuracy():
    scores = {
        0.0: {"macro_f1": 0.50, "accuracy": 0.900},
        0.2: {"macro_f1": 0.55, "accuracy": 0.897},
        0.3: {"macro_f1": 0.55, "accuracy": 0.896},  # as good as 0.2: the smaller tau wins
        0.8: {"macro_f1": 0.60, "accuracy": 0.820},  # better macro-F1, bought with 8 points of accuracy
    }
    assert choose_tau(scores) == 0.2
    assert choose_tau(scores, max_accuracy_cost=0.1) == 0.8
    assert choose_tau({0.0: {"macro_f1": 0.5, "accuracy": 0.9}, 0.5: {"macro_f1": 0.4, "accuracy": 0.95}}) == 0.0


def test_the_vote_weight_is_chosen_with_tau_by_the_same_rule():
    scores = {
        (0.0, 0.0): {"macro_f1": 0.50, "accuracy": 0.700},
        (0.1, 0.0): {"macro_f1": 0.52, "accuracy": 0.700},
        (0.0, 0.5): {"macro_f1": 0.60, "accuracy": 0.730},  # the vote helps both
        (0.1, 0.5): {"macro_f1": 0.60, "accuracy": 0.731},  # as good: the smaller tau wins
        (0.0, 0.7): {"macro_f1": 0.60, "accuracy": 0.740},  # as good: the smaller weight wins
        (0.0, 1.0): {"macro_f1": 0.65, "accuracy": 0.600},  # better macro-F1 at 10 points of accuracy
    }
    assert choose_correction(scores) == (0.0, 0.5)
    assert choose_correction(scores, max_accuracy_cost=0.2) == (0.0, 1.0)


def test_the_vote_blend_mixes_in_the_vote_only_where_look_alikes_voted():
    from ddi.models.config import ModelConfig
    from ddi.models.ddi_model import DDIModel

    model = DDIModel(
        ModelConfig(
            hidden_dim=8,
            mol_layers=0,
            fingerprint_bits=0,
            path_length=0,
            kg_layers=0,
            use_rules=False,
            neighbour_votes=4,
        ),
        num_drugs=3,
        num_nodes=4,
        num_relations=2,
        atom_dim=4,
        bond_dim=2,
        num_classes=4,
        num_rules=0,
        num_votes=10,
    )
    logits = torch.zeros(2, 4)  # the heads alone: uniform
    single = torch.tensor([[1.0, 0, 0, 0], [0, 0, 0, 0]])
    double = torch.zeros(2, 4)
    totals = torch.tensor([[0.7], [0.0]])  # the second pair has no vote at all
    features = torch.cat([single, totals, double, torch.zeros(2, 1)], dim=1)
    votes = model.vote_probs(features)
    assert votes is not None and votes[0].tolist() == [1, 0, 0, 0] and votes[1].isnan().all()
    assert torch.allclose(model.class_probs(logits, votes), torch.full((2, 4), 0.25))  # weight 0: heads alone
    model.set_vote_blend(0.4)
    probs = model.class_probs(logits, votes)
    assert torch.allclose(probs[0], torch.tensor([0.55, 0.15, 0.15, 0.15]))
    assert torch.allclose(probs[1], torch.full((4,), 0.25))  # no vote: unchanged


def test_adjust_prior_files_the_raw_decision_as_uncorrected_and_refuses_a_vote_weight_without_votes(
    tiny_model_dir, tmp_path, capsys, monkeypatch
):
    """``test_without_prior_adjustment`` is the decision with neither correction nor vote, not whatever the model
    reported before (which carried the fitted tau and vote weight)."""
    raw, adjusted = tmp_path / "raw", tmp_path / "adjusted"
    shutil.copytree(tiny_model_dir, raw)
    shutil.copytree(tiny_model_dir, adjusted)
    assert main(["adjust-prior", "--model", str(raw), "--tau", "0", "--vote-weight", "0"]) == 0
    assert main(["adjust-prior", "--model", str(adjusted), "--tau", "0.3"]) == 0
    raw_test = json.loads((raw / "metrics.json").read_text())["test"]
    uncorrected = json.loads((adjusted / "metrics.json").read_text())["test_without_prior_adjustment"]
    for key in ("macro_f1", "accuracy", "kappa"):
        assert uncorrected[key] == pytest.approx(raw_test[key])
    assert "per_type_f1" not in uncorrected
    # the vote weight the model had survives the uncorrected pass
    assert float(Predictor.load(adjusted).model.vote_blend) == pytest.approx(
        json.loads((tiny_model_dir / "metrics.json").read_text())["prior_adjustment"]["vote_blend"]
    )

    load = Predictor.load

    def load_without_votes(*args, **kwargs):
        predictor = load(*args, **kwargs)
        predictor.model.num_votes = 0  # as a model trained without neighbour votes
        return predictor

    monkeypatch.setattr(Predictor, "load", load_without_votes)
    capsys.readouterr()
    assert main(["adjust-prior", "--model", str(adjusted), "--tau", "0.1", "--vote-weight", "0.3"]) == 2
    assert "has no look-alike votes" in capsys.readouterr().err


def test_adjust_prior_float16_reports_the_figures_of_the_weights_it_saves(tiny_model_dir, tmp_path, capsys):
    model = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model)
    assert main(["adjust-prior", "--model", str(model), "--tau", "0.1", "--float16"]) == 0
    saved = json.loads((model / "metrics.json").read_text())["test"]
    capsys.readouterr()
    assert main(["evaluate", "--model", str(model), "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    for key in ("macro_f1", "accuracy", "kappa", "roc_auc", "pr_auc"):
        assert saved[key] == again[key], key
