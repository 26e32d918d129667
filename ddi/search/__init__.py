"""Architecture search over the relation-path model (``ModelConfig`` fields); see docs/search.md.

Modules
-------
space: the search space (``SearchSpace``, ``Choice``, ``Architecture``): valid architectures, sampling,
    neighbours, token and feature encodings, and the mapping to and from ``ModelConfig``.
proxy: ``ProxyEvaluator``, a cheap, seeded short training that scores one architecture (S0 and S1 validation).
table: ``ArchitectureTable``, the JSON Lines record of every evaluated architecture (cache and resume).
surrogate: ``Surrogate``, a regression model fitted on a table to score architectures without training.
budget: a budget of distinct evaluations around any objective, and the record of how a search spent it.
methods: the search methods (random, walk, local, evolution, rl), one signature.
mdp, qnetwork, replay, rl_agent: the Q-learning search agent and its parts.
runner: one search method under a budget, resumable from a state file.
pipeline: the whole study as one call (proxy table -> surrogate -> agent -> every method x seeds -> confirmation).
"""
