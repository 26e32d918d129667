"""One question, one answer: "what happens if these two drugs are combined?", as the app shows it.

``answer_pair`` resolves the two texts (names, synonyms, ids, InChIKeys, SMILES or InChI), makes drugs outside
the model's graph scorable by their structure, and gathers everything the result page shows: the prediction,
whether DrugBank already lists the pair, why the answer may be less certain, the relation paths the model
weighed, the pharmacology rules that fire and the atoms that mattered. ``drug_choices`` feeds the drug pickers
and ``model_summary`` the model page.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import numpy as np

from ddi.chem.molecule import InvalidStructureError
from ddi.errors import UserInputError
from ddi.models.card import shared_value_levels
from ddi.models.neighbour_votes import look_alike_basis
from ddi.serve.atoms import AtomImportance, atom_importance
from ddi.serve.known import KnownInteraction, KnownPairs, known_interactions
from ddi.serve.resolve import AmbiguousDrugError, ResolvedDrug, UnknownDrugError

if TYPE_CHECKING:
    from ddi.models.config import ModelConfig
    from ddi.predict.predictor import PairPrediction, PathExplanation, Predictor
    from ddi.serve.resolve import DrugResolver

log = logging.getLogger(__name__)

#: Paths listed in an answer's explanation.
EXPLAIN_PATHS = 5
#: Below this interaction score the model expects no interaction: the exists head is trained against sampled
#: unlisted pairs, so 0.5 is its own decision point.
LIKELY_INTERACTION = 0.5
#: A drug whose closest look-alike is less similar than this has no real look-alike: votes through it say little.
WEAK_LOOK_ALIKE = 0.1
# The predictor's node states grow when a structure is registered; one answer at a time touches the model.
MODEL_LOCK = threading.RLock()
_SUGGESTION = re.compile(r"^(?P<name>.*) \((?P<id>DB\d{5})\)$")


class PairInputError(UserInputError):
    """One of the two drug texts cannot be used; says which, why, and what the user may have meant.

    Attributes
    ----------
    side: 1 or 2, the input at fault.
    suggestions: ``(label, text)`` pairs: what to show, and the text that resolves to that drug.
    """

    def __init__(self, side: int, message: str, suggestions: tuple[tuple[str, str], ...] = ()) -> None:
        super().__init__(f"Drug {side}: {message}")
        self.side = side
        self.suggestions = suggestions


def interaction_likely(score: float, listed: bool) -> bool:
    """Whether a pair interacts as far as ddi can tell: DrugBank lists it, or the model's interaction score
    reaches ``LIKELY_INTERACTION``. The pair page and the regimen draw the same line."""
    return listed or score >= LIKELY_INTERACTION


@dataclass(frozen=True, slots=True)
class FiredRule:
    """A pharmacology rule that fires for the pair (``ddi.kg.rules``), written out."""

    name: str
    text: str
    specific: bool


@dataclass
class PairAnswer:
    """Everything the app shows for one pair.

    Attributes
    ----------
    drug1, drug2: the two inputs as resolved.
    drug1_id, drug2_id: the ids the model scored (DrugBank id, or ``structure:<key>`` for a registered
        structure).
    prediction: the model's answer, with ``top`` types and explanation ``paths``.
    known: the interactions DrugBank lists for the unordered pair (empty: not listed).
    less_certain, less_certain_reason: set when a drug is outside the model's training graph.
    rules: the pharmacology rules that fire for the pair (both drugs must be graph drugs).
    rules_note: set when rules of opposite directions fire because a drug is listed as both inhibitor and inducer.
    atoms: atom importances of drug1 and drug2 (None for a drug without a structure).
    seconds: time taken.
    look_alike_basis: what the model's look-alikes are similar in ("structure, proteins and ATC class").
    paths_note: what the path list means for this model, or why it is empty (``paths_note`` of the predictor's
        model and the pair).
    look_alike_note: set when a drug has no close look-alike, so the look-alike evidence says little about it.
    """

    drug1: ResolvedDrug
    drug2: ResolvedDrug
    drug1_id: str
    drug2_id: str
    drug1_name: str
    drug2_name: str
    prediction: PairPrediction
    known: list[KnownInteraction] = field(default_factory=list)
    less_certain: bool = False
    less_certain_reason: str = ""
    rules: list[FiredRule] = field(default_factory=list)
    rules_note: str = ""
    atoms: tuple[AtomImportance | None, AtomImportance | None] = (None, None)
    seconds: float = 0.0
    look_alike_basis: str = ""
    paths_note: str = ""
    look_alike_note: str = ""

    @property
    def sentence(self) -> str:
        return self.prediction.sentence

    @property
    def probability(self) -> float:
        return self.prediction.probability

    @property
    def top(self) -> list[tuple[int, float, str]]:
        """``(type_id, probability, sentence)`` of the most probable types, best first."""
        return self.prediction.top

    @property
    def same_effect_note(self) -> str:
        """Where the model is split between DrugBank's two wordings of one effect, that effect and their sum
        (empty otherwise): the probability of the top type alone undersells how sure the model is."""
        same = self.prediction.same_effect
        if same is None:
            return ""
        first, other = same.type_ids
        return (
            f"Types {first} and {other} are DrugBank's two wordings of one effect, together {same.probability:.0%}: "
            f"{same.sentence}"
        )

    @property
    def exists(self) -> float:
        """The model's probability that the pair interacts at all."""
        return self.prediction.exists

    @property
    def paths(self) -> list[PathExplanation]:
        return self.prediction.paths

    @property
    def look_alikes(self) -> list[PathExplanation]:
        """Known interactions of look-alike drugs behind the model's neighbour votes (empty when it has none)."""
        return self.prediction.look_alikes

    @property
    def is_known(self) -> bool:
        return bool(self.known)

    @property
    def interaction_likely(self) -> bool:
        """``interaction_likely`` of this pair's score and listing."""
        return interaction_likely(self.exists, self.is_known)

    @property
    def verdict(self) -> str:
        """Whether the model expects an interaction at all, in words: the predicted type is what happens *if*
        the two interact, so a low interaction score has to come first."""
        if self.is_known:
            return f"DrugBank lists an interaction for this pair (the model's interaction score: {self.exists:.0%})."
        if self.interaction_likely:
            return f"The model expects an interaction (interaction score {self.exists:.0%})."
        return (
            f"The model finds an interaction unlikely (interaction score {self.exists:.0%}). "
            "If they do interact, the most probable type is the one below."
        )

    @property
    def agrees_with_known(self) -> bool:
        """Whether the predicted type is one DrugBank lists for the pair."""
        return any(k.type_id == self.prediction.type_id for k in self.known)


