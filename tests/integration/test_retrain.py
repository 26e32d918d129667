"""``ddi retrain`` end to end on a small DrugBank 5.x export written from the real benchmark."""

from __future__ import annotations

import json
from pathlib import Path
from xml.sax.saxutils import escape

import pandas as pd
import pytest

from ddi.cli.main import main
from ddi.data.templates import render_description

pytestmark = pytest.mark.usefixtures("restore_root_logging")

NUM_DRUGS = 40


def write_export(path: Path, tables) -> pd.DataFrame:
    """A DrugBank 5.1-shaped export of the 40 most-connected benchmark drugs with a SMILES and their interactions
    among themselves, each listed under both drugs as DrugBank does; returns the interactions written."""
    drugs = tables.drugs[tables.drugs["smiles"] != ""]
    pairs = tables.interactions[
        tables.interactions["drug1_id"].isin(drugs["drugbank_id"])
        & tables.interactions["drug2_id"].isin(drugs["drugbank_id"])
    ]
    degree = pd.concat([pairs["drug1_id"], pairs["drug2_id"]]).value_counts()
    chosen = set(degree.index[:NUM_DRUGS])
    pairs = pairs[pairs["drug1_id"].isin(chosen) & pairs["drug2_id"].isin(chosen)].drop_duplicates(
        ["drug1_id", "drug2_id"]
    )
    pairs = pairs.drop_duplicates(subset=["drug1_id", "drug2_id"]).reset_index(drop=True)
    names = dict(zip(tables.drugs["drugbank_id"], tables.drugs["name"], strict=True))
    smiles = dict(zip(tables.drugs["drugbank_id"], tables.drugs["smiles"], strict=True))
    types = tables.interaction_types.set_index("type")
    listed: dict[str, list[str]] = {d: [] for d in chosen}
    for d1, d2, t in pairs[["drug1_id", "drug2_id", "type"]].itertuples(index=False):
        text = render_description(types.at[t, "template"], int(types.at[t, "subject"]), names[d1], names[d2])
        for drug, partner in ((d1, d2), (d2, d1)):
            listed[drug].append(
                f"<drug-interaction><drugbank-id>{partner}</drugbank-id><name>{escape(names[partner])}</name>"
                f"<description>{escape(text)}</description></drug-interaction>"
            )
    body = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<drugbank xmlns="http://www.drugbank.ca" version="5.1" exported-on="2024-01-01">',
    ]
    for drug in sorted(chosen):
        body.append(
            f'<drug type="small molecule"><drugbank-id primary="true">{drug}</drugbank-id>'
            f"<name>{escape(names[drug])}</name><groups><group>approved</group></groups><synonyms/>"
            f"<drug-interactions>{''.join(listed[drug])}</drug-interactions>"
            "<calculated-properties><property><kind>SMILES</kind>"
            f"<value>{escape(smiles[drug])}</value><source>ChemAxon</source></property></calculated-properties>"
            "<targets/><enzymes/><carriers/><transporters/></drug>"
        )
    body.append("</drugbank>")
    path.write_text("\n".join(body), encoding="utf-8")
    return pairs


def test_retrain_imports_trains_and_keeps_the_default(tmp_path, benchmark_tables, data_dir, monkeypatch, capsys):
    monkeypatch.setenv("DDI_DATA_DIR", str(data_dir))  # where the 86 templates are read from
    xml = tmp_path / "full database.xml"
    written = write_export(xml, benchmark_tables)
    assert len(written) > 200
    default = tmp_path / "models" / "default"
    default.mkdir(parents=True)
    (default / "marker").write_text("the current default")
    config = tmp_path / "tiny.json"
    config.write_text(
        json.dumps(
            {"model": {"hidden_dim": 16, "mol_layers": 1, "max_paths": 8}, "train": {"epochs": 2, "batch_size": 64}}
        )
    )
    out = tmp_path / "models" / "new"
    code = main(
        ["retrain", str(xml), "--out", str(out), "--data-out", str(tmp_path / "data" / "new"),
         "--config", str(config), "--no-progress"]
    )  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert "new model" in printed and "macro_f1" in printed
    assert {"model.pt", "config.json", "vocab.json", "metrics.json"} <= {p.name for p in out.iterdir()}
    # The imported tables hold exactly the interactions of the export, with their types and directions.
    imported = pd.read_csv(tmp_path / "data" / "new" / "ddi.tsv", sep="\t")
    key = ["drug1_id", "drug2_id", "type"]
    assert set(map(tuple, imported[key].to_numpy().tolist())) == set(map(tuple, written[key].to_numpy().tolist()))
    saved = json.loads((out / "config.json").read_text())
    assert saved["data_dir"] == str((tmp_path / "data" / "new").resolve())
    assert (default / "marker").is_file()  # never replaced without --make-default
    assert not list(out.parent.glob(".new.*"))  # no half-written leftovers


def test_retrain_of_a_broken_export_is_a_clear_error(tmp_path, capsys):
    xml = tmp_path / "broken.xml"
    xml.write_text('<?xml version="1.0"?><drugbank xmlns="http://www.drugbank.ca"><drug><name>Half')
    code = main(["retrain", str(xml), "--out", str(tmp_path / "m"), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2
    assert "ddi: error:" in err and "Traceback" not in err
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize(
    ("out", "data_out", "message"),
    [
        ("a_file", "data", "--out a_file: is a file"),
        ("project", "data", "a directory that is not a ddi model"),
        ("a_file/m", "data", "--out a_file/m: not a writable directory"),
        ("m", "m/data", "inside the model directory"),
        ("m", "project", "--data-out project: the directory holds other files"),
        ("m", "a_file", "--data-out a_file: not a writable directory"),
    ],
    ids=["out-file", "out-not-a-model", "out-under-file", "data-in-model", "data-not-empty", "data-file"],
)
def test_retrain_refuses_bad_outputs_before_the_import(tmp_path, monkeypatch, capsys, out, data_out, message):
    """Before: the import and training ran first, then the model replaced --out whole (a user's directory was
    deleted) or the data vanished with the model directory it was written into."""
    monkeypatch.chdir(tmp_path)
    Path("a_file").write_text("")
    Path("project").mkdir()
    Path("project/notes.txt").write_text("keep me")
    code = main(["retrain", "missing.xml", "--out", out, "--data-out", data_out, "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert message in err
    assert Path("project/notes.txt").read_text() == "keep me"
    assert not Path("m").exists()
