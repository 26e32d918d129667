"""The middles a pair's paths go through: every common neighbour, capped the same way whichever side is asked."""

import torch

from ddi.nn.relation_paths import common_middles


def brute_force(head_mask: torch.Tensor, tail_mask: torch.Tensor, cap: int) -> tuple[list, list]:
    kept, counts = [], []
    for b in range(head_mask.shape[0]):
        middles = [n for n in range(head_mask.shape[1]) if head_mask[b, n] and tail_mask[b, n]]
        counts.append(len(middles))
        kept += [(b, n) for n in middles[:cap]]
    return kept, counts


def test_capped_middles_are_the_lowest_node_ids_of_each_pair():
    gen = torch.Generator().manual_seed(3)
    head = torch.rand(40, 60, generator=gen) < 0.5
    tail = torch.rand(40, 60, generator=gen) < 0.5
    head[7] = False  # a pair with no common neighbour
    pair, middle, counts = common_middles(head, tail, max_paths=5)
    kept, expected_counts = brute_force(head, tail, 5)
    assert list(zip(pair.tolist(), middle.tolist(), strict=True)) == kept
    assert counts.tolist() == expected_counts
    assert counts[7] == 0 and max(expected_counts) > 5  # the cap was exercised
    # Asked the other way round, a pair walks through the same middles.
    swapped = common_middles(tail, head, max_paths=5)
    assert torch.equal(swapped[0], pair) and torch.equal(swapped[1], middle)


def test_random_cap_keeps_a_subset_of_the_common_middles():
    gen = torch.Generator().manual_seed(0)
    head = torch.rand(20, 50, generator=gen) < 0.6
    tail = torch.rand(20, 50, generator=gen) < 0.6
    pair, middle, counts = common_middles(head, tail, max_paths=4, generator=torch.Generator().manual_seed(1))
    assert bool((head[pair, middle] & tail[pair, middle]).all())
    assert torch.equal(torch.bincount(pair, minlength=20), counts.clamp(max=4))


def test_every_message_function_handles_a_batch_without_paths():
    from ddi.nn.composition import COMPOSITIONS

    for name, compose in COMPOSITIONS.items():
        node = torch.zeros(0, 8, requires_grad=True)
        out = compose(node, torch.zeros(0, 8))
        assert out.shape == (0, 8), name
        out.sum().backward()  # a training step over a batch with no paths must not fail either


def test_circular_correlation_matches_its_definition():
    from ddi.nn.composition import ccorr

    gen = torch.Generator().manual_seed(0)
    a, b = torch.randn(3, 6, generator=gen), torch.randn(3, 6, generator=gen)
    direct = torch.stack([(a * torch.roll(b, -k, dims=-1)).sum(-1) for k in range(6)], dim=-1)
    assert torch.allclose(ccorr(a, b), direct, atol=1e-5)


def _path_block_outputs(aggregation: str, attention: bool):
    from ddi.nn.relation_paths import PathBatch, PathInputs, RelationPathBlock

    torch.manual_seed(0)
    block = RelationPathBlock(8, "mult", aggregation, attention, dropout=0.0)
    # Two pairs: pair 0 has three paths, pair 1 has two.
    paths = PathBatch(
        pair=torch.tensor([0, 0, 0, 1, 1]),
        middle=torch.tensor([0, 1, 2, 3, 4]),
        head_slot=torch.tensor([0, 1, 0, 1, 0]),
        tail_slot=torch.tensor([1, 0, 1, 1, 0]),
        counts=torch.tensor([3, 2]),
    )
    inputs = PathInputs(torch.randn(2, 8), torch.randn(2, 8), torch.randn(5, 8))
    pooled, weights = block(paths, inputs, torch.randn(2, 8))
    return block, pooled, weights


def test_path_weights_are_learned_only_where_they_pool_the_paths():
    # Attention pooling: the weights are a softmax per pair, and the prediction depends on them (so they train).
    block, pooled, weights = _path_block_outputs("attention", attention=True)
    assert torch.allclose(weights[:3].sum(), torch.tensor(1.0)) and torch.allclose(weights[3:].sum(), torch.tensor(1.0))
    assert not torch.allclose(weights[:3], weights[:1].expand(3))
    pooled.sum().backward()
    assert block.att_score.grad is not None and block.att_score.grad.abs().sum() > 0
    # Sum pooling with attention asked for: a weight would never reach the output and would rank paths at random
    # in explanations, so there is none; every path of a pair weighs the same.
    block, _, weights = _path_block_outputs("sum", attention=True)
    assert not block.attention and not hasattr(block, "att_score")
    assert torch.allclose(weights, torch.tensor([1 / 3, 1 / 3, 1 / 3, 1 / 2, 1 / 2]))