def answer_record(answer: PairAnswer, atoms: int = 5) -> dict[str, Any]:
    """The answer as plain JSON-ready data (``ddi ask --json``): the prediction, the evidence and the
    explanation, with the ``atoms`` most important atoms of each drug (indices into its canonical SMILES)."""

    def drug(resolved: ResolvedDrug, model_id: str, name: str, importance: AtomImportance | None) -> dict[str, Any]:
        return {
            "query": resolved.query,
            "read_as": resolved.kind,
            "drugbank_id": resolved.drugbank_id,
            "name": name,
            "scored_as": model_id,
            "in_model": resolved.in_model,
            "important_atoms": None
            if importance is None
            else {"smiles": importance.smiles, "atoms": importance.top_atoms(atoms)},
        }

    def evidence(items: list[PathExplanation]) -> list[dict[str, Any]]:
        return [{"text": e.text, "weight": round(float(e.weight), 4)} for e in items]

    return {
        "drug1": drug(answer.drug1, answer.drug1_id, answer.drug1_name, answer.atoms[0]),
        "drug2": drug(answer.drug2, answer.drug2_id, answer.drug2_name, answer.atoms[1]),
        "sentence": answer.sentence,
        "type": answer.prediction.type_id,
        "probability": round(answer.probability, 4),
        "interaction_score": round(answer.exists, 4),
        "interaction_likely": answer.interaction_likely,
        "verdict": answer.verdict,
        "top": [{"type": t, "probability": round(p, 4), "sentence": text} for t, p, text in answer.top],
        "same_effect": None
        if answer.prediction.same_effect is None
        else {
            "sentence": answer.prediction.same_effect.sentence,
            "probability": round(answer.prediction.same_effect.probability, 4),
            "types": list(answer.prediction.same_effect.type_ids),
        },
        "listed_by_drugbank": [{"type": k.type_id, "sentence": k.sentence} for k in answer.known],
        "less_certain": answer.less_certain_reason or None,
        "paths": evidence(answer.paths),
        "paths_note": answer.paths_note,
        "rules": [{"rule": r.name, "text": r.text, "specific": r.specific} for r in answer.rules],
        "rules_note": answer.rules_note or None,
        "look_alikes": evidence(answer.look_alikes),
        "look_alike_basis": answer.look_alike_basis,
        "look_alike_note": answer.look_alike_note or None,
        "seconds": round(answer.seconds, 3),
    }


