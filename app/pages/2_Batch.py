"""Batch page: upload a table of drug pairs, score every row, download the scored table."""

from __future__ import annotations

import streamlit as st
from appkit import plain, require_service

from ddi.errors import UserInputError
from ddi.serve.batch import output_columns
from ddi.serve.uploads import MAX_UPLOAD_BYTES, UPLOAD_TYPES, read_upload, score_upload, unscored_drug_columns

st.set_page_config(page_title="ddi — batch scoring", page_icon="💊", layout="wide")


def main() -> None:
    service = require_service()
    st.title("Score a table of drug pairs")
    st.markdown(
        "Upload a CSV, TSV or Parquet file with two drug columns, named e.g. `drug1` and `drug2` "
        "(or `drug_a`/`drug_b`, `drug1_id`, `drug1_name`, `smiles1`, ...). A cell may hold a DrugBank id, a name, "
        "a synonym, an InChIKey, a SMILES or an InChI. Every row comes back, in order, with these columns added: "
        + ", ".join(f"`{c}`" for c in output_columns(3))
        + ". A row that cannot be scored says why in `error`."
    )
    top_k = st.number_input("Types listed per row", min_value=1, max_value=10, value=3)
    explain = st.checkbox("Add the explanation: relation paths and pharmacology rules (slower)", value=False)
    upload = st.file_uploader("Table of pairs", type=UPLOAD_TYPES, max_upload_size=MAX_UPLOAD_BYTES // (1024 * 1024))
    if upload is None:
        return
    try:
        table = read_upload(upload.name, upload.getvalue())
        if note := unscored_drug_columns(list(table.columns)):
            st.warning(f"**Not every drug is checked:** {plain(note)}.")
        bar = st.progress(0.0, text=f"Scoring {len(table):,} rows…")

        def show_progress(done: int, total: int) -> None:
            bar.progress(done / max(total, 1), text=f"Scored {done:,} of {total:,}")

        scored = score_upload(
            table, service.predictor, service.resolver, top_k=int(top_k), explain=explain, on_progress=show_progress
        )
    except UserInputError as exc:
        st.error(plain(exc))
        return
    bar.progress(1.0, text=f"Scored {scored.rows:,} rows in {scored.seconds:.1f} s")
    if scored.failed:
        st.warning(f"{scored.failed:,} of {scored.rows:,} rows could not be scored; their `error` column says why.")
        row = st.column_config.NumberColumn(help="1 = the first row under the header")
        st.dataframe(scored.failures(), hide_index=True, column_config={"row": row})
    else:
        st.success(f"All {scored.rows:,} rows scored.")
    st.dataframe(scored.preview(200), hide_index=True)
    stem = upload.name.rsplit(".", 1)[0]
    st.download_button(
        "Download the scored table (CSV)", scored.to_csv(), file_name=f"{stem}_scored.csv", mime="text/csv"
    )


main()
