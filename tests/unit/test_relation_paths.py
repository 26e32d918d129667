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