# ------------------------------------------------------------------------------------------------ answering


def answer_pair(
    predictor: Predictor,
    resolver: DrugResolver,
    text1: str,
    text2: str,
    top_k: int = 5,
    explain: bool = True,
    max_paths: int = EXPLAIN_PATHS,
) -> PairAnswer:
    """Resolve, score and explain the pair (``text1``, ``text2``).

    Parameters
    ----------
    predictor
        A loaded ``Predictor``.
    resolver
        The ``DrugResolver`` of its data (``DrugResolver.for_predictor``).
    text1, text2
        What the user typed: a name, synonym, DrugBank id, InChIKey, SMILES or InChI.
    top_k
        Types listed in ``PairAnswer.top``.
    explain
        Gather the paths, rules and atom importances (the prediction alone is about half the time).
    max_paths
        Paths (and look-alike interactions) listed.

    Raises
    ------
    PairInputError
        If a text names no drug (with suggestions), several drugs (with the candidates), an unparsable
        structure, a drug the model cannot score, or both texts name the same drug.
    UserInputError
        If ``top_k`` or ``max_paths`` is not a whole number of at least 1.
    """
    from ddi.predict.predictor import count_option

    # Checked before the drugs are resolved: a bad option is the caller's, whatever the user typed.
    top_k, max_paths = count_option("top_k", top_k), count_option("max_paths", max_paths)
    start = time.perf_counter()
    drug1, drug2 = _resolve(resolver, text1, 1), _resolve(resolver, text2, 2)
    with MODEL_LOCK:
        id1, id2 = _model_id(predictor, drug1, 1), _model_id(predictor, drug2, 2)
        if id1 == id2:
            raise PairInputError(2, f"both inputs are the same drug ({predictor.names[id1]}); choose two drugs")
        top_k = min(top_k, predictor.ctx.labels.num_types)
        prediction = predictor.predict_pairs([(id1, id2)], top_k=top_k, explain=explain, max_paths=max_paths)[0]
        atoms: tuple[AtomImportance | None, AtomImportance | None] = (None, None)
        if explain:
            try:
                atoms = atom_importance(predictor, id1, id2, prediction.type_id)
            except Exception as exc:  # an explanation must never cost the user the answer
                log.warning("atom importance failed for %s, %s: %s", id1, id2, exc, exc_info=True)
    in_graph = (predictor.in_graph(id1), predictor.in_graph(id2))
    names = (predictor.names[id1], predictor.names[id2])
    reason = _less_certain_reason(predictor, (id1, id2), names, in_graph)
    rules, rules_note = pair_rules(predictor, id1, id2) if explain and all(in_graph) else ([], "")
    answer = PairAnswer(
        drug1,
        drug2,
        id1,
        id2,
        names[0],
        names[1],
        prediction,
        known=known_interactions(predictor, id1, id2) if all(in_graph) else [],
        less_certain=bool(reason),
        less_certain_reason=reason,
        rules=rules,
        rules_note=rules_note,
        atoms=atoms,
        look_alike_basis=_look_alike_basis(predictor, names, in_graph),
        paths_note=paths_note(predictor.model.config, bool(prediction.paths)),
        look_alike_note=weak_look_alike_note(predictor, (id1, id2)) if prediction.look_alikes else "",
    )
    answer.seconds = time.perf_counter() - start
    log.info("answered %s + %s in %.0f ms", id1, id2, 1000 * answer.seconds)
    return answer


