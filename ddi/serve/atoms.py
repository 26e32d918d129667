"""Which atoms of each drug drove a prediction: gradient x input over the atom features and fingerprint bits.

For the pair (A, B) and its predicted type, ``atom_importance`` recomputes A's and B's molecule embeddings
with gradients, puts them in place of the two drugs' rows of the predictor's cached node states, scores the
pair in both orders (as the prediction does) and backpropagates the predicted oriented class's logit (summed
over the two orders) to the atom feature matrices. An atom's raw score is ``sum_f grad_f * x_f`` over its
features, plus, when the model reads Morgan fingerprints, the gradient x input of every set bit shared equally
by the atoms of the substructures that set it (``bits_to_atoms``); the scores shown are ``|raw| / max |raw|``
in [0, 1].

Approximation
-------------
The substituted row is ``cached_state + (m - m.detach())`` where ``m`` is the fresh molecule embedding: its
value is exactly the cached state, and its gradient is the identity from the drug's final state back to its
molecule embedding. That is exact for a drug known only by its structure (no edges: the context layers add a
constant) and, for a graph drug, it follows the residual path of the context layers (``h + relu(norm(agg))``,
whose ``agg`` gathers the *neighbours'* states). What it leaves out is the drug's influence on its neighbours'
states (with two or more context layers it comes back to the drug; with any number it reaches the middle
nodes of the explanation paths). This keeps the cost at one small forward and backward pass, not a re-encoding
of the whole graph.

Atom ``i`` is atom ``i`` of ``Chem.MolFromSmiles(smiles)`` where ``smiles`` is the canonical SMILES the graph
was built from (``ctx.molecules.smiles`` for a DrugBank drug, ``Predictor.structures`` for a structure).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch_geometric.data import Batch, Data

from ddi.chem.fingerprints import bits_to_atoms, fingerprint_matrix
from ddi.models.ddi_model import Encoded
from ddi.train.trainer import pair_features

if TYPE_CHECKING:
    from ddi.predict.predictor import Predictor

log = logging.getLogger(__name__)


@dataclass
class AtomImportance:
    """Per-atom importance of one drug for one prediction.

    Attributes
    ----------
    drug_id: the drug (DrugBank id or ``structure:<key>``).
    smiles: canonical SMILES whose atom order ``scores`` follows.
    scores: ``V`` importances in [0, 1] (the most important atom is 1; all 0 if nothing mattered).
    raw: ``V`` signed gradient x input (positive: the atom pushes towards the predicted type).
    """

    drug_id: str
    smiles: str
    scores: np.ndarray
    raw: np.ndarray

    def top_atoms(self, k: int = 5, min_score: float = 0.25) -> list[int]:
        """Indices of up to ``k`` atoms with the highest scores, keeping those at least ``min_score``."""
        order = np.argsort(-self.scores, kind="stable")[:k]
        return [int(i) for i in order if self.scores[i] >= min_score and self.scores[i] > 0]


def molecule_of(predictor: Predictor, drug_id: str) -> tuple[Data, str] | None:
    """The molecule graph the model encodes for ``drug_id`` and its canonical SMILES (None: no structure)."""
    molecules = predictor.ctx.molecules
    if drug_id in predictor.structures:
        from ddi.chem.graphs import structure_to_graph

        return structure_to_graph(predictor.structures[drug_id])
    if drug_id in molecules and drug_id in molecules.smiles:
        graph = molecules[drug_id]
        return (graph, molecules.smiles[drug_id]) if graph.num_nodes else None
    return None


def _substitute(cached: torch.Tensor, rows: torch.Tensor, fresh: torch.Tensor) -> torch.Tensor:
    """``cached`` with ``rows`` holding their cached values but ``fresh``'s gradient (see the module docstring)."""
    base = cached.detach()
    return base.index_put((rows,), base[rows] + (fresh - fresh.detach()))


def _normalise(raw: np.ndarray) -> np.ndarray:
    magnitude = np.abs(raw)
    top = float(magnitude.max()) if magnitude.size else 0.0
    return magnitude / top if top > 0 else np.zeros_like(magnitude)


