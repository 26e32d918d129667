"""``ddi paths`` on the hand-made ``kg_tiny`` data and on the real benchmark."""

from pathlib import Path

import pytest

from ddi.cli.main import main

TINY = str(Path(__file__).resolve().parents[1] / "fixtures" / "kg_tiny")
# main() configures root logging; the fixture undoes it after each test.
pytestmark = pytest.mark.usefixtures("restore_root_logging")


def test_paths_and_rules_for_a_pair(capsys):
    assert main(["paths", "inhibitorol", "DB90002", "--data-dir", TINY, "--limit", "2"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Inhibitorol (DB90001) -> Substratin (DB90002)\n")
    assert "interactions from all interactions" in out  # kg_tiny has no splits/sumgnn
    assert "  cyp_inhibition: Inhibitorol inhibits CYP3A4, which metabolises Substratin" in out
    assert "    1. Inhibitorol -inhibits-> ABCB1 <-is transported by- Substratin\n" in out
    assert "    2. Inhibitorol -inhibits-> CYP3A4 <-is a substrate of- Substratin\n" in out
    assert "    3." not in out
    assert "increases the serum concentration of" not in out  # the pair's own edge stays hidden


def test_include_direct_shows_the_pairs_own_edge(capsys):
    assert (
        main(
            [
                "paths",
                "Inhibitorol",
                "Substratin",
                "--data-dir",
                TINY,
                "--max-length",
                "1",
                "--include-direct",
            ]
        )
        == 0
    )
    assert "    1. Inhibitorol -increases the serum concentration of-> Substratin\n" in capsys.readouterr().out


def test_drug_without_links_says_none(capsys):
    assert main(["paths", "Lonelyn", "Substratin", "--data-dir", TINY]) == 0
    out = capsys.readouterr().out
    assert "rules that fire (0):\n  none" in out
    assert "(0 shown" in out


@pytest.mark.parametrize(
    ("drug1", "drug2", "message"),
    [
        ("Substratine", "Inhibitorol", "unknown drug 'Substratine'"),
        ("Inhibitorol", "DB00000", "unknown drug 'DB00000'"),
        ("Inhibitorol", "db90001", "same drug"),
    ],
)
def test_bad_drugs_exit_2_with_a_clear_message(capsys, drug1, drug2, message):
    assert main(["paths", drug1, drug2, "--data-dir", TINY]) == 2
    err = capsys.readouterr().err
    assert "ddi: error:" in err and message in err
    assert "Traceback" not in err


def test_real_benchmark_uses_the_training_split(capsys, data_dir):
    assert main(["-q", "paths", "clarithromycin", "DB00641", "--limit", "1", "--data-dir", str(data_dir)]) == 0
    out = capsys.readouterr().out
    assert "interactions from splits/sumgnn/train.tsv" in out
    assert "    1. Clarithromycin -inhibits-> CYP3A4 <-is a substrate of- Simvastatin\n" in out
    assert "  cyp_inhibition: Clarithromycin inhibits CYP3A4" in out


def test_drugs_are_read_as_ddi_ask_reads_them(capsys, data_dir):
    # "aspirin" is a synonym (the drug is "Acetylsalicylic acid"); an exact-name lookup refused it before.
    assert main(["-q", "paths", "warfarin sodium", "aspirin", "--limit", "1", "--data-dir", str(data_dir)]) == 0
    assert capsys.readouterr().out.startswith("Warfarin (DB00682) -> Acetylsalicylic acid (DB00945)\n")
    # A drug the catalogue knows but the graph does not, and a new molecule, have no paths: said, not a traceback.
    for text, named in (("lepirudin", "Lepirudin (DB00001)"), ("c1ccc2c(c1)oc1ccccc12", "(a new molecule)")):
        assert main(["-q", "paths", "warfarin", text, "--data-dir", str(data_dir)]) == 2
        err = capsys.readouterr().err
        assert named in err and "is not a drug of the knowledge graph" in err and "Traceback" not in err
