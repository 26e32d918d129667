"""``ddi featurize``: build or load the molecule graph of every drug and report the drugs without one."""

from __future__ import annotations

import argparse

from ddi.cli.main import add_data_dir_argument, non_blank


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "featurize",
        help="build the molecule graph of every drug (cached) and list drugs without one",
        description="Featurise every drug of the data directory as a molecule graph, reusing cached graphs, "
        "and print how many have a graph and why the others have none.",
    )
    add_data_dir_argument(parser)
    parser.add_argument(
        "--cache-dir",
        type=non_blank,
        default=None,
        help="cache root; graphs go under CACHE_DIR/molecule_graphs (default: $DDI_CACHE_DIR, ~/.cache/ddi)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ddi.chem.graphs import cache_file, featurize_drugs
    from ddi.data.benchmark import load_benchmark

    tables, _report = load_benchmark(args.data_dir)
    graphs = featurize_drugs(tables.drugs, cache_dir=args.cache_dir, progress=not getattr(args, "quiet", False))
    n_atoms = sum(g.num_nodes for g in graphs.values())
    n_edges = sum(g.edge_index.shape[1] for g in graphs.values())
    print(f"{len(graphs):,} of {len(graphs.drug_ids):,} drugs have a molecule graph")
    print(
        f"  {n_atoms:,} atoms, {n_edges:,} directed bond edges; "
        f"{graphs.atom_dim} atom and {graphs.bond_dim} bond features"
    )
    if graphs.invalid:
        names = dict(zip(tables.drugs["drugbank_id"], tables.drugs["name"], strict=True))
        print(f"{len(graphs.invalid):,} without a graph:")
        for drug_id, reason in graphs.invalid.items():
            print(f"  {drug_id}\t{names.get(drug_id, '')}\t{reason}")
    print(f"cache: {cache_file(args.cache_dir)}")
    return 0
