"""ddi web app (Streamlit). A thin shell over the ``ddi`` library: it parses input, calls one library function
and formats the answer. Run with ``make app`` or ``streamlit run app/main.py``."""

import streamlit as st

from ddi import __version__

st.set_page_config(page_title="ddi — drug-drug interactions", layout="wide")
st.title("ddi — drug-drug interaction prediction")
st.caption(f"version {__version__}")
st.info(
    "The interaction predictor is being trained. Until a default model is available under `models/`, "
    "use the command line: `ddi data stats`, `ddi paths DRUG1 DRUG2`."
)
