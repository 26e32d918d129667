"""The RL agent: the MDP's rules, the prioritised replay, learning to search, and saving/loading."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from toy_space import ToyObjective, ToySpace

from ddi.errors import UserInputError
from ddi.search.budget import BudgetedObjective
from ddi.search.mdp import ActionSpace, RewardConfig, ScoreNorm, SearchEnv
from ddi.search.methods import run_method
from ddi.search.replay import PrioritizedReplay, SumTree
from ddi.search.rl_agent import AgentConfig, QAgent, build_network


def best_after(method, space, objective, budget, seed, agent=None):
    budgeted = BudgetedObjective(objective, budget)
    run_method(method, space, budgeted, np.random.default_rng(seed), **({"agent": agent} if agent else {}))
    assert budgeted.spent == budget
    return budgeted.best_score


def test_trained_agent_beats_random_search_at_equal_budget(toy_space, toy_objective, toy_agent):
    seeds = range(10)
    rl = [best_after("rl", toy_space, toy_objective, 20, s, toy_agent) for s in seeds]
    rand = [best_after("random", toy_space, toy_objective, 20, s) for s in seeds]
    local = [best_after("local", toy_space, toy_objective, 20, s) for s in seeds]
    assert np.mean(rl) > np.mean(rand)
    assert np.mean(rl) > np.mean(local)


def test_untrained_agent_is_not_the_reason_it_wins(toy_space, toy_objective, toy_agent):
    """The same network with fresh weights searches no better than random: the advantage is learned."""
    config = toy_agent.config
    fresh = QAgent(toy_space, config, toy_agent.norm)
    torch.manual_seed(1)
    fresh.network = build_network(config, fresh.actions)
    seeds = range(10)
    untrained = np.mean([best_after("rl", toy_space, toy_objective, 20, s, fresh) for s in seeds])
    trained = np.mean([best_after("rl", toy_space, toy_objective, 20, s, toy_agent) for s in seeds])
    assert trained > untrained


def test_mask_allows_only_valid_unseen_single_edits(toy_space, toy_objective):
    actions = ActionSpace(toy_space, edit_from_best=True)
    env = SearchEnv(actions, toy_objective, ScoreNorm(0.0, 1.0), RewardConfig(), np.random.default_rng(0))
    env.reset()
    rng = np.random.default_rng(1)
    for _ in range(60):
        obs = env.observe()
        allowed = np.flatnonzero(obs.mask)
        for action in allowed:
            target = actions.target(int(action), env.current, env.best)
            assert toy_space.is_valid(target) and target not in env.visited
            base = env.best if action >= actions.num_tokens else env.current
            assert sum(a != b for a, b in zip(target, base, strict=True)) == 1
        if env.current == env.best:
            assert not obs.mask[actions.num_tokens :].any()  # the two sources coincide
        before = len(env.visited)
        env.step(int(allowed[rng.integers(len(allowed))]))
        assert len(env.visited) == before + 1  # every step is exactly one new evaluation


def test_reward_pays_improvement_plus_potential_shaping(toy_space):
    scores = {}
    actions = ActionSpace(toy_space, edit_from_best=False)
    env = SearchEnv(actions, lambda a: scores[a], ScoreNorm(1.0, 2.0), RewardConfig(0.5, 1.0, 0.1), None)
    start = (0, 0, 0, 0, 0, 0, 0)
    scores[start] = 3.0
    env.restart(start)
    action = actions.token_of[1][2]  # choice 1 -> option 2
    scores[(0, 2, 0, 0, 0, 0, 0)] = 7.0
    reward = env.step(action)
    # improvement (7 - 3) / 2 = 2; shaping 0.1 * (0.5 * (7 - 1) / 2 - (3 - 1) / 2) = 0.05
    assert reward == pytest.approx(2.0 + 0.05)


def test_sum_tree_finds_the_leaf_of_each_prefix():
    tree = SumTree(5)
    tree.update(np.arange(5), np.array([1.0, 0.0, 2.0, 3.0, 4.0]))
    assert tree.total == 10.0
    assert tree.find(np.array([0.0, 0.99, 1.0, 2.99, 3.0, 5.99, 6.0, 9.99])).tolist() == [0, 0, 2, 2, 3, 3, 4, 4]


def test_prioritised_replay_samples_in_proportion_to_priority():
    replay = PrioritizedReplay(8, {"x": ((), np.int64)}, alpha=1.0, eps=0.0)
    for i in range(4):
        replay.add(x=i)
    replay.update_priorities(np.arange(4), np.array([1.0, 2.0, 3.0, 4.0]))
    rng = np.random.default_rng(0)
    counts = np.zeros(4)
    for _ in range(500):
        index, weights = replay.sample(32, beta=1.0, rng=rng)
        counts += np.bincount(index, minlength=4)
        # importance weights: (N * P)^-1, normalised by the largest: the rarest transition has weight 1
        expected = (1.0 / np.array([1.0, 2.0, 3.0, 4.0]))[index]
        assert np.allclose(weights, expected / expected.max(), rtol=1e-5)
    assert np.allclose(counts / counts.sum(), [0.1, 0.2, 0.3, 0.4], atol=0.01)


def test_new_transitions_enter_with_the_largest_priority():
    replay = PrioritizedReplay(4, {"x": ((), np.int64)}, alpha=1.0, eps=0.0)
    replay.add(x=0)
    replay.update_priorities(np.array([0]), np.array([5.0]))
    replay.add(x=1)
    assert replay.tree.get(np.array([1]))[0] == 5.0


def test_saved_agent_acts_identically_after_loading(tmp_path, toy_space, toy_objective, toy_agent):
    toy_agent.save(tmp_path / "agent")
    loaded = QAgent.load(tmp_path / "agent", toy_space)
    assert loaded.config == toy_agent.config and loaded.norm == toy_agent.norm
    env = SearchEnv(toy_agent.actions, toy_objective, toy_agent.norm, RewardConfig(), np.random.default_rng(3))
    env.reset()
    observations = []
    for _ in range(20):
        obs = env.observe()
        observations.append(obs)
        env.step(toy_agent.act(obs, np.random.default_rng(0), epsilon=0.0))
    assert np.array_equal(toy_agent.q_values(observations), loaded.q_values(observations))
    for seed in range(3):
        a = BudgetedObjective(toy_objective, 15)
        b = BudgetedObjective(toy_objective, 15)
        run_method("rl", toy_space, a, np.random.default_rng(seed), agent=toy_agent)
        run_method("rl", toy_space, b, np.random.default_rng(seed), agent=loaded)
        assert [e.key for e in a.trajectory] == [e.key for e in b.trajectory]


def test_loading_checks_the_space_and_the_files(tmp_path, toy_agent):
    toy_agent.save(tmp_path / "agent")
    with pytest.raises(UserInputError, match="different search space"):
        QAgent.load(tmp_path / "agent", ToySpace(sizes=(2, 2)))
    with pytest.raises(UserInputError, match="no trained agent"):
        QAgent.load(tmp_path / "nothing", ToySpace())
    config = tmp_path / "agent" / "agent.json"
    config.write_text("[1, 2]")  # JSON, but not an agent's
    with pytest.raises(UserInputError, match=r"agent\.json is not a saved agent"):
        QAgent.load(tmp_path / "agent", ToySpace())
    config.write_bytes(b"\xff\xfe{")
    with pytest.raises(UserInputError, match="not UTF-8"):
        QAgent.load(tmp_path / "agent", ToySpace())


@pytest.mark.parametrize("network", ["transformer", "mlp"])
def test_networks_give_one_q_value_per_action(toy_space, network):
    config = AgentConfig.quick(network=network)
    actions = ActionSpace(toy_space, edit_from_best=True)
    net = build_network(config, actions)
    archs = [toy_space.sample(np.random.default_rng(i)) for i in range(3)]
    current = torch.as_tensor(np.stack([toy_space.encode(a) for a in archs]))
    q = net(current, current, torch.zeros(3, 3))
    assert q.shape == (3, 2 * toy_space.num_tokens)


def test_bad_agent_config_is_a_user_error():
    with pytest.raises(UserInputError, match="gamma"):
        AgentConfig(gamma=1.5)
    with pytest.raises(UserInputError, match="unknown agent config"):
        AgentConfig.from_dict({"nope": 1})


def test_agent_works_on_the_real_search_space():
    from ddi.search.rl_agent import train_agent
    from ddi.search.space import SearchSpace

    space = SearchSpace()
    weights = np.random.default_rng(0).normal(size=space.num_tokens)

    def objective(arch):
        return float(weights[space.encode(arch)].sum())

    torch.set_num_threads(1)
    agent = train_agent(space, lambda _: objective, AgentConfig.quick(total_steps=200, warmup=50), seed=0)
    budgeted = BudgetedObjective(objective, 30)
    run_method("rl", space, budgeted, np.random.default_rng(0), agent=agent)
    assert budgeted.spent == 30


def test_training_survives_a_space_smaller_than_an_episode():
    from ddi.search.rl_agent import train_agent

    tiny = ToySpace(sizes=(2, 3), forbidden=())
    objective = ToyObjective(tiny, seed=0)
    config = AgentConfig.quick(total_steps=80, warmup=20, episode_length=30, actors=2, norm_samples=8)
    agent = train_agent(tiny, lambda _: objective, config, seed=0)
    budgeted = BudgetedObjective(objective, 50)
    run_method("rl", tiny, budgeted, np.random.default_rng(0), agent=agent)
    assert budgeted.spent == tiny.size() == 6
