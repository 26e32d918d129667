"""``ddi data stats``: what was loaded — rows per table, what validation dropped, relations, splits."""

from __future__ import annotations

import argparse
import json

from ddi.cli.main import add_data_dir_argument


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("data", help="inspect a dataset", description=__doc__)
    data_sub = p.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    stats = data_sub.add_parser("stats", help="counts per table, relation type and split")
    add_data_dir_argument(stats)
    stats.add_argument("--split-seed", type=int, default=0, help="seed of the s1/s2 drug splits shown")
    stats.add_argument("--json", action="store_true", help="print the counts as JSON")
    stats.set_defaults(func=run_stats)


def collect_stats(data_dir: str | None, split_seed: int = 0) -> dict:
    from ddi.data.benchmark import load_benchmark
    from ddi.data.splits import SETTINGS, load_split
    from ddi.kg.graph import KnowledgeGraph

    tables, report = load_benchmark(data_dir)
    splits = {s: load_split(s, tables, seed=split_seed) for s in SETTINGS}
    kg = KnowledgeGraph.build(tables, splits["s0"].train)
    kg_stats = kg.stats()
    type_counts = tables.interactions["type"].value_counts().sort_index()
    return {
        "data_dir": tables.source,
        "tables": tables.counts(),
        "dropped": [str(r) for r in report.records],
        "notes": report.notes,
        "interactions_per_type": {int(k): int(v) for k, v in type_counts.items()},
        "splits": {name: split.counts() for name, split in splits.items()},
        "knowledge_graph_s0": {
            "nodes": kg_stats["nodes"],
            "edges": kg_stats["edges"],
            "forward_edges_per_group": kg_stats["forward_edges_per_group"],
            "forward_edges_per_relation": {
                k: v for k, v in kg_stats["forward_edges_per_relation"].items() if not k.startswith("ddi:")
            },
        },
    }


def run_stats(args: argparse.Namespace) -> int:
    stats = collect_stats(args.data_dir, args.split_seed)
    if args.json:
        print(json.dumps(stats, indent=2))
        return 0
    print(f"data directory: {stats['data_dir']}")
    print("tables:")
    for name, count in stats["tables"].items():
        print(f"  {name:<18} {count:>9,}")
    if stats["dropped"] or stats["notes"]:
        print("validation:")
        for line in stats["dropped"]:
            print(f"  dropped {line}")
        for line in stats["notes"]:
            print(f"  {line}")
    types = stats["interactions_per_type"]
    if types:
        print(
            f"interaction types: {len(types)} used, rarest {min(types.values()):,}, commonest {max(types.values()):,}"
        )
    print(f"splits (seed {args.split_seed} for s1/s2):")
    for name, counts in stats["splits"].items():
        print(f"  {name}: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    kg = stats["knowledge_graph_s0"]
    print(f"knowledge graph (s0 training interactions): {kg['edges']:,} edges (with inverses)")
    print("  nodes: " + ", ".join(f"{k} {v:,}" for k, v in kg["nodes"].items()))
    print("  forward edges per group: " + ", ".join(f"{k} {v:,}" for k, v in kg["forward_edges_per_group"].items()))
    for rel, count in kg["forward_edges_per_relation"].items():
        print(f"    {rel:<24} {count:>7,}")
    return 0
