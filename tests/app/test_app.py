"""The Streamlit app, driven in-process with ``AppTest``: what a user sees on each page."""

from __future__ import annotations

import json
import shutil

import pytest
import torch
from app_testing import app, assert_no_exception, texts


def test_main_page_answers_a_pair_with_its_explanation(served_model):
    at = app().run()
    assert_no_exception(at)
    assert any("Choose two drugs" in t for t in texts(at.info))
    at.selectbox(key="pick1").select("Clarithromycin (DB01211)")
    # The picker also lists synonyms, so typing one finds the drug.
    at.selectbox(key="pick2").select("Simvastatine → Simvastatin (DB00641)")
    at.run()
    assert_no_exception(at)
    assert not at.error
    [sentence] = texts(at.subheader)
    assert "Clarithromycin" in sentence and "Simvastatin" in sentence
    # DrugBank lists this pair (type 73), with its sentence in DrugBank's orientation.
    known = " ".join(texts(at.info))
    assert "DrugBank already lists this pair" in known
    assert "The serum concentration of Simvastatin can be increased when it is combined with Clarithromycin." in known
    assert at.get("graphviz_chart"), "the explanation paths are drawn"
    markdown = " ".join(texts(at.markdown))
    assert "Pharmacology rules that fire" in markdown
    assert "CYP3A4" in markdown, "the CYP3A4 inhibition rule is listed"
    images = at.get("image")
    assert len(images) == 2, "both molecules are drawn"
    assert any("not** a confirmed" in c for c in texts(at.caption))
    labels = [m.label for m in at.metric]
    assert "Probability of this type" in labels
    [download] = at.get("download_button")
    assert download.proto.label == "Download this answer (JSON)"


def test_a_shared_link_opens_the_pair_and_the_address_follows_the_inputs(served_model):
    at = app()
    at.query_params["drug1"] = "db01211"  # an id goes into the picker
    at.query_params["drug2"] = "Simvastatine"  # other text into the text field
    at.run()
    assert_no_exception(at)
    assert at.selectbox(key="pick1").value == "Clarithromycin (DB01211)"
    assert at.text_input(key="free2").value == "Simvastatine"
    [sentence] = texts(at.subheader)
    assert "Clarithromycin" in sentence and "Simvastatin" in sentence
    assert at.query_params == {"drug1": "DB01211", "drug2": "DB00641"}
    at.text_input(key="free2").input("").run()
    assert not at.subheader
    assert at.query_params == {}, "no pair, no link"


def test_unknown_drug_shows_the_error_and_suggestions_that_fix_it(served_model):
    at = app().run()
    at.selectbox(key="pick1").select("Clarithromycin (DB01211)")
    at.text_input(key="free2").input("simvastatinn")
    at.run()
    assert_no_exception(at)
    [error] = texts(at.error)
    assert error.startswith("Drug 2: unknown drug 'simvastatinn'; did you mean Simvastatin (DB00641)")
    assert not at.subheader, "no answer is shown for bad input"
    buttons = [b for b in at.button if b.label == "Simvastatin (DB00641)"]
    assert buttons, [b.label for b in at.button]
    buttons[0].click().run()
    assert_no_exception(at)
    assert not at.error
    assert at.selectbox(key="pick2").value == "Simvastatin (DB00641)"
    assert "Simvastatin" in texts(at.subheader)[0]


def test_invalid_structure_and_same_drug_are_clear_errors(served_model):
    at = app().run()
    at.selectbox(key="pick1").select("Warfarin (DB00682)")
    at.text_input(key="free2").input("C1CC(").run()
    assert_no_exception(at)
    assert texts(at.error) == ["Drug 2: invalid SMILES: syntax error in 'C1CC('"]
    at.text_input(key="free2").input("DB00682").run()
    assert_no_exception(at)
    assert texts(at.error) == ["Drug 2: both inputs are the same drug (Warfarin); choose two drugs"]


def test_a_structure_outside_the_graph_is_scored_and_marked_less_certain(served_model):
    at = app().run()
    at.selectbox(key="pick1").select("Warfarin (DB00682)")
    at.text_input(key="free2").input("CC(C)(C)c1ccc(O)cc1").run()  # 4-tert-butylphenol: not a model drug
    assert_no_exception(at)
    assert not at.error
    assert "Warfarin" in texts(at.subheader)[0]
    [warning] = texts(at.warning)
    assert "Less certain" in warning and "not in the model's knowledge graph" in warning
    assert any("DrugBank does not list this pair" in c for c in texts(at.caption))


