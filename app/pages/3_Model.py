"""Model page: which model is served, how it was trained, how it did on the test split."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from appkit import require_service

from ddi.serve.answer import model_summary

st.set_page_config(page_title="ddi — model", page_icon="💊", layout="wide")

#: Test figures shown as metrics, with their labels, in this order.
FIGURES = {
    "macro_f1": "Macro-F1",
    "accuracy": "Accuracy",
    "kappa": "Cohen's kappa",
    "roc_auc": "Exists ROC-AUC",
    "pr_auc": "Exists PR-AUC",
}


def main() -> None:
    service = require_service()
    summary = model_summary(service.predictor)
    st.title("The model")
    st.markdown(f"Serving `{summary.model_dir}` (ddi {summary.version or 'unknown version'}).")
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Parameters", f"{summary.parameters:,}")
    shared = summary.shared_value_levels
    c2.metric(
        "Checkpoint size",
        f"{summary.checkpoint_bytes / 1e6:.2f} MB",
        help=f"Kept weights share at most {shared} values per tensor, stored as a byte each." if shared else None,
    )
    c3.metric("Split", summary.split, help=f"Read from {summary.split_dir}" if summary.split_dir else None)
    if summary.sparsity is None:
        c4.metric("Sparsity", "dense", help="Not pruned: every parameter is stored.")
    else:
        target = "" if summary.target_sparsity is None else f", target {summary.target_sparsity:.0%}"
        c4.metric(
            "Sparsity",
            f"{summary.sparsity:.1%}",
            help=f"{summary.nonzero_parameters:,} non-zero parameters; pruned with {summary.pruning_method}{target}.",
        )
    st.caption(
        f"Graph: {summary.drugs:,} drugs, {summary.graph_nodes - summary.drugs:,} proteins, "
        f"{summary.graph_edges:,} edges. Best epoch {summary.best_epoch or '—'}, "
        f"trained in {summary.train_seconds or 0:.0f} s."
    )

    st.markdown("#### Test split")
    if summary.test:
        shown = [k for k in FIGURES if k in summary.test]
        cols = st.columns(max(len(shown), 1))
        for col, key in zip(cols, shown, strict=False):
            col.metric(FIGURES[key], f"{summary.test[key]:.3f}")
        if "n" in summary.test:
            st.caption(f"{int(summary.test['n']):,} test pairs; exists AUCs against as many unlisted pairs.")
        listed = summary.test_as_listed
        if {"macro_f1", "accuracy", "kappa"} <= set(listed):
            st.caption(
                "These figures are of the answers, which average both orders of a pair. Read only in the order each "
                "test row lists it, as published benchmarks score (DrugBank's order hints at the type): macro-F1 "
                f"{listed['macro_f1']:.3f}, accuracy {listed['accuracy']:.3f}, kappa {listed['kappa']:.3f}."
            )
        if summary.per_type_f1:
            f1 = pd.DataFrame({"type": list(summary.per_type_f1), "F1": list(summary.per_type_f1.values())})
            f1["type"] = f1["type"].astype(int)
            st.markdown("F1 per interaction type")
            st.bar_chart(f1, x="type", y="F1", sort=False)
    else:
        st.info("This model has no test figures (its `metrics.json` has no `test` section).")

    st.markdown("#### How it was trained")
    left, right = st.columns(2)
    left.markdown("**Architecture**")
    left.json(summary.run.get("model", {}))
    right.markdown("**Training**")
    right.json(summary.run.get("train", {}))
    rest = {k: v for k, v in summary.run.items() if k not in ("model", "train")}
    st.markdown("**Data**")
    st.json(rest)


main()