def atom_importance(
    predictor: Predictor, drug1_id: str, drug2_id: str, type_id: int | None = None
) -> tuple[AtomImportance | None, AtomImportance | None]:
    """Atom importances of both drugs for the prediction of the pair (see the module docstring).

    Parameters
    ----------
    predictor
        A loaded ``Predictor``; both drugs must be scorable (DrugBank drugs of its data or registered
        structures).
    drug1_id, drug2_id
        The ordered pair.
    type_id
        The interaction type to explain; default the predicted one.

    Returns
    -------
    tuple
        One ``AtomImportance`` per drug, None for a drug without a molecule graph (no structure) or when the
        model has no molecule encoder.
    """
    model = predictor.model
    if not model.uses_structure:
        return None, None
    heads = [predictor.node_of[drug1_id], predictor.node_of[drug2_id]]
    found = [molecule_of(predictor, d) for d in (drug1_id, drug2_id)]
    present = {i: f for i, f in enumerate(found) if f is not None}  # side -> (graph, smiles)
    sides = list(present)
    if not sides:
        return None, None
    labels = predictor.ctx.labels
    h, t = torch.tensor(heads[:1]), torch.tensor(heads[1:])
    hh, tt = torch.cat([h, t]), torch.cat([t, h])
    features = pair_features(model, predictor.ctx, hh, tt)
    batch = Batch.from_data_list([present[i][0] for i in sides])
    smiles = [present[i][1] for i in sides]
    x = batch.x.detach().clone().requires_grad_(True)
    bits = model.config.fingerprint_bits
    fp = fingerprint_matrix(smiles, bits).requires_grad_(True) if model.fingerprint_encoder is not None else None
    cached: Encoded = predictor.encoded
    with torch.enable_grad():
        fresh = torch.zeros(len(sides), model.config.hidden_dim)
        if model.molecule_encoder is not None:
            fresh = fresh + model.molecule_encoder(x, batch.edge_index, batch.edge_attr, batch.batch, batch.num_graphs)
        if fp is not None and model.fingerprint_encoder is not None:
            fresh = fresh + model.fingerprint_encoder(fp)
        rows = torch.tensor([heads[i] for i in sides])
        # Everything else of the cached encoding (paths, flow graph) stays; the per-drug parts are recomputed.
        encoded = replace(
            cached, node_state=_substitute(cached.node_state, rows, fresh), pair_structure=None, projection=None
        )
        if cached.pair_structure is not None:
            pair = model.pair_structure(fp)
            assert pair is not None  # a cached pair_structure means the model has a fingerprint pair layer
            encoded.pair_structure = _substitute(cached.pair_structure, rows, pair)
        out = model.score_pairs(encoded, predictor.ctx.graph, hh, tt, features)
        # The prediction averages both orders (``predict_type_probs``); so does the class chosen here.
        p = model.class_probs(out.type_logits.detach(), model.vote_probs(features))
        probs = (p[:1] + labels.flip(p[1:])) / 2
        ti = int(labels.type_probs(probs)[0].argmax()) if type_id is None else labels.index_of[int(type_id)]
        orientation = int(probs[0].view(-1, 2)[ti].argmax())
        # The same class read from the other order: orientations swap, symmetric types keep orientation 0.
        reverse = 0 if bool(labels.symmetric[ti]) else 1 - orientation
        target = out.type_logits[0, 2 * ti + orientation] + out.type_logits[1, 2 * ti + reverse]
        reads_atoms = model.molecule_encoder is not None
        grads = torch.autograd.grad(target, ([x] if reads_atoms else []) + ([fp] if fp is not None else []))
    per_atom = np.zeros(x.shape[0])
    if reads_atoms:
        per_atom += (grads[0] * x.detach()).sum(dim=-1).numpy()
    if fp is not None:
        bit_scores = (grads[-1] * fp.detach()).numpy()
        for k, smi in enumerate(smiles):
            per_atom[batch.ptr[k] : batch.ptr[k + 1]] += bits_to_atoms(smi, bit_scores[k])
    result: list[AtomImportance | None] = [None, None]
    for k, i in enumerate(sides):
        raw = per_atom[batch.ptr[k] : batch.ptr[k + 1]].astype(np.float64)
        result[i] = AtomImportance((drug1_id, drug2_id)[i], present[i][1], _normalise(raw), raw)
    return result[0], result[1]