def test_an_unlikely_interaction_is_said_before_the_type(served_model, monkeypatch):
    import ddi.serve.answer

    # Every score of the tiny model is "unlikely" under a threshold above 1.
    monkeypatch.setattr(ddi.serve.answer, "LIKELY_INTERACTION", 1.01)
    at = app().run()
    at.selectbox(key="pick1").select("Warfarin (DB00682)")
    at.text_input(key="free2").input("CC(C)(C)c1ccc(O)cc1").run()
    assert_no_exception(at)
    assert texts(at.subheader) == ["An interaction is unlikely"]
    verdict = next(t for t in texts(at.markdown) if "If they do interact" in t)
    assert verdict.startswith("The model finds an interaction unlikely (interaction score ")
    assert verdict.count("If they do interact") == 1, "said once, not twice"
    assert "the most probable type is the one below.\n\n**" in verdict and "Warfarin" in verdict


def test_regimen_page_ranks_every_pair_and_names_a_drug_it_cannot_use(served_model):
    at = app().run()
    at.switch_page("pages/1_Regimen.py").run()
    assert_no_exception(at)
    assert texts(at.info) == ["Choose at least two drugs, or upload a medication list."]
    # "aspirin" + Enter adds Aspirin: no fuzzy matching, no "Select N matches" that would add dozens of drugs.
    picker = at.multiselect(key="regimen").proto
    assert picker.select_all == 0
    assert picker.DESCRIPTOR.fields_by_name["filter_mode"].enum_type.values_by_number[picker.filter_mode].name == (
        "FILTER_MODE_CONTAINS"
    )
    at.multiselect(key="regimen").select("Clarithromycin (DB01211)").select("Simvastatin (DB00641)")
    at.multiselect(key="regimen").select("Warfarin (DB00682)").select("xyzzy")
    at.run()
    assert_no_exception(at)
    [warning] = texts(at.warning)
    assert warning.startswith("**xyzzy**: unknown drug 'xyzzy'")
    [heading] = texts(at.subheader)
    assert heading.startswith("3 pair(s): ")
    table = at.dataframe[0].value
    assert len(table) == 3, "the pairs with the unusable drug are not shown, only downloaded"
    assert "Clarithromycin" in " ".join(table["predicted interaction"])
    [download] = at.get("download_button")
    assert download.proto.label == "Download every pair (CSV)"


def test_a_regimen_link_opens_the_check_and_each_pair_links_to_its_answer(served_model):
    at = app()
    at.query_params["drug"] = ["db00682", "aspirin", "Omeprazole 20 mg"]
    at.switch_page("pages/1_Regimen.py").run()
    assert_no_exception(at)
    assert at.multiselect(key="regimen").value == ["Warfarin (DB00682)", "aspirin", "Omeprazole 20 mg"]
    [heading] = texts(at.subheader)
    assert heading.startswith("3 pair(s): ")
    table = at.dataframe[0].value
    assert table["why"].tolist()[0].startswith("./?drug1=")
    assert set(table["why"]) == {
        "./?drug1=DB00682&drug2=aspirin",
        "./?drug1=DB00682&drug2=Omeprazole+20+mg",
        "./?drug1=aspirin&drug2=Omeprazole+20+mg",
    }
    assert at.query_params == {"drug": ["DB00682", "aspirin", "Omeprazole 20 mg"]}


def test_regimen_page_checks_an_uploaded_medication_list(served_model):
    at = app().run()
    at.switch_page("pages/1_Regimen.py").run()
    meds = (
        b"patient,medication\np1,Simvastatin 40mg tablet\np1,Clarithromycin\np2,warfarin sodium\np2,aspirin\np3,xyzzy\n"
    )
    at.get("file_uploader")[0].set_value(("meds.csv", meds, "text/csv"))
    at.run()
    assert_no_exception(at)
    assert not at.error
    [heading] = texts(at.subheader)
    assert heading == "3 regimen(s), 2 pairs, 1 note(s)"
    table = at.dataframe[0].value
    assert table["patient"].tolist() == ["p1", "p2", "p3"]
    assert table["note"].iloc[2] == "a regimen needs at least two different drugs; got 1 ('xyzzy')"
    assert at.get("download_button")[0].proto.label == "Download every pair (CSV)"


