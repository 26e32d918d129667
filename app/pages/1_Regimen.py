"""Regimen page: every pair among the drugs one patient takes, ranked, with a download of the whole table."""

from __future__ import annotations

import streamlit as st
from appkit import Service, plain, require_service

from ddi.errors import UserInputError
from ddi.serve.answer import LIKELY_INTERACTION, pair_link, picker_label
from ddi.serve.regimen import (
    MAX_REGIMEN_DRUGS,
    REGIMEN_LINK_PARAMETER,
    check_regimen,
    check_regimens,
    drugs_from_regimen_link,
    find_regimen_columns,
    regimen_link_parameters,
)
from ddi.serve.uploads import MAX_UPLOAD_BYTES, UPLOAD_TYPES, read_upload

st.set_page_config(page_title="ddi — regimen check", page_icon="💊", layout="wide")

#: The table's columns, renamed for reading, in this order.
SHOWN = {
    "drug1_name": "drug 1",
    "drug2_name": "drug 2",
    "sentence": "predicted interaction",
    "probability": "probability of the type",
    "exists_score": "interaction score",
    "known_sentence": "DrugBank lists",
}


def open_link(service: Service) -> None:
    """Fill the picker from a shared link (``?drug=DB00682&drug=DB00945``), once per browser session."""
    if st.session_state.get("regimen_link_opened"):
        return
    st.session_state["regimen_link_opened"] = True
    texts = drugs_from_regimen_link(st.query_params)
    if texts:
        st.session_state["regimen"] = [picker_label(service.choices, t) or t for t in texts]
    given = len(st.query_params.get_all(REGIMEN_LINK_PARAMETER))
    if given > len(texts) == MAX_REGIMEN_DRUGS:  # not silently: the drugs past the limit are not checked
        st.warning(
            f"The link lists {given} drugs; only the first {MAX_REGIMEN_DRUGS}, the most a regimen may have, "
            "are checked."
        )


def main() -> None:
    service = require_service()
    open_link(service)
    st.title("Check a regimen")
    st.markdown(
        f"Pick the drugs one patient takes (up to {MAX_REGIMEN_DRUGS}); every pair among them is scored. The "
        "pairs DrugBank lists come first, then the others by the model's interaction score. Type a SMILES or "
        "any other name and press Enter to add a drug outside the list."
    )
    chosen = st.multiselect(
        "Drugs",
        options=list(service.choices),
        key="regimen",
        placeholder="Type a name or synonym…",
        accept_new_options=True,
        max_selections=MAX_REGIMEN_DRUGS,
        # As in the pair picker: "aspirin" + Enter adds Aspirin, not every label that fuzzily matches it (the
        # default "Select N matches" option would add dozens of drugs at once).
        filter_mode="contains",
        select_all=False,
    )
    upload = st.file_uploader(
        "…or a medication list: one drug per row, with a column saying whose regimen (patient, visit)",
        type=UPLOAD_TYPES,
        max_upload_size=MAX_UPLOAD_BYTES // (1024 * 1024),
    )
    if upload is not None:
        check_medication_list(upload.name, upload.getvalue(), service)
        return
    if len(chosen) < 2:
        st.query_params.clear()
        st.info("Choose at least two drugs, or upload a medication list.")
        return
    drugs = [service.choices.get(c, c) for c in chosen]
    st.query_params.from_dict(regimen_link_parameters(drugs))
    try:
        with st.spinner("Scoring every pair…"):
            check = check_regimen(service.predictor, service.resolver, drugs)
    except UserInputError as exc:
        st.error(plain(exc))
        return
    for text, note in check.notes.items():
        st.warning(f"**{plain(text)}**: {plain(note)}.")
    pairs = check.pairs
    scored = pairs[~pairs["error"].astype(bool)]
    listed = int((scored["known_type"].astype(str) != "").sum())
    st.subheader(f"{len(scored)} pair(s): {listed} listed by DrugBank, {len(scored) - listed} predicted")
    percent = st.column_config.ProgressColumn(format="%.2f", min_value=0.0, max_value=1.0)
    shown = scored[list(SHOWN)].rename(columns=SHOWN)
    shown["why"] = [pair_link(a, b) for a, b in zip(scored["drug1"], scored["drug2"], strict=True)]
    st.dataframe(
        shown,
        hide_index=True,
        column_config={
            SHOWN["probability"]: percent,
            SHOWN["exists_score"]: percent,
            "why": st.column_config.LinkColumn(display_text="explain", help="The pair's answer and its explanation"),
        },
    )
    st.caption(
        f"The interaction score is the model's probability that the pair interacts: under {LIKELY_INTERACTION:.0%} "
        "it finds an interaction unlikely, and the sentence says what would happen if they do. DrugBank lists only "
        "reported interactions: an unlisted pair is **not** a confirmed safe combination. *explain* opens a pair's "
        "answer with its relation paths and rules; the address bar links to this regimen."
    )
    st.download_button(
        "Download every pair (CSV)",
        pairs.to_csv(index=False).encode("utf-8"),
        file_name="regimen.csv",
        mime="text/csv",
        help="All the columns of the batch command, including the pairs that could not be scored.",
    )


def check_medication_list(name: str, data: bytes, service: Service) -> None:
    """Every regimen of an uploaded medication list, shown and offered for download."""
    try:
        table = read_upload(name, data, pairs=False)
        drug_column, group_column = find_regimen_columns(list(table.columns), interface="app")
        with st.spinner(f"Checking {len(table):,} rows…"):
            rows = check_regimens(service.predictor, service.resolver, table, drug_column, group_column)
    except UserInputError as exc:
        st.error(plain(exc))
        return
    is_pair = rows["drug2"] != ""
    regimens = rows[group_column].nunique() if group_column is not None else 1
    st.subheader(f"{regimens:,} regimen(s), {int(is_pair.sum()):,} pairs, {int((~is_pair).sum()):,} note(s)")
    st.dataframe(rows.head(500), hide_index=True)
    stem = name.rsplit(".", 1)[0]
    st.download_button(
        "Download every pair (CSV)", rows.to_csv(index=False).encode("utf-8"), file_name=f"{stem}_pairs.csv"
    )


main()
