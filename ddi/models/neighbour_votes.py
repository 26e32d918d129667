"""Neighbour votes: the known interactions of a pair's look-alike drugs, as features for the heads.

Two drugs look alike by the mean of Jaccard (Tanimoto) similarities: of their Morgan fingerprints (structure),
of their protein sets (targets, enzymes, transporters, carriers: pharmacology) and, where the model asks for
them, of their label annotations (ATC codes, DrugBank categories: ``ddi.models.drug_annotations``). For an ordered
pair (h, t) the vote of a class c is the similarity-weighted count of the known interactions of class c between
h and the look-alikes of t and between the look-alikes of h and t, and (a second block) between a look-alike
of h and a look-alike of t. These are the relation paths ``h -resembles- h' -interacts- t`` and
``h -resembles- h' -interacts- t' -resembles- t``, read out explicitly: a new drug has no interactions of its
own, but its look-alikes do. With a ``pool``, the first block reads the k drugs most like h *among those that
interacted with t* (searched in h's ``pool`` closest), and likewise for t: a new drug's closest look-alikes often
never met the other drug, and its closest ones that did are the classic neighbour-based evidence. On
drug-disjoint splits this vote alone is level with the rest of the model, and the heads learn how far to trust
it. A drug's protein set is known before its interactions are (from its label), so it may be used for new drugs,
and so are its ATC codes and categories; a drug known only by its SMILES looks alike by structure only.

No leak: a lookup never reads the pair's own interaction (a drug is not its own look-alike, and the double
block skips the pair itself read in reverse), and hidden drugs (training's imitation of new drugs) have no
interactions to read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
import scipy.sparse as sp
import torch
from torch import Tensor

from ddi.models.drug_annotations import ANNOTATION_WORDS
from ddi.models.labels import TypeOrientation

#: The vote of a look-alike is its similarity to this power: the close ones count much more.
VOTE_POWER = 3.0
#: Weight of the typed interaction profiles among the views a look-alike is compared by (each other view: 1).
INTERACTION_VIEW_WEIGHT = 2.0
#: Up to this many drugs the class of every ordered pair is kept in a dense ``D x D`` table (32 MB at most),
#: several times faster to read than the binary search used beyond it.
DENSE_TABLE_MAX_DRUGS = 4096


#: A 0/1 view of drugs, one row each: dense, or sparse where it has many columns.
View: TypeAlias = "Tensor | sp.csr_matrix"


def as_sparse(view: View) -> sp.csr_matrix:
    """A 0/1 view as a sparse row matrix (views with many columns, such as interaction profiles, stay sparse)."""
    return view if sp.issparse(view) else sp.csr_matrix(view.numpy())


def row_counts(view: View) -> Tensor:
    """``N x 1`` number of ones per row of a view."""
    return torch.as_tensor(np.asarray(as_sparse(view).sum(1)), dtype=torch.float32).reshape(-1, 1)


def empty_like_rows(view: View, rows: int) -> View:
    """A view of ``rows`` all-zero rows with the columns of ``view`` (a drug that view knows nothing of)."""
    return (
        sp.csr_matrix((rows, view.shape[1]), dtype=np.float32)
        if sp.issparse(view)
        else torch.zeros(rows, view.shape[1])
    )


def tanimoto(queries: View, pool: View) -> Tensor:
    """``Q x M`` Tanimoto (Jaccard) similarity of 0/1 rows; 0 where both rows are empty."""
    # Fingerprints, protein sets and label codes are mostly zeros: a sparse product counts the shared bits
    # exactly as the dense one does, several times faster (and far faster on exports with many drugs).
    shared = as_sparse(queries) @ as_sparse(pool).T
    common = torch.from_numpy(np.asarray(shared.toarray(), dtype=np.float32))
    union = row_counts(queries) + row_counts(pool).T - common
    return torch.where(union > 0, common / union.clamp(min=1e-9), torch.zeros_like(common))


def interaction_profiles(heads: Tensor, tails: Tensor, classes: Tensor, reverse_class: Tensor, num_drugs: int) -> View:
    """``D x (D C)`` 0/1 typed interaction profiles: row h has a one at (t, c) for each known interaction of class
    c from h to t (both orders of a pair are listed). Two drugs whose known interactions are with the same
    partners, of the same classes, interact alike: on the S0 validation pairs this view lifts the untrained vote
    from 0.82 to 0.90 macro-F1 (BENCHMARKS.md). A drug without known interactions (a new one) has an empty row
    and is compared by its other views."""
    num_classes = len(reverse_class)
    rows = torch.cat([heads, tails]).numpy()
    columns = torch.cat([tails * num_classes + classes, heads * num_classes + reverse_class[classes]]).numpy()
    profiles = sp.csr_matrix(
        (np.ones(len(rows), dtype=np.float32), (rows, columns)), shape=(num_drugs, num_drugs * num_classes)
    )
    profiles.sum_duplicates()
    profiles.data[:] = 1.0  # a pair listed twice is one entry
    return profiles


def look_alike_table(
    queries: Sequence[View],
    pool: Sequence[View],
    k: int,
    self_index: Tensor | None = None,
    chunk: int = 1024,
    view_weights: Sequence[float] | None = None,
) -> tuple[Tensor, Tensor]:
    """The ``k`` pool rows most like each query row: ``Q x k`` pool indices and similarities, best first.

    ``queries`` and ``pool`` hold the same views of the drugs (e.g. fingerprints, protein sets) as 0/1 rows;
    the similarity is the mean of the views' Tanimoto similarities over the views the query has (a drug with no
    known proteins is compared by structure alone, one without a structure by its proteins; ``view_weights``
    weigh the views in that mean, 1 each by default). ``self_index``
    (``Q``, -1 for none) is the pool row of each query itself, which is never its own look-alike. Queries are
    taken ``chunk`` at a time to bound memory on large exports.
    """
    num_queries = queries[0].shape[0]
    k = min(k, pool[0].shape[0])
    if k == 0 or num_queries == 0:
        return torch.zeros(num_queries, k, dtype=torch.long), torch.zeros(num_queries, k)
    weights_ = list(view_weights) if view_weights is not None else [1.0] * len(queries)
    index, weights = [], []
    for start in range(0, num_queries, chunk):
        rows = slice(start, start + chunk)
        similarity = torch.zeros(min(chunk, num_queries - start), pool[0].shape[0])
        views = torch.zeros(similarity.shape[0], 1)
        for weight, query, pooled in zip(weights_, queries, pool, strict=True):
            similarity += weight * tanimoto(query[rows], pooled)
            views += weight * (row_counts(query[rows]) > 0).float()
        similarity = similarity / views.clamp(min=1.0)
        if self_index is not None:
            own = self_index[rows]
            has_own = torch.nonzero(own >= 0).squeeze(1)
            similarity[has_own, own[has_own]] = -1.0
        top_weights, top_index = similarity.topk(k, dim=1)  # ties: the lower index first (deterministic)
        index.append(top_index)
        weights.append(top_weights.clamp(min=0.0))
    return torch.cat(index), torch.cat(weights)


@dataclass(frozen=True)
class VoteEvidence:
    """One known interaction behind a pair's votes: the ordered known pair (``known_head``, ``known_tail``), its
    class, the look-alike similarity of each side (1.0 for a side that is the pair's own drug) and its vote
    (the product of the similarities to ``VOTE_POWER``)."""

    known_head: int
    known_tail: int
    cls: int
    head_similarity: float
    tail_similarity: float
    vote: float


class NeighbourVotes:
    """Vote features of ordered drug pairs from the known interactions of the drugs' look-alikes.

    Parameters
    ----------
    fingerprints: ``D x bits`` 0/1 fingerprints of the graph's drugs (zero rows: no structure).
    protein_sets: ``D x P`` 0/1 drug-protein membership (zero rows: no known proteins).
    heads, tails, classes: the known interactions as ordered pairs with their class, one order each.
    reverse_class: ``C``, the class of the reversed pair for each class (a permutation): both orders are stored.
    known: ``D`` bool, the drugs allowed as look-alikes (those with known interactions).
    num_classes: ``C``; k: look-alikes per drug.
    annotations: further ``D x T`` 0/1 views of the drugs compared alike (e.g. ATC codes, categories; zero rows:
        not annotated).
    pool: for the first block (one drug's look-alikes with the other drug), the k most alike that *have* a known
        interaction with the other drug are searched among this many (0: among the k look-alikes only).
    compare_interactions: also compare drugs by their typed interaction profiles (``interaction_profiles`` of the
        known interactions, weighted ``INTERACTION_VIEW_WEIGHT``). A hidden drug (training's imitation of a new
        one) is then given the look-alikes it would have without its interactions, as a new drug has.

    Shapes
    ------
    neighbours, weights: ``D' x max(k, pool)`` (D' = D plus drugs added by ``add_drugs``); keys/values: ``K`` sorted
    ``head * D + tail`` and the class of that ordered pair. Output of ``lookup``: ``B x (2C + 2)``.
    """

    def __init__(
        self,
        fingerprints: Tensor,
        protein_sets: Tensor,
        heads: Tensor,
        tails: Tensor,
        classes: Tensor,
        reverse_class: Tensor,
        known: Tensor,
        num_classes: int,
        k: int,
        annotations: Sequence[Tensor] = (),
        pool: int = 0,
        compare_interactions: bool = False,
    ) -> None:
        self.num_drugs = fingerprints.shape[0]
        self.num_classes = num_classes
        # Column permutation of one vote block that reads the votes of (t, h) from those of (h, t); the
        # sentinel column (the total) stays.
        self._reverse_columns = torch.cat([reverse_class, torch.tensor([num_classes])])
        self.k = k
        self._pool = torch.nonzero(known).squeeze(1)
        views: list[View] = [fingerprints, protein_sets, *annotations]
        self._view_weights = [1.0] * len(views)
        if compare_interactions:
            views.append(interaction_profiles(heads, tails, classes, reverse_class, self.num_drugs))
            self._view_weights.append(INTERACTION_VIEW_WEIGHT)
        self.compares_interactions = compare_interactions
        self._views = views
        self._pool_views = [view[self._pool.numpy()] for view in views]
        self._self_index = torch.full((self.num_drugs,), -1, dtype=torch.long)
        self._self_index[self._pool] = torch.arange(len(self._pool))
        # Candidates per drug, best first: the first k are its look-alikes; the single block searches them all.
        self.columns = max(k, pool)
        index, self.weights = look_alike_table(
            views, self._pool_views, self.columns, self._self_index, view_weights=self._view_weights
        )
        self.neighbours = self._pool[index]
        self._blind: tuple[Tensor, Tensor] | None = None  # candidates without own interactions (hidden drugs)
        self._outside_ids = torch.zeros(0, dtype=torch.long)  # node ids of the rows add_drugs appended
        # Pairs are keyed over D + 1 ids: id D is "nobody" (a hidden drug, or one outside the graph), whose
        # pairs have no class; a missing class reads as the sentinel C, so lookups need no masking.
        # A pair listed with several types votes its first one, in both orders alike (so that the votes of
        # (t, h) are exactly those of (h, t) reversed, see ``reverse``).
        unordered = torch.minimum(heads, tails) * (self.num_drugs + 1) + torch.maximum(heads, tails)
        order = torch.argsort(unordered, stable=True)
        first = torch.ones(len(order), dtype=torch.bool)
        first[1:] = unordered[order][1:] != unordered[order][:-1]
        rows = order[first]
        h, t, c = heads[rows], tails[rows], classes[rows]
        keys = torch.cat([h * (self.num_drugs + 1) + t, t * (self.num_drugs + 1) + h])
        values = torch.cat([c, reverse_class[c]])
        order = torch.argsort(keys)
        self.keys, self.values = keys[order], values[order]
        self._dense: Tensor | None = None
        if self.num_drugs <= DENSE_TABLE_MAX_DRUGS:
            self._dense = torch.full(((self.num_drugs + 1) ** 2,), num_classes, dtype=torch.int16)
            self._dense[self.keys] = self.values.to(torch.int16)

    @property
    def width(self) -> int:
        return vote_width(self.num_classes)

    def add_drugs(self, node_ids: Tensor, fingerprints: Tensor) -> None:
        """Rows for ``M`` drugs outside the graph (known only by structure) under their node ids (``M``, each
        past the graph's nodes and above every id added before). With no proteins or annotations known, they look
        alike by structure alone."""
        unknown = [empty_like_rows(view, fingerprints.shape[0]) for view in self._pool_views[1:]]
        index, weights = look_alike_table(
            [fingerprints, *unknown], self._pool_views, self.columns, view_weights=self._view_weights
        )
        self.neighbours = torch.cat([self.neighbours, self._pool[index]])
        self.weights = torch.cat([self.weights, weights])
        self._outside_ids = torch.cat([self._outside_ids, node_ids])

    def _rows(self, ids: Tensor) -> Tensor:
        """Row of each drug id in ``neighbours``: graph drugs are their own row, outside drugs follow."""
        outside = ids >= self.num_drugs
        if not bool(outside.any()):
            return ids
        pos = torch.searchsorted(self._outside_ids, ids[outside])
        if bool((pos >= len(self._outside_ids)).any()) or bool((self._outside_ids[pos] != ids[outside]).any()):
            raise KeyError("a drug id outside the graph was never added to the neighbour votes")
        rows = ids.clone()
        rows[outside] = self.num_drugs + pos
        return rows

    def reverse(self, features: Tensor) -> Tensor:
        """The features of the pairs in the other order, (t, h), from those of (h, t) (``lookup``'s output): every
        look-up of one is the reverse of a look-up of the other, so only the classes change (exact up to float
        rounding: the votes are summed in another order)."""
        block = self.num_classes + 1
        columns = torch.cat([self._reverse_columns, self._reverse_columns + block])
        return features.index_select(1, columns)

    def look_alikes(self, ids: Tensor, hidden: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """The look-alikes of drugs (``B`` ids, graph drugs or added ones): ``B x k`` drug ids and similarities,
        most similar first."""
        ids_, weights = self.candidates(ids, hidden)
        return ids_[:, : self.k], weights[:, : self.k]

    def candidates(self, ids: Tensor, hidden: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """``B x max(k, pool)`` most alike drugs and similarities, best first (``look_alikes`` are the first k).
        ``hidden`` (``D`` bool): drugs that get the candidates they would have without their own interactions."""
        rows = self._rows(ids)
        neighbours, weights = self.neighbours.index_select(0, rows), self.weights.index_select(0, rows)
        if hidden is None or not self.compares_interactions:
            return neighbours, weights
        blind = (ids < self.num_drugs) & hidden[ids.clamp(max=self.num_drugs - 1)]
        if bool(blind.any()):
            blind_neighbours, blind_weights = self._blind_candidates()
            graph_rows = ids[blind]
            neighbours[blind] = blind_neighbours.index_select(0, graph_rows)
            weights[blind] = blind_weights.index_select(0, graph_rows)
        return neighbours, weights

    def _blind_candidates(self) -> tuple[Tensor, Tensor]:
        """``D x max(k, pool)`` candidates of the graph's drugs compared as if none of their own interactions were
        known (their profile row empty, so that view is skipped), built on first use."""
        if self._blind is None:
            queries = [*self._views[:-1], empty_like_rows(self._views[-1], self.num_drugs)]
            index, weights = look_alike_table(
                queries, self._pool_views, self.columns, self._self_index, view_weights=self._view_weights
            )
            self._blind = (self._pool[index], weights)
        return self._blind

    def _single(self, own: Tensor, others: Tensor, hidden: Tensor | None, own_first: bool) -> tuple[Tensor, Tensor]:
        """Classes and similarities (``B x max(k, pool)``) of the known interactions between the candidates of
        ``own`` and the drug ``others`` (``B``): (candidate, other) if ``own_first``, else (other, candidate).
        Only the first k candidates that have one count (the k closest with evidence; without a pool the first
        k candidates are all there is); the others get class C and similarity 0."""
        ids, weights = self.candidates(own, hidden)
        visible = self._visible_ids(ids, hidden)
        other = others.unsqueeze(1)
        classes = self._classes(visible, other, hidden) if own_first else self._classes(other, visible, hidden)
        known = classes < self.num_classes
        taken = known & (known.cumsum(1) <= self.k)
        none = torch.full_like(classes, self.num_classes)
        return torch.where(taken, classes, none), torch.where(taken, weights, torch.zeros_like(weights))

    def evidence(self, head: int, tail: int, limit: int = 5) -> list[VoteEvidence]:
        """The known interactions behind the votes of the ordered pair (head, tail), strongest vote first."""
        h, t = torch.tensor([head]), torch.tensor([tail])
        (ch, cwh), (ct, cwt) = self.candidates(h), self.candidates(t)
        # The double block's look-alikes are the first k candidates.
        nh, wh, nt, wt = ch[0, : self.k], cwh[0, : self.k], ct[0, : self.k], cwt[0, : self.k]
        # The single block's similarities: 0 for the candidates it does not count.
        sh, st = self._single(h, t, None, True)[1][0], self._single(t, h, None, False)[1][0]
        one = torch.ones(1)
        candidates = [  # (known heads, known tails, head similarities, tail similarities)
            (ch[0], torch.full_like(ch[0], tail), sh, one.expand_as(sh)),
            (torch.full_like(ct[0], head), ct[0], one.expand_as(st), st),
            (nh.repeat_interleave(len(nt)), nt.repeat(len(nh)), wh.repeat_interleave(len(nt)), wt.repeat(len(nh))),
        ]
        found = []
        for a, b, sa, sb in candidates:
            classes = self._classes(a, b, None)
            for i in torch.nonzero(classes < self.num_classes).flatten().tolist():
                if {int(a[i]), int(b[i])} == {head, tail}:
                    continue  # the pair itself (read in reverse through two look-alikes)
                vote = float((sa[i] * sb[i]).pow(VOTE_POWER))
                if vote > 0:
                    found.append(VoteEvidence(int(a[i]), int(b[i]), int(classes[i]), float(sa[i]), float(sb[i]), vote))
        found.sort(key=lambda e: (-e.vote, e.known_head, e.known_tail))
        return found[:limit]

    def _visible_ids(self, ids: Tensor, hidden: Tensor | None) -> Tensor:
        """Drug ids with hidden drugs and drugs outside the graph replaced by "nobody" (D)."""
        inside = ids < self.num_drugs
        if hidden is not None:
            inside &= ~hidden[ids.clamp(max=self.num_drugs - 1)]
        return torch.where(inside, ids, torch.full_like(ids, self.num_drugs))

    def _classes(self, a: Tensor, b: Tensor, hidden: Tensor | None = None) -> Tensor:
        """Class of each ordered pair (a, b) (broadcast), C where it is not a known, visible interaction."""
        key = self._visible_ids(a, hidden) * (self.num_drugs + 1) + self._visible_ids(b, hidden)
        if self._dense is not None:
            return self._dense.index_select(0, key.flatten()).view(key.shape).long()
        if self.keys.numel() == 0:
            return torch.full_like(key, self.num_classes)
        pos = torch.searchsorted(self.keys, key).clamp(max=self.keys.numel() - 1)
        return torch.where(self.keys[pos] == key, self.values[pos], torch.full_like(key, self.num_classes))

    def _block(self, classes: Tensor, votes: Tensor) -> Tensor:
        """``B x (C + 1)`` from ``B x M`` classes and votes: the normalised vote of each class, log(1 + total)."""
        out = torch.zeros(classes.shape[0], self.num_classes + 1)
        out.scatter_add_(1, classes, votes)  # sentinel C collects the votes of unknown pairs, then is replaced
        total = out[:, : self.num_classes].sum(1, keepdim=True)
        out[:, : self.num_classes] /= total.clamp(min=1e-9)
        out[:, self.num_classes] = torch.log1p(total.squeeze(1))
        return out

    def lookup(self, heads: Tensor, tails: Tensor, hidden: Tensor | None = None) -> Tensor:
        """``B x (2C + 2)`` vote features of the ordered pairs (heads[i], tails[i]).

        ``hidden``: ``D`` bool, drugs whose interactions must not be read (None: none).
        """
        (nh, vh), (nt, vt) = self.look_alikes(heads, hidden), self.look_alikes(tails, hidden)  # B x k each
        vh, vt = vh.pow(VOTE_POWER), vt.pow(VOTE_POWER)
        ah, at = self._visible_ids(nh, hidden), self._visible_ids(nt, hidden)
        (ch, sh), (ct, st) = self._single(heads, tails, hidden, True), self._single(tails, heads, hidden, False)
        single = torch.cat([ch, ct], dim=1)
        single_votes = torch.cat([sh, st], dim=1).pow(VOTE_POWER)
        double = self._classes(ah.unsqueeze(2), at.unsqueeze(1))  # B x k x k; already visible ids
        # Two look-alikes can be the pair itself read in reverse (h ~ t and t ~ h): never read it.
        itself = (nh == tails.unsqueeze(1)).unsqueeze(2) & (nt == heads.unsqueeze(1)).unsqueeze(1)
        if bool(itself.any()):
            double[itself] = self.num_classes
        double_votes = vh.unsqueeze(2) * vt.unsqueeze(1)
        return torch.cat(
            [
                self._block(single, single_votes),
                self._block(double.flatten(1), double_votes.flatten(1)),
            ],
            dim=1,
        )


def look_alike_basis(annotations: Sequence[str]) -> str:
    """What look-alikes are compared by, in words, for a model whose votes also read ``annotations``."""
    parts = ["structure", "proteins", *(ANNOTATION_WORDS.get(a, a) for a in annotations)]
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def vote_width(num_classes: int) -> int:
    """Width of ``NeighbourVotes.lookup``'s output for ``num_classes`` classes: two blocks of C votes + total."""
    return 2 * num_classes + 2


def vote_distribution(features: Tensor, num_classes: int) -> Tensor:
    """``B x C`` class distribution of the vote in ``features`` (``B x (2C + 2)``, from ``NeighbourVotes.lookup``):
    its first block where a look-alike of one drug has a known interaction with the other, else its second
    (look-alikes of both drugs); NaN rows where no look-alike voted at all."""
    c = num_classes
    single, double = features[:, :c], features[:, c + 1 : 2 * c + 1]
    chosen = torch.where(features[:, c : c + 1] > 0, single, double)
    none = (features[:, c] <= 0) & (features[:, 2 * c + 1] <= 0)
    return torch.where(none.unsqueeze(1), torch.full_like(chosen, float("nan")), chosen)


def vote_types(features: Tensor, labels: TypeOrientation, fallback_type: int) -> np.ndarray:
    """The look-alike vote alone as a classifier (an untrained baseline): ``B`` type ids, the most voted type
    of ``vote_distribution``; a pair with no vote at all gets ``fallback_type`` (e.g. the commonest training type).
    """
    scores = vote_distribution(features, labels.num_classes)
    none = scores[:, 0].isnan()
    type_scores = labels.type_probs(scores.nan_to_num(0.0))
    predicted = labels.type_ids[type_scores.argmax(1).numpy()].copy()
    predicted[none.numpy()] = fallback_type
    return predicted