def _resolve(resolver: DrugResolver, text: str, side: int) -> ResolvedDrug:
    if text is not None and not isinstance(text, str):  # the resolver would call a number an "empty drug name"
        raise PairInputError(side, f"a drug must be given as text (a name, id or structure), not {type(text).__name__}")
    try:
        return resolver.resolve(text)
    except UnknownDrugError as exc:
        raise PairInputError(side, str(exc), tuple(_suggestion(s) for s in exc.suggestions)) from exc
    except AmbiguousDrugError as exc:
        raise PairInputError(side, str(exc), tuple((f"{n} ({d})", d) for d, n in exc.candidates)) from exc
    except UserInputError as exc:
        raise PairInputError(side, str(exc)) from exc


def _suggestion(label: str) -> tuple[str, str]:
    """``"Simvastatin (DB00641)"`` -> (label, ``"DB00641"``): the id resolves to exactly that drug."""
    match = _SUGGESTION.match(label)
    return (label, match.group("id")) if match else (label, label)


def _model_id(predictor: Predictor, drug: ResolvedDrug, side: int) -> str:
    """The id the model scores ``drug`` under, registering its structure when it is not a model drug."""
    if drug.in_model and drug.drugbank_id in predictor.node_of:
        return str(drug.drugbank_id)
    if not drug.structure:
        label = f"{drug.name} ({drug.drugbank_id})" if drug.drugbank_id else drug.name
        raise PairInputError(
            side, f"{label} is not one of the model's drugs and has no known structure, so it cannot be scored"
        )
    try:
        return predictor.register_structure(drug.structure, name=drug.name)
    except InvalidStructureError as exc:
        raise PairInputError(side, str(exc)) from exc
    except ValueError as exc:  # e.g. a graph-only model, which has no molecule encoder
        raise PairInputError(side, f"{drug.name} cannot be scored by its structure with this model ({exc})") from exc


def _look_alike_basis(predictor: Predictor, names: tuple[str, str], in_graph: tuple[bool, bool]) -> str:
    """What the pair's look-alikes are similar in: a drug known only by its structure has no proteins or class in
    the model's data, so its look-alikes are compared by structure alone, whatever else the model can read."""
    basis = look_alike_basis(predictor.model.config.vote_annotations)
    for name, inside in zip(names, in_graph, strict=True):
        if not inside:
            basis += f"; {name}, known only by its structure, by structure alone"
    return basis


def _less_certain_reason(
    predictor: Predictor, ids: tuple[str, str], names: tuple[str, str], in_graph: tuple[bool, bool]
) -> str:
    reasons = []
    for drug_id, name, inside in zip(ids, names, in_graph, strict=True):
        if not inside:
            reasons.append(
                f"{name} is not in the model's knowledge graph: it is scored from its molecular structure alone"
            )
        elif not has_training_interactions(predictor, drug_id):
            reasons.append(f"{name} has no interactions in the model's training data")
    return "; ".join(reasons)


def weak_look_alike_note(predictor: Predictor, ids: tuple[str, str]) -> str:
    """Names each drug of the pair whose closest look-alike is under ``WEAK_LOOK_ALIKE``: the look-alike votes
    through such a drug stand in for an unknown, not for evidence (a structure unlike any drug of the graph)."""
    notes = []
    for drug_id in dict.fromkeys(ids):
        closest = predictor.closest_look_alike(drug_id)
        name = predictor.names[drug_id]
        if closest is None:
            notes.append(f"no drug of the model's graph looks like {name}, so the look-alike evidence is not about it")
        elif closest[1] < WEAK_LOOK_ALIKE:
            notes.append(
                f"no drug of the model's graph looks much like {name} (the closest, {closest[0]}, has similarity "
                f"{closest[1]:.2f}), so the look-alike evidence says little about it"
            )
    return "; ".join(notes)


def has_training_interactions(predictor: Predictor, drug_id: str) -> bool:
    """Whether the drug has at least one interaction edge in the model's training graph."""
    kg = predictor.ctx.kg
    node = predictor.node_of.get(drug_id)
    if node is None or node >= kg.num_drugs:
        return False
    _, relations = kg.adjacency.out_edges(node)
    wanted = kg.vocab.ids_in_groups(["interaction"])
    return bool(np.isin(np.asarray(relations), wanted).any())


