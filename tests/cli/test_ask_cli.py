"""``ddi ask``: one pair's answer and explanation in the terminal, as text or JSON, and one clear error line for a
drug it cannot use."""

from __future__ import annotations

import json

import pytest

from ddi.cli.main import main

pytestmark = pytest.mark.usefixtures("restore_root_logging")


@pytest.fixture(scope="module")
def model_args(tiny_model_dir, data_dir) -> list[str]:
    return ["--model", str(tiny_model_dir), "--data-dir", str(data_dir)]


def _error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith("ddi INFO")]
    assert "Traceback" not in err
    assert len(lines) == 1 and lines[0].startswith("ddi: error: "), err
    return lines[0]


def test_text_answer_names_the_pair_the_types_and_the_cyp3a4_rule(capsys, model_args):
    assert main(["ask", "simvastatin", "Clarithromycin", "--top-k", "4", *model_args]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "Simvastatin (DB00641) + Clarithromycin (DB01211)"
    assert "Simvastatin" in lines[2] and "Clarithromycin" in lines[2]  # the predicted sentence
    assert lines[3].startswith("probability of this type ")
    listed = lines[lines.index("most probable types:") + 1 :]
    assert len([line for line in listed[:5] if "type" in line and "%" in line]) == 4
    rules = out[out.index("pharmacology rules that fire:") :]
    assert "Clarithromycin inhibits CYP3A4" in rules


def test_json_answer_is_the_same_prediction(capsys, model_args):
    assert main(["ask", "DB00641", "DB01211", "--json", "--top-k", "2", "--paths", "3", *model_args]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["drug1"]["drugbank_id"] == "DB00641" and record["drug1"]["read_as"] == "id"
    assert record["drug2"]["name"] == "Clarithromycin"
    assert len(record["top"]) == 2 and record["top"][0]["type"] == record["type"]
    assert record["top"][0]["probability"] == record["probability"] >= record["top"][1]["probability"]
    assert 0.0 <= record["interaction_score"] <= 1.0
    assert len(record["paths"]) <= 3
    assert any(rule["rule"] == "cyp_inhibition_reverse" for rule in record["rules"])


def test_a_structure_outside_the_data_is_scored_and_flagged(capsys, model_args):
    # 4-tert-butylresorcinol is not a DrugBank drug of the benchmark: it is scored from its structure.
    assert main(["ask", "CC(C)(C)c1ccc(O)cc1O", "warfarin", "--json", *model_args]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["drug1"]["read_as"] == "structure" and record["drug1"]["in_model"] is False
    assert record["less_certain"]
    assert record["drug1"]["important_atoms"]["atoms"]


@pytest.mark.parametrize(
    ("drugs", "message"),
    [
        (["simvastatn", "warfarin"], "Drug 1: "),
        (["warfarin", "warfarin"], "both inputs are the same drug"),
        (["warfarin", "C1CC1(("], "Drug 2: "),
    ],
)
def test_a_drug_it_cannot_use_is_one_error_line(capsys, model_args, drugs, message):
    assert main(["ask", *drugs, *model_args]) == 2
    assert message in _error_line(capsys.readouterr().err)


def test_a_misspelt_name_comes_with_suggestions(capsys, model_args):
    assert main(["ask", "simvastatn", "warfarin", *model_args]) == 2
    line = _error_line(capsys.readouterr().err)
    assert "did you mean Simvastatin (DB00641)" in line and line.count("did you mean") == 1


def test_top_k_must_be_positive(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["ask", "a", "b", "--top-k", "0"])
    assert exc.value.code == 2
    assert "must be at least 1, not 0" in capsys.readouterr().err


def test_regimen_ranks_the_pairs_and_reports_a_bad_drug_once(capsys, model_args, tmp_path):
    out_file = tmp_path / "regimen.csv"
    drugs = ["Clarithromycin", "Simvastatin", "Warfarin", "xyzzy"]
    assert main(["regimen", *drugs, "--out", str(out_file), *model_args]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].startswith("6 pair(s): ") and lines[0].endswith("3 not scored; ranked by interaction score")
    # Listed pairs first, each with DrugBank's sentence under it.
    assert "%" in lines[1] and lines[2].startswith("        DrugBank lists: ")
    [pair] = [i for i, line in enumerate(lines) if "Clarithromycin + Simvastatin:" in line]
    assert lines[pair + 1].startswith("        DrugBank lists: The serum concentration of Simvastatin")
    assert sum("xyzzy" in line for line in lines) == 1, "a bad drug is reported once, not per pair"
    assert "drugs not checked as given:\n  xyzzy: unknown drug 'xyzzy'" in out
    import pandas as pd

    written = pd.read_csv(out_file, keep_default_na=False)
    assert len(written) == 6 and (written["error"] != "").sum() == 3


def test_regimen_of_one_drug_is_one_clear_error_before_the_model_loads(capsys):
    assert main(["regimen", "aspirin", "--model", "/nonexistent"]) == 2
    assert (
        _error_line(capsys.readouterr().err)
        == "ddi: error: a regimen needs at least two different drugs; got 1 ('aspirin')"
    )


def test_regimen_with_a_bad_out_name_fails_before_the_model_loads(capsys, tmp_path):
    out = tmp_path / "pairs.xlsx"  # the model directory does not exist: loading it would be the error seen
    assert main(["regimen", "aspirin", "warfarin", "--out", str(out), "--model", "/nonexistent"]) == 2
    assert _error_line(capsys.readouterr().err) == (
        f"ddi: error: {out}: unsupported file type; use .csv, .tsv or .parquet (CSV/TSV may be .gz)"
    )


def test_regimen_file_checks_each_patient_into_a_table(capsys, model_args, tmp_path):
    meds = tmp_path / "meds.csv"
    meds.write_text(
        "patient,medication\np1,Simvastatin 40mg tablet\np1,Clarithromycin\np1,warfarin sodium\n"
        "p2,aspirin\np2,amoxicillin/clavulanate\n"
    )
    out_file = tmp_path / "pairs.tsv"
    assert main(["regimen", "--file", str(meds), "--out", str(out_file), *model_args]) == 0
    summary = capsys.readouterr().out.strip().splitlines()[-1]
    assert summary.startswith("2 regimen(s), 6 pairs: ") and summary.endswith(f"1 note(s) -> {out_file}")
    import pandas as pd

    rows = pd.read_csv(out_file, sep="\t", keep_default_na=False)
    assert rows["patient"].tolist() == ["p1"] * 3 + ["p2"] * 4
    assert rows["note"].iloc[-1].startswith("a combination product: checked as Amoxicillin (DB01060)")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--out", "o.csv", "aspirin"], "give either DRUGs or --file, not both"),
        ([], "--file needs --out: the pairs of every regimen go to a table"),
    ],
)
def test_regimen_file_misuse_is_one_clear_error(capsys, tmp_path, extra, message):
    meds = tmp_path / "meds.csv"
    meds.write_text("drug\naspirin\nwarfarin\n")
    assert main(["regimen", "--file", str(meds), *extra, "--model", "/nonexistent"]) == 2
    assert _error_line(capsys.readouterr().err) == f"ddi: error: {message}"


def test_regimen_file_without_a_drug_column_is_named_before_the_model_loads(capsys, tmp_path):
    meds = tmp_path / "meds.csv"
    meds.write_text("a,b\n1,2\n")
    assert main(["regimen", "--file", str(meds), "--out", str(tmp_path / "o.csv"), "--model", "/nonexistent"]) == 2
    assert _error_line(capsys.readouterr().err).startswith("ddi: error: no drug column found; the columns are 'a', 'b'")


def test_regimen_file_over_the_size_limit_is_refused_before_reading(capsys, tmp_path, monkeypatch):
    import ddi.serve.regimen

    monkeypatch.setattr(ddi.serve.regimen, "MAX_MEDICATION_LIST_BYTES", 10)
    meds = tmp_path / "meds.csv"
    meds.write_text("drug\naspirin\nwarfarin\n")
    assert main(["regimen", "--file", str(meds), "--out", str(tmp_path / "o.csv"), "--model", "/nonexistent"]) == 2
    assert "MB is over the 0.0 MB limit" in _error_line(capsys.readouterr().err)


def test_regimen_text_marks_where_the_unlikely_pairs_begin():
    import pandas as pd

    from ddi.cli.regimen import regimen_text
    from ddi.serve.regimen import RegimenCheck

    def pair(names: str, score: float, known: str = "", error: str = "") -> dict[str, object]:
        a, b = names.split("+")
        sentence = f"{a} may increase the activities of {b}."
        return {
            "drug1_name": a, "drug2_name": b, "exists_score": score, "sentence": sentence, "predicted_type": 6,
            "probability": 0.9, "known_type": known, "known_sentence": sentence if known else "", "error": error,
        }  # fmt: skip

    pairs = pd.DataFrame([pair("A+B", 0.2, known="6"), pair("A+C", 0.8), pair("B+C", 0.3), pair("A+D", 0.1)])
    lines = regimen_text(RegimenCheck(pairs, {})).splitlines()
    marker = [i for i, line in enumerate(lines) if "the model finds an interaction unlikely" in line]
    assert len(marker) == 1, "one marker, before the first unlisted pair under 50 %"
    assert "A + C" in lines[marker[0] - 1] and "B + C" in lines[marker[0] + 1]
    assert "A + B" in lines[1], "a listed pair stays above the marker, whatever its score"
