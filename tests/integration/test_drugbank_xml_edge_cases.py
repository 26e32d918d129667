"""Importing DrugBank exports with repeated records, and where the import may write (review additions)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ddi.data.drugbank_xml import check_layout_out, import_drugbank_xml
from ddi.errors import UserInputError

CONCENTRATION = "The serum concentration of {} can be increased when it is combined with {}."


def drug(drugbank_id: str, name: str, *listings: tuple[str, str, str]) -> str:
    entries = "".join(
        f"<drug-interaction><drugbank-id>{p}</drugbank-id><name>{n}</name><description>{d}</description>"
        "</drug-interaction>"
        for p, n, d in listings
    )
    return (
        f'<drug type="small molecule"><drugbank-id primary="true">{drugbank_id}</drugbank-id><name>{name}</name>'
        f"<drug-interactions>{entries}</drug-interactions></drug>"
    )


def test_a_record_repeating_an_earlier_id_is_skipped_whole(tmp_path: Path, data_dir: Path) -> None:
    """Before: the repeat's drug row was dropped at validation but its listings (typed with its own name) were
    merged into the first record's, here adding a type-0 pair the first record never listed."""
    xml = tmp_path / "repeated.xml"
    xml.write_text(
        '<drugbank xmlns="http://www.drugbank.ca">'
        + drug("DB00001", "Alpha", ("DB00002", "Beta", CONCENTRATION.format("Beta", "Alpha")))
        + drug("DB00002", "Beta", ("DB00001", "Alpha", CONCENTRATION.format("Beta", "Alpha")))
        + drug("DB00002", "Impostor", ("DB00001", "Alpha", "Impostor and Alpha go together."))
        + "</drugbank>",
        encoding="utf-8",
    )
    tables, stats = import_drugbank_xml(xml, data_dir / "interaction_types.tsv", progress=False)
    assert list(tables.drugs["name"]) == ["Alpha", "Beta"]
    assert [tuple(r) for r in tables.interactions.itertuples(index=False)] == [("DB00002", "DB00001", 73)]
    assert (stats.drugs_read, stats.drugs_duplicate, stats.listings_read, stats.listings_unmatched) == (3, 1, 2, 0)
    assert "1 repeating the id of an earlier record (skipped, e.g. DB00002)" in str(stats)
    assert stats.validation.dropped() == 0


def test_the_layout_may_go_to_a_new_empty_or_earlier_import_directory_only(tmp_path: Path) -> None:
    check_layout_out(tmp_path / "new" / "deeper")
    assert not (tmp_path / "new").exists()  # nothing is created before the import succeeds
    earlier = tmp_path / "earlier"
    earlier.mkdir()
    (earlier / "ddi.tsv").write_text("drug1_id\tdrug2_id\ttype\n")
    check_layout_out(earlier)
    (earlier / "splits").mkdir()
    with pytest.raises(UserInputError, match="holds other files than an import writes"):
        check_layout_out(earlier)
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    for out in (blocker, blocker / "under"):
        with pytest.raises(UserInputError, match="not a writable directory"):
            check_layout_out(out)
