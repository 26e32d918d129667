"""ddi web app (Streamlit): pick two drugs, read what the model predicts and why.

A thin shell over the ``ddi`` library: ``ddi.serve.answer.answer_pair`` does the work, ``ddi.serve.drawing``
draws; this page only lays the answer out. Run with ``make app`` or ``streamlit run app/main.py``; the model
comes from ``DDI_MODEL_DIR`` (default ``models/default``).
"""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st
from appkit import Service, plain, require_service

from ddi import __version__
from ddi.errors import UserInputError
from ddi.serve.answer import (
    PairAnswer,
    PairInputError,
    answer_pair,
    answer_record,
    drugs_from_link,
    link_parameters,
    picker_label,
)
from ddi.serve.drawing import molecule_svg, paths_dot

NOT_NEGATIVE = (
    "DrugBank lists only interactions someone has reported. A pair it does not list is **not** a confirmed "
    "safe combination: the model's answer for such a pair is a hypothesis, not evidence."
)

st.set_page_config(page_title="ddi — drug-drug interactions", page_icon="💊", layout="wide")


def drug_picker(side: int, service: Service) -> str:
    """One drug input: a picker that searches names and synonyms as you type, and a free-text field."""
    choice = st.selectbox(
        f"Drug {side}",
        options=list(service.choices),
        index=None,
        key=f"pick{side}",
        placeholder="Type a name or synonym…",
        accept_new_options=True,
        filter_mode="contains",
        help="Search the model's drugs by name or synonym; any other text is looked up as typed.",
    )
    free = st.text_input(
        "…or a SMILES, InChI, DrugBank id or other name",
        key=f"free{side}",
        placeholder="e.g. CC(=O)Oc1ccccc1C(=O)O",
    )
    if free and free.strip():
        if choice:
            st.caption("Using the text field (clear it to use the picker).")
        return free.strip()
    return service.choices.get(choice, choice) if choice else ""


def open_link(service: Service) -> None:
    """Fill the inputs from a shared link (``?drug1=DB01211&drug2=DB00641``), once per browser session: a
    model drug goes into its picker, anything else (a structure) into the text field."""
    if st.session_state.get("link_opened"):
        return
    st.session_state["link_opened"] = True
    for side, text in enumerate(drugs_from_link(st.query_params), start=1):
        label = picker_label(service.choices, text) if text else None
        if label:
            st.session_state[f"pick{side}"] = label
        elif text:
            st.session_state[f"free{side}"] = text


def use_suggestion(side: int, label: str, text: str, choices: dict[str, str]) -> None:
    """Callback of a suggestion button: put the suggested drug into the input of ``side``."""
    if label in choices:
        st.session_state[f"pick{side}"] = label
        st.session_state[f"free{side}"] = ""
    else:
        st.session_state[f"free{side}"] = text


def show_input_error(exc: PairInputError, service: Service) -> None:
    st.error(plain(exc))
    if exc.suggestions:
        st.markdown("Did you mean:")
        cols = st.columns(min(len(exc.suggestions), 5))
        for i, (label, text) in enumerate(exc.suggestions[:5]):
            cols[i].button(
                plain(label),
                key=f"suggest{exc.side}_{i}",
                on_click=use_suggestion,
                args=(exc.side, label, text, service.choices),
            )


