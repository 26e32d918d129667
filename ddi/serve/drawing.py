"""Pictures for an answer: a molecule with its important atoms highlighted (SVG), the explanation paths as a
small graph (Graphviz DOT, which ``st.graphviz_chart`` renders without any extra install)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
from rdkit import Chem, rdBase
from rdkit.Chem.Draw import rdMolDraw2D

from ddi.kg.graph import KnowledgeGraph
from ddi.predict.explain import SIMILARITY_VERB, relations_between
from ddi.predict.predictor import PathExplanation

log = logging.getLogger(__name__)

#: Highlight colour of the most important atom (RGB in 0..1); weaker atoms fade towards white.
HIGHLIGHT = (0.90, 0.30, 0.20)
DRUG_FILL, PROTEIN_FILL, END_FILL = "#dbe9f6", "#fdebd0", "#aed0ee"


def _shade(score: float) -> tuple[float, float, float]:
    """``HIGHLIGHT`` blended with white: score 1 gives the full colour, score 0 white."""
    s = 0.35 + 0.65 * float(np.clip(score, 0.0, 1.0))
    return tuple(1.0 - s * (1.0 - c) for c in HIGHLIGHT)  # type: ignore[return-value]


def molecule_svg(
    smiles: str,
    scores: Sequence[float] | np.ndarray | None = None,
    top_k: int = 6,
    min_score: float = 0.25,
    size: tuple[int, int] = (380, 300),
    legend: str = "",
) -> str:
    """SVG drawing of ``smiles`` with its most important atoms highlighted.

    Parameters
    ----------
    smiles
        The canonical SMILES the scores' atom order follows (``AtomImportance.smiles``).
    scores
        Per-atom importances in [0, 1] (``AtomImportance.scores``); None draws the plain molecule.
    top_k, min_score
        Highlight at most ``top_k`` atoms, each scoring at least ``min_score``; bonds between two highlighted
        atoms are highlighted too. Darker means more important.
    size
        Width and height in pixels.
    legend
        Text under the drawing.

    Returns
    -------
    str
        An SVG document; an empty string if ``smiles`` cannot be parsed.
    """
    with rdBase.BlockLogs():
        mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        log.warning("cannot draw %r: not a parsable SMILES", smiles[:80])
        return ""
    values = np.zeros(mol.GetNumAtoms()) if scores is None else np.asarray(scores, dtype=float)
    if len(values) != mol.GetNumAtoms():
        log.warning("%d atom scores for %d atoms: drawn without highlights", len(values), mol.GetNumAtoms())
        values = np.zeros(mol.GetNumAtoms())
    order = np.argsort(-values, kind="stable")[:top_k]
    atoms = [int(i) for i in order if values[i] >= min_score and values[i] > 0]
    colours = {i: _shade(values[i]) for i in atoms}
    chosen = set(atoms)
    bonds, bond_colours = [], {}
    for bond in mol.GetBonds():
        a, b = bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()
        if a in chosen and b in chosen:
            bonds.append(bond.GetIdx())
            bond_colours[bond.GetIdx()] = _shade(min(values[a], values[b]))
    drawer = rdMolDraw2D.MolDraw2DSVG(*size)
    options: Any = drawer.drawOptions()  # rdkit-stubs type these properties as MolDrawOptions, not bool/int
    options.clearBackground = False
    options.legendFontSize = 16
    rdMolDraw2D.PrepareAndDrawMolecule(
        drawer,
        mol,
        legend=legend,
        highlightAtoms=atoms,
        highlightAtomColors=colours,
        highlightBonds=bonds,
        highlightBondColors=bond_colours,
    )
    drawer.FinishDrawing()
    return drawer.GetDrawingText()


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def _edge(kg: KnowledgeGraph, a: int, b: int) -> tuple[int, int, str]:
    """The step a - b of a path as a stored edge (source, target, verb): the relation's own direction."""
    relations = relations_between(kg, a, b)
    if not relations:
        return a, b, SIMILARITY_VERB
    rel, vocab = relations[0], kg.vocab
    if vocab.is_inverse(rel):
        return b, a, vocab.verb(vocab.inverse_of(rel))
    return a, b, vocab.verb(rel)


def paths_dot(kg: KnowledgeGraph, paths: Sequence[PathExplanation], rankdir: str = "LR") -> str:
    """Graphviz DOT of explanation paths: the two drugs, the middle drugs and proteins, labelled relations.

    Each path ``head - middle - tail`` adds its two steps; an edge's width grows with the weight of the
    heaviest path through it. Drugs are boxes (the pair's two drugs darker), proteins ellipses.

    Parameters
    ----------
    kg
        The knowledge graph the paths' node ids refer to (``predictor.ctx.kg``).
    paths
        ``PairPrediction.paths``.
    """
    lines = [
        "digraph paths {",
        f"  rankdir={rankdir};",
        '  graph [fontname="Helvetica", nodesep=0.25, ranksep=0.6];',
        '  node [fontname="Helvetica", fontsize=11, style=filled];',
        '  edge [fontname="Helvetica", fontsize=9, color="#555555"];',
    ]
    if not paths:
        return "\n".join([*lines, "}"])
    ends = {paths[0].nodes[0], paths[0].nodes[-1]}
    nodes: list[int] = []
    edges: dict[tuple[int, int, str], float] = {}
    for path in paths:
        for node in path.nodes:
            if node not in nodes:
                nodes.append(node)
        for a, b in zip(path.nodes[:-1], path.nodes[1:], strict=True):
            key = _edge(kg, a, b)
            edges[key] = max(edges.get(key, 0.0), path.weight)
    for node in nodes:
        name = _quote(str(kg.node_names[node]))
        if node in ends:
            lines.append(f"  n{node} [label={name}, shape=box, fillcolor={_quote(END_FILL)}, penwidth=2];")
        elif node < kg.num_drugs:
            lines.append(f"  n{node} [label={name}, shape=box, fillcolor={_quote(DRUG_FILL)}];")
        else:
            lines.append(f"  n{node} [label={name}, shape=ellipse, fillcolor={_quote(PROTEIN_FILL)}];")
    top = max(edges.values()) or 1.0
    for (a, b, verb), weight in edges.items():
        width = 1.0 + 2.5 * weight / top
        lines.append(f"  n{a} -> n{b} [label={_quote(verb)}, penwidth={width:.2f}];")
    lines.append("}")
    return "\n".join(lines)