def pair_rules(predictor: Predictor, drug1_id: str, drug2_id: str) -> tuple[list[FiredRule], str]:
    """The pharmacology rules that fire for the pair, in either direction (graph drugs only), and a note on why
    rules of opposite directions fire when they do because DrugBank lists a drug as both inhibitor and inducer of
    one protein (else "")."""
    from ddi.kg.rules import both_ways_actions, fired_rules

    kg = predictor.ctx.kg
    head = predictor.node_of[drug1_id]
    matches = fired_rules(kg, head, predictor.node_of[drug2_id])
    rules = [FiredRule(m.rule.name, m.describe(kg), m.rule.specific) for m in matches]
    proteins: dict[int, list[str]] = {}
    for drug, protein in sorted(both_ways_actions(kg, matches), key=lambda dp: (dp[0] != head, dp)):
        proteins.setdefault(drug, []).append(kg.node_names[protein])  # the pair's first drug first
    if not proteins:
        return rules, ""
    listed = " and ".join(f"of {kg.node_names[d]} on {', '.join(names)}" for d, names in proteins.items())
    return rules, (
        f"DrugBank lists both an inhibiting and an inducing action {listed}, so rules of both directions fire. "
        "Which action dominates depends on dose and time; DrugBank's listed interaction, where there is one, says "
        "which effect it reports."
    )


# ----------------------------------------------------------------------------------------- known pairs


def paths_note(config: ModelConfig, has_paths: bool) -> str:
    """One line on the explanation paths of a model with ``config``: why there are none, or how they are weighed.

    A model without a path block (path length 0, as the architecture search may pick) reads the graph only through
    its context layers and names no path; saying "no path joins the drugs" there would be false.
    """
    if config.path_length == 0:
        return (
            "This model has no relation-path block (path length 0): it reads the knowledge graph through its "
            "context layers and weighs no single path. The rules and look-alikes below still explain the answer."
        )
    if not has_paths:
        return "No knowledge-graph path joins these two drugs in the model's graph."
    if not (config.attention and config.aggregation == "attention"):
        return f"This model pools its paths by {config.aggregation} without attention: every path weighs the same."
    return "The weight is the model's attention on each path: its share in the pair's path summary."


def warm_up(predictor: Predictor) -> None:
    """Build what the first answer would otherwise build (rule features, the known-pair index)."""
    start = time.perf_counter()
    if predictor.model.num_rules:
        _ = predictor.ctx.rule_table
    if predictor.model.num_votes:
        _ = predictor.ctx.model_votes(predictor.model.config)
    predictor.derived(KnownPairs)
    log.info("warmed up in %.1f s", time.perf_counter() - start)


# ------------------------------------------------------------------------------------------------ pickers


def drug_choices(predictor: Predictor) -> dict[str, str]:
    """Labels for a drug picker -> the text that resolves to that drug (its DrugBank id).

    Every model drug appears under its name (``"Clarithromycin (DB01211)"``), then under each synonym that
    differs from it (``"Clarithromycina → Clarithromycin (DB01211)"``), so typing either finds it.
    """
    drugs = predictor.ctx.tables.drugs
    names: dict[str, str] = {}
    synonyms: dict[str, str] = {}
    for drug_id, name, cell in sorted(
        zip(drugs["drugbank_id"], drugs["name"], drugs["synonyms"], strict=True), key=lambda r: str(r[1]).lower()
    ):
        label = f"{name} ({drug_id})" if name else str(drug_id)
        names[label] = drug_id
        seen = {str(name).casefold()}
        for synonym in str(cell or "").split("|"):
            synonym = synonym.strip()
            if synonym and synonym.casefold() not in seen:
                seen.add(synonym.casefold())
                synonyms[f"{synonym} → {label}"] = drug_id
    return {**names, **dict(sorted(synonyms.items(), key=lambda kv: kv[0].lower()))}


def picker_label(choices: dict[str, str], text: str) -> str | None:
    """The picker label of the drug whose DrugBank id is ``text`` (its name label, listed before synonyms), or
    None when ``text`` is not the id of a picker drug."""
    drug_id = text.strip().upper()
    return next((label for label, value in choices.items() if value == drug_id), None)


# -------------------------------------------------------------------------------------------------- links

#: The query parameters of a link to a pair's answer: ``?drug1=DB01211&drug2=DB00641``.
LINK_PARAMETERS = ("drug1", "drug2")


def link_parameters(answer: PairAnswer) -> dict[str, str]:
    """The query parameters of a link that reopens this answer: each drug's DrugBank id, or its structure (or
    text as given) when it matches no DrugBank drug. Opened later, the link scores the same two drugs."""
    texts = (drug.drugbank_id or drug.structure or drug.query.strip() for drug in (answer.drug1, answer.drug2))
    return dict(zip(LINK_PARAMETERS, texts, strict=True))