def show_answer(answer: PairAnswer, service: Service) -> None:
    st.divider()
    if not answer.interaction_likely:
        st.subheader("An interaction is unlikely")
        st.markdown(f"{plain(answer.verdict)}\n\n**{plain(answer.sentence)}**")  # the verdict ends "...the one below."
    else:
        st.subheader(plain(answer.sentence))
    c1, c2, c3 = st.columns(3)
    c1.metric("Probability of this type", f"{answer.probability:.0%}", help="Among the 86 types; they sum to 1.")
    c2.metric("Interaction score", f"{answer.exists:.0%}", help="The model's probability that the pair interacts.")
    c3.metric("Answered in", f"{1000 * answer.seconds:.0f} ms")
    if answer.same_effect_note:
        st.caption(plain(answer.same_effect_note))
    if answer.known:
        listed = "\n".join(f"- {plain(k.sentence)} (type {k.type_id})" for k in answer.known)
        verdict = (
            "The prediction agrees."
            if answer.agrees_with_known
            else "The model predicts another type; DrugBank's listing takes precedence."
        )
        st.info(f"**DrugBank already lists this pair:**\n{listed}\n\n{verdict}")
    else:
        st.caption(f"DrugBank does not list this pair. {NOT_NEGATIVE}")
    if answer.less_certain:
        st.warning(f"**Less certain:** {plain(answer.less_certain_reason)}.")

    st.markdown("#### Most probable interaction types")
    top = pd.DataFrame(
        {
            "type": [f"type {t}" for t, _, _ in answer.top],
            "probability": [p for _, p, _ in answer.top],
            "sentence": [s for _, _, s in answer.top],
        }
    )
    st.bar_chart(top, x="type", y="probability", horizontal=True, sort="-probability", height=60 + 32 * len(top))
    st.dataframe(
        top[["type", "sentence", "probability"]],
        hide_index=True,
        column_config={"probability": st.column_config.ProgressColumn(format="%.3f", min_value=0.0, max_value=1.0)},
    )

    st.markdown("#### Why: the explanation")
    # Full width, one after the other: a path is a long line of relations, unreadable in half a page.
    st.markdown("**Relation paths the model weighed most**")
    if answer.paths:
        st.graphviz_chart(paths_dot(service.predictor.ctx.kg, answer.paths))
        weights = [p.weight for p in answer.paths]
        paths = pd.DataFrame({"path": [p.text for p in answer.paths], "weight": weights})
        weight_bar = st.column_config.ProgressColumn(
            format="%.3f", min_value=0.0, max_value=max(weights), help=answer.paths_note, width="small"
        )
        st.dataframe(paths, hide_index=True, column_config={"weight": weight_bar})
    st.caption(answer.paths_note)
    st.markdown("**Pharmacology rules that fire**")
    if answer.rules:
        st.markdown("\n".join(f"- {plain(r.text)}" for r in answer.rules))
        if answer.rules_note:
            st.caption(answer.rules_note)
    else:
        st.caption("No rule over shared enzymes, transporters, carriers or targets fires for this pair.")

    if answer.look_alikes:
        st.markdown(f"**Known interactions of look-alike drugs** (similar {plain(answer.look_alike_basis)})")
        votes = pd.DataFrame(
            {"evidence": [e.text for e in answer.look_alikes], "share": [e.weight for e in answer.look_alikes]}
        )
        share_bar = st.column_config.ProgressColumn(
            format="%.2f", min_value=0.0, max_value=1.0, help="Share of the listed look-alike votes"
        )
        st.dataframe(votes, hide_index=True, column_config={"share": share_bar})
        if answer.look_alike_note:
            st.caption(f"Note: {plain(answer.look_alike_note)}.")

    st.markdown("#### Atoms that weighed most")
    cols = st.columns(2)
    for col, atoms, name in zip(cols, answer.atoms, (answer.drug1_name, answer.drug2_name), strict=True):
        with col:
            if atoms is None:
                st.caption(f"{plain(name)}: no structure to draw.")
                continue
            svg = molecule_svg(atoms.smiles, atoms.scores, legend=name)
            if svg:
                st.image(svg, caption=f"{name}: darker = more important for the predicted type")
    st.caption(
        "Atom importance is gradient × input of the predicted type's score with respect to each atom's features. "
        + NOT_NEGATIVE
    )
    st.download_button(
        "Download this answer (JSON)",
        json.dumps(answer_record(answer), indent=2),
        file_name=f"ddi-{answer.drug1_id}-{answer.drug2_id}.json".replace(":", "_"),
        mime="application/json",
        help="The prediction, its evidence and its explanation, as `ddi ask --json` prints them.",
    )
    st.caption("To share this answer, copy the address bar: it links to this pair.")


def main() -> None:
    service = require_service()
    st.title("Drug-drug interaction checker")
    st.caption(
        f"ddi {__version__} · model `{service.predictor.model_dir}` · pick two drugs to see the interaction the "
        "model predicts and why."
    )
    top_k = st.sidebar.slider("Interaction types shown", min_value=3, max_value=10, value=5)
    open_link(service)
    col1, col2 = st.columns(2)
    with col1:
        text1 = drug_picker(1, service)
    with col2:
        text2 = drug_picker(2, service)
    if not (text1 and text2):
        st.query_params.clear()
        st.info("Choose two drugs: type part of a name or synonym, or paste a structure.")
        return
    try:
        with st.spinner("Scoring the pair…"):
            answer = answer_pair(service.predictor, service.resolver, text1, text2, top_k=top_k)
    except PairInputError as exc:
        show_input_error(exc, service)
        return
    except UserInputError as exc:
        st.error(plain(exc))
        return
    st.query_params.from_dict(link_parameters(answer))
    show_answer(answer, service)


main()
