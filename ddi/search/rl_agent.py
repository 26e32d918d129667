"""The search agent: a Q-learning policy that walks the architecture graph (Cassimon et al. 2024).

The agent learns *how to search*, not one architecture: it is trained over many searches on a cheap
objective (the surrogate) and then searches an expensive one (the proxy) or the same surrogate under a
budget. The MDP is in ``ddi.search.mdp``; the networks in ``ddi.search.qnetwork``; the replay in
``ddi.search.replay``.

Training is Ape-X DQN (Horgan et al. 2018) without processes: ``actors`` searches run side by side, each
with its own exploration rate ``epsilon_i = epsilon_base ** (1 + epsilon_alpha * i / (actors - 1))`` (from
very exploratory to nearly greedy), their states are scored in one batched forward pass per tick, and their
n-step transitions all feed one prioritised replay from which a learner draws batches. Targets are n-step
double-DQN: the online network picks the next action, a target network (copied every
``target_update`` updates) values it; the loss is the Huber loss weighted by the replay's importance
weights. Episodes are cut after ``episode_length`` steps and the cut transitions bootstrapped (the search
would go on).

Searching with a trained agent (``QAgent.search``): start at a random architecture and take the greedy
action (epsilon ``search_epsilon``) until the budget is spent; as the mask allows only unseen architectures,
every step costs one evaluation and a search cannot loop; a state with no allowed action restarts from a
random unseen architecture.
"""

from __future__ import annotations

import copy
import json
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from ddi.errors import UserInputError
from ddi.json_input import read_json
from ddi.search.budget import Architecture, BudgetedObjective, SpaceExhausted
from ddi.search.mdp import NUM_SCALARS, ActionSpace, Observation, RewardConfig, ScoreNorm, SearchEnv
from ddi.search.qnetwork import MLPQNet, TransformerQNet
from ddi.search.replay import PrioritizedReplay

log = logging.getLogger(__name__)

AGENT_FORMAT = 1
WEIGHTS_FILE = "agent.pt"
CONFIG_FILE = "agent.json"

ObjectiveFactory = Callable[[int], Callable[[Architecture], float]]