def pair_link(drug1: str, drug2: str) -> str:
    """The app's relative link to the answer for two drug texts (``./?drug1=DB01211&drug2=DB00641``), for a
    page that lists pairs."""
    return "./?" + urlencode(dict(zip(LINK_PARAMETERS, (drug1, drug2), strict=True)))


def drugs_from_link(parameters: Any) -> tuple[str, str]:
    """The two drug texts a link carries (``""`` for one it lacks); ``parameters`` maps names to values, as
    Streamlit's ``st.query_params`` does. The resolver judges the texts, as it judges typed ones."""
    texts = []
    for name in LINK_PARAMETERS:
        value = parameters.get(name)
        texts.append(value.strip() if isinstance(value, str) else "")
    return texts[0], texts[1]


# ------------------------------------------------------------------------------------------------- model


@dataclass
class ModelSummary:
    """What the model page shows: which model, how it was trained, how it did on the test split.

    ``split`` is ``S0``/``S1``/``S2`` (the benchmark settings) or ``custom`` for a split read from ``split_dir``.
    ``sparsity`` (the fraction of parameters that are exactly zero) is set only for a pruned model (its
    metrics record a pruning method, or a sparsity).
    """

    model_dir: Path
    split: str
    split_dir: str | None
    run: dict[str, Any]
    test: dict[str, float]
    #: the test figures with each pair read only in its listed order (the published protocol), where recorded
    test_as_listed: dict[str, float]
    per_type_f1: dict[str, float]
    parameters: int
    nonzero_parameters: int
    checkpoint_bytes: int
    #: at most this many distinct kept values per sparse tensor (``ddi adjust-prior --shared-values``), or None
    shared_value_levels: int | None
    sparsity: float | None
    pruning_method: str
    target_sparsity: float | None
    best_epoch: int | None
    train_seconds: float | None
    version: str | None
    drugs: int
    graph_nodes: int
    graph_edges: int


def model_summary(predictor: Predictor) -> ModelSummary:
    """Summarise a loaded predictor for display (no computation beyond counting)."""
    metrics = predictor.metrics or {}
    test = metrics.get("test") or {}
    scalars = {k: float(v) for k, v in test.items() if isinstance(v, (int, float)) and k not in ("seconds",)}
    listed = test.get("as_listed")
    listed = listed if isinstance(listed, dict) else {}
    raw_pruning = metrics.get("pruning")
    pruning = raw_pruning if isinstance(raw_pruning, dict) else {}
    method = str(pruning.get("method", "none"))
    target = pruning.get("target_sparsity")
    params = [p.detach() for p in predictor.model.parameters()]
    total = int(sum(p.numel() for p in params))
    nonzero = int(sum(int((p != 0).sum()) for p in params))
    pruned = method != "none" or isinstance(metrics.get("sparsity"), (int, float))
    root = Path(predictor.model_dir)
    size = sum(p.stat().st_size for p in root.iterdir() if p.is_file()) if root.is_dir() else 0
    kg = predictor.ctx.kg
    return ModelSummary(
        model_dir=root,
        split="custom" if predictor.run.split_dir else str(predictor.run.split).upper(),
        split_dir=predictor.run.split_dir,
        run=predictor.run.to_dict(),
        test=scalars,
        test_as_listed={k: float(v) for k, v in listed.items() if isinstance(v, (int, float)) and k != "n"},
        per_type_f1={str(k): float(v) for k, v in (test.get("per_type_f1") or {}).items()},
        parameters=total,
        nonzero_parameters=nonzero,
        checkpoint_bytes=size,
        shared_value_levels=shared_value_levels(metrics),
        sparsity=1.0 - nonzero / total if pruned and total else None,
        pruning_method=method,
        target_sparsity=float(target) if isinstance(target, (int, float)) else None,
        best_epoch=metrics.get("best_epoch"),
        train_seconds=metrics.get("train_seconds"),
        version=metrics.get("ddi_version"),
        drugs=kg.num_drugs,
        graph_nodes=kg.num_nodes,
        graph_edges=int(kg.num_forward_edges),
    )