def test_batch_page_scores_an_upload_and_offers_the_download(served_model):
    at = app().run()
    at.switch_page("pages/2_Batch.py").run()
    assert_no_exception(at)
    csv = b"drug1,drug2\nclarithromycin,simvastatin\nwarfarin,DB00945\nsimvastatinn,warfarin\n"
    at.get("file_uploader")[0].set_value(("pairs.csv", csv, "text/csv"))
    at.run()
    assert_no_exception(at)
    assert texts(at.warning) == ["1 of 3 rows could not be scored; their `error` column says why."]
    # The reasons next to the warning: `error` is the last column of a wide table, off screen.
    failures = at.dataframe[0].value
    assert failures["row"].tolist() == [3]
    assert failures["error"].iloc[0].startswith("drug1: unknown drug 'simvastatinn'")
    table = at.dataframe[1].value
    assert list(table["drug1"]) == ["clarithromycin", "warfarin", "simvastatinn"]
    assert table["sentence"].iloc[0].endswith("Clarithromycin.") or "Clarithromycin" in table["sentence"].iloc[0]
    assert table["error"].iloc[2].startswith("drug1: unknown drug 'simvastatinn'")
    assert at.get("download_button")[0].proto.label == "Download the scored table (CSV)"


def test_batch_page_rejects_a_table_without_drug_columns(served_model):
    at = app().run()
    at.switch_page("pages/2_Batch.py").run()
    at.get("file_uploader")[0].set_value(("pairs.csv", b"a,b\n1,2\n", "text/csv"))
    at.run()
    assert_no_exception(at)
    [error] = texts(at.error)
    assert "no drug columns found" in error
    assert not at.get("download_button")


def test_model_page_shows_the_model_and_its_test_figures(served_model):
    at = app().run()
    at.switch_page("pages/3_Model.py").run()
    assert_no_exception(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Split"] == "custom", "the tiny model is trained on a sampled split directory"
    assert int(metrics["Parameters"].replace(",", "")) > 1000
    assert metrics["Checkpoint size"].endswith("MB")
    assert metrics["Sparsity"] == "dense"
    assert {"Macro-F1", "Accuracy", "Cohen's kappa"} <= set(metrics)
    assert str(served_model) in " ".join(texts(at.markdown))
    assert any("200 test pairs" in c for c in texts(at.caption))
    listed = json.loads((served_model / "metrics.json").read_text())["test"]["as_listed"]
    assert any(
        "Read only in the order each test row lists it" in c and f"macro-F1 {listed['macro_f1']:.3f}" in c
        for c in texts(at.caption)
    )


def test_model_page_shows_the_sparsity_of_a_pruned_model(tiny_model_dir, tmp_path, monkeypatch):
    pruned = tmp_path / "pruned"
    shutil.copytree(tiny_model_dir, pruned)
    state = torch.load(pruned / "model.pt", weights_only=True)
    state = {k: v * (torch.rand_like(v) < 0.5) if v.is_floating_point() else v for k, v in state.items()}
    torch.save(state, pruned / "model.pt")
    metrics = json.loads((pruned / "metrics.json").read_text())
    metrics["pruning"] = {"method": "gmp", "target_sparsity": 0.5}
    (pruned / "metrics.json").write_text(json.dumps(metrics))
    monkeypatch.setenv("DDI_MODEL_DIR", str(pruned))
    monkeypatch.setenv("DDI_TORCH_THREADS", str(torch.get_num_threads()))
    at = app().run()
    at.switch_page("pages/3_Model.py").run()
    assert_no_exception(at)
    [sparsity] = [m for m in at.metric if m.label == "Sparsity"]
    assert 0.4 < float(sparsity.value.rstrip("%")) / 100 < 0.6
    assert "pruned with gmp, target 50%" in sparsity.help


@pytest.mark.parametrize("page", ["main.py", "pages/1_Regimen.py", "pages/2_Batch.py", "pages/3_Model.py"])
def test_every_page_says_how_to_get_a_model_when_there_is_none(tmp_path, monkeypatch, page):
    monkeypatch.setenv("DDI_MODEL_DIR", str(tmp_path / "no-model"))
    at = app().run()
    if page != "main.py":
        at.switch_page(page).run()
    assert_no_exception(at)
    assert any("No model found" in w for w in texts(at.warning))
    assert any("ddi train --out" in m for m in texts(at.markdown))
    assert not at.get("selectbox")