@dataclass
class AgentConfig:
    """Every hyper-parameter of the agent and its training.

    Network
        network: "transformer" (the paper's) or "mlp".
        d_model, layers, heads, ff: transformer width, encoder layers, attention heads, feed-forward width.
        mlp_hidden: width of the MLP's two hidden layers.
    MDP
        edit_from_best: actions may also edit the incumbent (else only the current architecture).
        gamma: discount per evaluation.
        improvement_weight: reward per standardised unit the best score rises.
        shaping_weight: weight of the potential-based term ``gamma * z(score') - z(score)``.
        episode_length: evaluations per training search (longer searches are bootstrapped).
        norm_samples: random architectures scored to standardise scores.
    Learning
        total_steps: environment steps (evaluations of the cheap objective) over all actors.
        actors: searches run side by side (Ape-X actors).
        epsilon_base, epsilon_alpha: Ape-X exploration rates, ``epsilon_base ** (1 + epsilon_alpha * i / (K-1))``.
        n_step: steps summed into a target before bootstrapping.
        lr, batch_size, grad_clip: Adam learning rate, replay batch, gradient-norm clip.
        updates_per_step: learner updates per environment step (the replay ratio).
        warmup: transitions in the replay before learning starts.
        replay_capacity: transitions kept.
        target_update: learner updates between target-network copies.
        per_alpha, per_beta0, per_eps: priority exponent, initial importance exponent (annealed to 1),
            priority floor.
    Search
        search_epsilon: random-action rate when searching (diversity between seeds; the mask forbids loops).
    """

    network: str = "transformer"
    d_model: int = 64
    layers: int = 2
    heads: int = 4
    ff: int = 128
    mlp_hidden: int = 256
    edit_from_best: bool = True
    gamma: float = 0.9
    improvement_weight: float = 1.0
    shaping_weight: float = 0.1
    episode_length: int = 50
    norm_samples: int = 256
    total_steps: int = 40_000
    actors: int = 8
    epsilon_base: float = 0.4
    epsilon_alpha: float = 7.0
    n_step: int = 3
    lr: float = 5e-4
    batch_size: int = 64
    grad_clip: float = 10.0
    updates_per_step: float = 0.25
    warmup: int = 1_000
    replay_capacity: int = 50_000
    target_update: int = 250
    per_alpha: float = 0.6
    per_beta0: float = 0.4
    per_eps: float = 1e-3
    search_epsilon: float = 0.05

    def __post_init__(self) -> None:
        checks = [
            (self.network in ("transformer", "mlp"), "network must be 'transformer' or 'mlp'"),
            (self.d_model % self.heads == 0, "d_model must be a multiple of heads"),
            (0 < self.gamma < 1, "gamma must be in (0, 1)"),
            (self.episode_length >= 1, "episode_length must be >= 1"),
            (self.actors >= 1, "actors must be >= 1"),
            (self.n_step >= 1, "n_step must be >= 1"),
            (self.total_steps >= self.actors, "total_steps must be >= actors"),
            (self.batch_size >= 1, "batch_size must be >= 1"),
            (self.lr > 0, "lr must be > 0"),
            (0 <= self.search_epsilon <= 1, "search_epsilon must be in [0, 1]"),
        ]
        errors = [msg for ok, msg in checks if not ok]
        if errors:
            raise UserInputError("invalid agent config: " + "; ".join(errors))

    @classmethod
    def quick(cls, **overrides: Any) -> AgentConfig:
        """A configuration that trains in seconds (tests, ``--quick``)."""
        values: dict[str, Any] = dict(
            d_model=32, ff=64, heads=2, total_steps=4_000, warmup=300, target_update=100, episode_length=30
        )
        values.update(overrides)
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> AgentConfig:
        names = {f.name for f in fields(cls)}
        unknown = set(raw) - names
        if unknown:
            raise UserInputError(f"unknown agent config key(s): {', '.join(sorted(unknown))}")
        return cls(**raw)

    @property
    def rewards(self) -> RewardConfig:
        return RewardConfig(self.gamma, self.improvement_weight, self.shaping_weight)

    def actor_epsilons(self) -> list[float]:
        k = self.actors
        if k == 1:
            return [self.epsilon_base]
        return [self.epsilon_base ** (1 + self.epsilon_alpha * i / (k - 1)) for i in range(k)]


def build_network(config: AgentConfig, actions: ActionSpace) -> nn.Module:
    if config.network == "mlp":
        return MLPQNet(actions.num_tokens, actions.sources, config.mlp_hidden)
    return TransformerQNet(
        actions.num_tokens,
        torch.as_tensor(actions.token_choice),
        actions.sources,
        d_model=config.d_model,
        layers=config.layers,
        heads=config.heads,
        ff=config.ff,
    )


def space_signature(space) -> list[list]:
    """Choice names and option counts: an agent only fits the space it was trained on."""
    return [[c.name, len(c.options)] for c in space.choices]


