"""``ddi paths DRUG1 DRUG2``: the knowledge-graph paths and pharmacology rules that link two drugs."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from ddi.cli.main import add_data_dir_argument, positive_int
from ddi.errors import UserInputError

if TYPE_CHECKING:
    import pandas as pd

    from ddi.data.tables import Tables
    from ddi.kg.graph import KnowledgeGraph
    from ddi.serve.resolve import DrugResolver


DRUG_HELP = "a drug of the data: name, synonym, DrugBank id, InChIKey or structure (as ddi ask reads drugs)"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "paths",
        help="show the knowledge-graph paths and pharmacology rules linking two drugs",
        description=(
            "List the relation paths (through proteins and training interactions) from DRUG1 to DRUG2 and "
            "the pharmacology rules that fire for the pair. The graph holds the S0 training interactions "
            "(splits/sumgnn/train.tsv) when the data has them, else all interactions."
        ),
    )
    parser.add_argument("drug1", metavar="DRUG1", help=DRUG_HELP)
    parser.add_argument("drug2", metavar="DRUG2", help=DRUG_HELP)
    parser.add_argument("--max-length", type=int, default=3, choices=(1, 2, 3), help="longest path (default 3)")
    parser.add_argument("--limit", type=positive_int, default=10, help="paths to show (default 10)")
    parser.add_argument(
        "--include-direct",
        action="store_true",
        help="also show the pair's own interaction edges (hidden by default: they are what is explained)",
    )
    add_data_dir_argument(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ddi.data.benchmark import load_benchmark
    from ddi.kg.graph import KnowledgeGraph
    from ddi.kg.paths import relation_paths
    from ddi.kg.rules import fired_rules
    from ddi.serve.resolve import DrugResolver

    # A blank argument (an unset shell variable) is named before the graph is built, not as "unknown drug ''".
    for label, text in (("DRUG1", args.drug1), ("DRUG2", args.drug2)):
        if not text.strip():
            raise UserInputError(f"{label} is empty")
    tables, _ = load_benchmark(args.data_dir)
    interactions, source = _graph_interactions(tables)
    kg = KnowledgeGraph.build(tables, interactions)
    resolver = DrugResolver.from_tables(tables)
    head, tail = _drug_node(kg, resolver, args.drug1), _drug_node(kg, resolver, args.drug2)
    if head == tail:
        raise UserInputError(f"DRUG1 and DRUG2 are the same drug ({kg.node_ids[head]})")
    paths = relation_paths(
        kg, head, tail, max_length=args.max_length, limit=args.limit, include_direct=args.include_direct
    )
    matches = fired_rules(kg, head, tail)

    print(f"{_drug(kg, head)} -> {_drug(kg, tail)}")
    print(
        f"knowledge graph: {kg.num_drugs:,} drugs, {kg.num_proteins:,} proteins, {kg.num_edges:,} edges; "
        f"interactions from {source}"
    )
    print(f"\nrules that fire ({len(matches)}):")
    for match in matches:
        print(f"  {match.rule.name}: {match.describe(kg)}")
    if not matches:
        print("  none")
    hidden = "" if args.include_direct else "; the pair's own interaction edges are not shown"
    print(f"\npaths of up to {args.max_length} edges ({len(paths)} shown, best first{hidden}):")
    for rank, path in enumerate(paths, start=1):
        print(f"  {rank:>3}. {path.describe(kg)}")
    if not paths:
        print("  none")
    return 0


def _graph_interactions(tables: Tables) -> tuple[pd.DataFrame, str]:
    """The S0 training interactions when the data ships its split, else all interactions; and their source."""
    from ddi.data.splits import SPLIT_FILES, SUMGNN_DIR, split_from_dir

    split_dir = Path(tables.source) / SUMGNN_DIR if tables.source else None
    if split_dir is not None and all((split_dir / f).is_file() for f in SPLIT_FILES):
        return split_from_dir(split_dir, tables, name="s0").train, str(SUMGNN_DIR / "train.tsv")
    return tables.interactions, "all interactions (the data has no splits/sumgnn split)"


def _drug(kg: KnowledgeGraph, node: int) -> str:
    return f"{kg.node_names[node]} ({kg.node_ids[node]})"


def _drug_node(kg: KnowledgeGraph, resolver: DrugResolver, text: str) -> int:
    """The graph node of the drug ``text`` names, read as ``ddi ask`` reads it (synonyms, ids, structures of the
    data's drugs; suggestions when nothing matches)."""
    drug = resolver.resolve(text)
    if drug.drugbank_id is None or not drug.in_model:
        raise UserInputError(
            f"{drug.name} ({drug.drugbank_id or 'a new molecule'}) is not a drug of the knowledge graph: paths join "
            "the data's drugs"
        )
    return kg.drug_node(drug.drugbank_id)
