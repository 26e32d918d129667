"""The verdict of the final trainings: the searched architecture must win on new drugs without losing on S0."""

import json
from pathlib import Path

import pytest

from ddi.models.config import RunConfig
from ddi.search.final import S0_TOLERANCE, summarise_final
from ddi.search.space import SearchSpace


class KeySpace:
    def key(self, arch):
        return "-".join(map(str, arch))


def rows(key, figures):
    out = []
    for setting, scores in figures.items():
        for seed, score in enumerate(scores):
            test = {"macro_f1": score, "accuracy": score, "kappa": score}
            out.append(
                {"key": key, "setting": setting, "seed": seed, "test": test, "parameters": 10, "train_seconds": 1}
            )
    return out


CANDIDATES = {"searched": (1, 2), "default": (0, 0)}


@pytest.mark.parametrize(
    ("searched_s0", "searched_s1", "wins"),
    [
        ([0.90, 0.90], [0.62, 0.64], True),  # S0 level, S1 higher
        ([0.90 - 2 * S0_TOLERANCE] * 2, [0.70, 0.70], False),  # S1 far higher, but S0 lost
        ([0.95, 0.95], [0.60, 0.60], False),  # S1 level is not a win
    ],
)
def test_the_searched_architecture_must_win_on_new_drugs_and_hold_s0(searched_s0, searched_s1, wins):
    data = rows("1-2", {"s0": searched_s0, "s1": searched_s1}) + rows("0-0", {"s0": [0.9, 0.9], "s1": [0.6, 0.6]})
    summary = summarise_final(KeySpace(), CANDIDATES, data, ("s0", "s1"))
    assert summary["searched_beats_default"] is wins
    assert summary["roles"]["searched"]["settings"]["s1"]["macro_f1"]["mean"] == pytest.approx(sum(searched_s1) / 2)
    assert summary["macro_f1_delta"]["s1"] == pytest.approx(sum(searched_s1) / 2 - 0.6)


def test_s0_alone_gives_no_verdict_of_a_win():
    data = rows("1-2", {"s0": [0.99]}) + rows("0-0", {"s0": [0.9]})
    assert summarise_final(KeySpace(), CANDIDATES, data, ("s0",))["searched_beats_default"] is False


def test_the_documented_searched_config_trains_the_architecture_the_search_picked():
    """docs/configs/searched.json is how a user trains the search's pick; it must stay the surrogate's optimum."""
    root = Path(__file__).resolve().parents[2]
    picked = json.loads((root / "benchmarks/results/nas.json").read_text())["surrogate"]["optimum"]["key"]
    config = RunConfig.load(root / "docs/configs/searched.json")
    space = SearchSpace()
    assert space.key(space.from_model_config(config.model)) == picked