def _stack(observations: list[Observation]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    return (
        torch.as_tensor(np.stack([o.current for o in observations])),
        torch.as_tensor(np.stack([o.best for o in observations])),
        torch.as_tensor(np.stack([o.scalars for o in observations])),
    )


def choose(q: np.ndarray, mask: np.ndarray, epsilon: float, rng: np.random.Generator) -> int:
    """Epsilon-greedy among the allowed actions (ties go to the lowest index)."""
    allowed = np.flatnonzero(mask)
    if rng.random() < epsilon:
        return int(allowed[rng.integers(len(allowed))])
    return int(allowed[np.argmax(q[allowed])])


class QAgent:
    """A trained Q-network with what it needs to search: its action space, score norm and config."""

    def __init__(self, space, config: AgentConfig, norm: ScoreNorm, network: nn.Module | None = None) -> None:
        self.space = space
        self.config = config
        self.norm = norm
        self.actions = ActionSpace(space, config.edit_from_best)
        self.network = network if network is not None else build_network(config, self.actions)
        self.history: dict[str, Any] = {}

    def q_values(self, observations: list[Observation]) -> np.ndarray:
        return network_q(self.network, observations)

    def act(self, observation: Observation, rng: np.random.Generator, epsilon: float | None = None) -> int:
        eps = self.config.search_epsilon if epsilon is None else epsilon
        return choose(self.q_values([observation])[0], observation.mask, eps, rng)

    def search(self, space, objective: BudgetedObjective, rng: np.random.Generator) -> None:
        """Search until ``objective`` raises ``BudgetExhausted`` (or the space is exhausted)."""
        if space_signature(space) != space_signature(self.space):
            raise UserInputError("the agent was trained on a different search space")
        env = SearchEnv(self.actions, objective, self.norm, self.config.rewards, rng)
        env.reset()
        while True:
            observation = env.observe()
            if not observation.mask.any():
                env.restart()
                continue
            env.step(self.act(observation, rng))

    # -- persistence ---------------------------------------------------------------------------------------

    def save(self, directory: str | Path) -> Path:
        """Write ``agent.pt`` (the network's state dict) and ``agent.json`` (config, norm, space, history)."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        torch.save(self.network.state_dict(), directory / WEIGHTS_FILE)
        meta = {
            "format": AGENT_FORMAT,
            "config": self.config.to_dict(),
            "norm": {"mean": self.norm.mean, "std": self.norm.std},
            "space": space_signature(self.space),
            "history": self.history,
        }
        (directory / CONFIG_FILE).write_text(json.dumps(meta, indent=2) + "\n")
        return directory

    @classmethod
    def load(cls, directory: str | Path, space) -> QAgent:
        directory = Path(directory)
        if not (directory / CONFIG_FILE).is_file():
            raise UserInputError(f"no trained agent in {directory} (missing {CONFIG_FILE})")
        meta = read_json(directory / CONFIG_FILE)
        if not isinstance(meta, dict):
            raise UserInputError(f"{directory / CONFIG_FILE} is not a saved agent (not a JSON object)")
        if meta.get("format") != AGENT_FORMAT:
            raise UserInputError(f"{directory} holds an agent of an unknown format {meta.get('format')!r}")
        if meta["space"] != space_signature(space):
            raise UserInputError(f"the agent in {directory} was trained on a different search space")
        agent = cls(space, AgentConfig.from_dict(meta["config"]), ScoreNorm(**meta["norm"]))
        weights = directory / WEIGHTS_FILE
        if not weights.is_file():
            raise UserInputError(f"no trained agent in {directory} (missing {WEIGHTS_FILE})")
        agent.network.load_state_dict(torch.load(weights, weights_only=True, map_location="cpu"))
        agent.network.eval()
        agent.history = meta.get("history", {})
        return agent


# -- training ----------------------------------------------------------------------------------------------


class _CachedObjective:
    """A cheap deterministic objective with a memo, shared by the actors that use it."""

    def __init__(self, objective: Callable[[Architecture], float]) -> None:
        self.objective = objective
        self.memo: dict[Architecture, float] = {}

    def __call__(self, arch: Architecture) -> float:
        value = self.memo.get(arch)
        if value is None:
            value = self.memo[arch] = float(self.objective(arch))
        return value


class _Actor:
    """One Ape-X actor: a search in progress, its exploration rate and its pending n-step window.

    ``env`` must already be reset: the actor starts from its first observation.
    """

    def __init__(self, env: SearchEnv, epsilon: float) -> None:
        self.env = env
        self.epsilon = epsilon
        self.window: deque[tuple[Observation, int, float]] = deque()
        self.steps = 0
        self.start_best = env.best_score
        self.obs = env.observe()


class _Learner:
    """The replay, the online and target networks and the optimiser."""

    def __init__(self, config: AgentConfig, actions: ActionSpace, network: nn.Module, rng: np.random.Generator):
        self.config = config
        self.network = network
        self.target = copy.deepcopy(network)
        self.target.eval()
        self.optimizer = torch.optim.Adam(network.parameters(), lr=config.lr)
        c, a = actions.num_choices, actions.num_actions
        self.replay = PrioritizedReplay(
            config.replay_capacity,
            {
                "current": ((c,), np.int64),
                "best": ((c,), np.int64),
                "scalars": ((NUM_SCALARS,), np.float32),
                "action": ((), np.int64),
                "ret": ((), np.float32),
                "discount": ((), np.float32),
                "next_current": ((c,), np.int64),
                "next_best": ((c,), np.int64),
                "next_scalars": ((NUM_SCALARS,), np.float32),
                "next_mask": ((a,), bool),
            },
            alpha=config.per_alpha,
            eps=config.per_eps,
        )
        self.rng = rng
        self.updates = 0
        self.losses: list[float] = []

    def add(self, first: Observation, action: int, ret: float, discount: float, last: Observation) -> None:
        self.replay.add(
            current=first.current,
            best=first.best,
            scalars=first.scalars,
            action=action,
            ret=ret,
            discount=discount if last.mask.any() else 0.0,
            next_current=last.current,
            next_best=last.best,
            next_scalars=last.scalars,
            next_mask=last.mask,
        )

    def update(self, beta: float) -> None:
        config = self.config
        index, weights = self.replay.sample(config.batch_size, beta, self.rng)
        b = {k: torch.as_tensor(v) for k, v in self.replay.batch(index).items()}
        self.network.train()
        q = self.network(b["current"], b["best"], b["scalars"]).gather(1, b["action"][:, None]).squeeze(1)
        with torch.no_grad():
            next_args = (b["next_current"], b["next_best"], b["next_scalars"])
            online = self.network(*next_args).masked_fill(~b["next_mask"], float("-inf"))
            pick = online.argmax(1, keepdim=True)
            next_value = self.target(*next_args).gather(1, pick).squeeze(1)
            next_value = torch.where(b["discount"] > 0, next_value, torch.zeros_like(next_value))
            y = b["ret"] + b["discount"] * next_value
        td = y - q
        loss = (torch.as_tensor(weights) * nn.functional.smooth_l1_loss(q, y, reduction="none")).mean()
        self.optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(self.network.parameters(), config.grad_clip)
        self.optimizer.step()
        self.replay.update_priorities(index, td.detach().abs().numpy())
        self.updates += 1
        self.losses.append(float(loss.detach()))
        if self.updates % config.target_update == 0:
            self.target.load_state_dict(self.network.state_dict())


def _flush(learner: _Learner, actor: _Actor, gamma: float, last: Observation, terminal: bool) -> None:
    """Emit every pending window start as a (possibly shorter than n) transition ending in ``last``."""
    while actor.window:
        ret, discount = 0.0, 1.0
        for _, _, r in actor.window:
            ret += discount * r
            discount *= gamma
        first, action, _ = actor.window[0]
        learner.add(first, action, ret, 0.0 if terminal else discount, last)
        actor.window.popleft()


def estimate_norm(space, objective: Callable[[Architecture], float], samples: int, rng) -> ScoreNorm:
    """Mean and spread of ``objective`` over random architectures."""
    scores = [objective(tuple(space.sample(rng))) for _ in range(samples)]
    return ScoreNorm.estimate(np.array(scores))


def train_agent(
    space,
    objective_factory: ObjectiveFactory,
    config: AgentConfig | None = None,
    seed: int = 0,
    progress: bool = False,
) -> QAgent:
    """Train a search agent on cheap objectives.

    Parameters
    ----------
    space: the ``SearchSpace``.
    objective_factory: episode number -> objective (architecture -> score) for that training search. Return
        the same surrogate every time, or vary it (e.g. surrogates fit on resampled tables) so the agent
        learns to search rather than to memorise one landscape. Objectives must be deterministic: each is
        memoised.
    config: hyper-parameters (default ``AgentConfig()``).
    seed: seeds the network, the actors and the replay.
    """
    config = config or AgentConfig()
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    actions = ActionSpace(space, config.edit_from_best)
    network = build_network(config, actions)
    learner = _Learner(config, actions, network, np.random.default_rng(rng.integers(2**63)))

    objectives: dict[int, _CachedObjective] = {}

    def objective_for(episode: int) -> _CachedObjective:
        raw = objective_factory(episode)
        if id(raw) not in objectives:
            objectives[id(raw)] = _CachedObjective(raw)
        return objectives[id(raw)]

    norm = estimate_norm(space, objective_for(0), config.norm_samples, rng)
    episodes = 0
    actors = []
    for epsilon in config.actor_epsilons():
        env = SearchEnv(
            actions, objective_for(episodes), norm, config.rewards, np.random.default_rng(rng.integers(2**63))
        )
        env.reset()
        actors.append(_Actor(env, epsilon))
        episodes += 1

    gains: deque[float] = deque(maxlen=200)
    ticks = max(1, config.total_steps // config.actors)
    update_credit = 0.0
    started, cpu_started = time.perf_counter(), time.process_time()
    for tick in tqdm(range(ticks), desc="agent training", unit="tick", disable=not progress, leave=False):
        for actor in actors:
            if not actor.obs.mask.any():  # nowhere new to go: terminal; restart within the same search
                _flush(learner, actor, config.gamma, actor.obs, terminal=True)
            while not actor.obs.mask.any():
                try:
                    actor.env.restart()
                except SpaceExhausted:  # a space smaller than an episode: start a new search
                    actor.env.reset()
                    actor.start_best, actor.steps = actor.env.best_score, 0
                    if not actor.env.observe().mask.any():
                        raise ValueError("the space has no single-choice edits to learn from") from None
                actor.obs = actor.env.observe()
        q = network_q(learner.network, [a.obs for a in actors])
        for actor, q_row in zip(actors, q, strict=True):
            obs = actor.obs
            action = choose(q_row, obs.mask, actor.epsilon, rng)
            reward = actor.env.step(action)
            actor.window.append((obs, action, reward))
            actor.steps += 1
            after = actor.obs = actor.env.observe()
            if len(actor.window) == config.n_step:
                ret = sum(config.gamma**i * r for i, (_, _, r) in enumerate(actor.window))
                first, first_action, _ = actor.window.popleft()
                learner.add(first, first_action, ret, config.gamma**config.n_step, after)
            if actor.steps >= config.episode_length:
                _flush(learner, actor, config.gamma, after, terminal=False)  # partial episode bootstrapping
                gains.append(norm(actor.env.best_score) - norm(actor.start_best))
                actor.env = SearchEnv(actions, objective_for(episodes), norm, config.rewards, actor.env.rng)
                actor.env.reset()
                actor.obs = actor.env.observe()
                actor.start_best, actor.steps = actor.env.best_score, 0
                episodes += 1
        if len(learner.replay) >= config.warmup:
            update_credit += config.updates_per_step * config.actors
            beta = config.per_beta0 + (1.0 - config.per_beta0) * tick / ticks
            while update_credit >= 1.0:
                learner.update(beta)
                update_credit -= 1.0
    agent = QAgent(space, config, norm, learner.network)
    agent.network.eval()
    agent.history = {
        "seed": seed,
        "episodes": episodes,
        "updates": learner.updates,
        "train_seconds": round(time.perf_counter() - started, 1),
        "train_cpu_seconds": round(time.process_time() - cpu_started, 1),
        "final_loss": float(np.mean(learner.losses[-100:])) if learner.losses else None,
        "mean_gain_last_episodes": float(np.mean(gains)) if gains else None,
    }
    log.info("agent trained: %s", agent.history)
    return agent


@torch.no_grad()
def network_q(network: nn.Module, observations: list[Observation]) -> np.ndarray:
    network.eval()
    return network(*_stack(observations)).numpy()
