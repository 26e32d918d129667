"""Feasibility probe, not part of ddi's model: head-conditioned propagation (the flow of NBFNet and EmerGNN) on S0.

ddi's relation-path block pools up to ``max_paths`` listed paths per pair. EmerGNN instead propagates a state from
the head drug over the whole typed graph for L layers and reads the pair at the tail, so every path of length up to
L counts. Is that worth building into ddi, and can a 2-core CPU train it? This script answers with the bare flow:
drug and relation embeddings only (no molecules, rules or look-alike votes), DistMult messages summed per (node,
relation) group with one sparse product, L = 3, hidden 32, one constant learning rate. Each training step takes 16
groups of up to 32 pairs that share a head, and each group drops its own pairs' edges from the graph (no leakage);
valid and test pairs are never in it. Valid figures after each epoch, test at the end, all in ``--out``::

    python benchmarks/flow_probe.py --epochs 8 --out benchmarks/results/flow_probe.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn as nn
import torch.nn.functional as F
from run_info import command_line
from sklearn.metrics import accuracy_score, cohen_kappa_score, f1_score

from ddi.data.location import resolve_data_dir

DATA = str(resolve_data_dir())
ACTIONS = ("inhibitor", "substrate", "inducer", "antagonist", "agonist")
CATEGORIES = ("target", "enzyme", "transporter", "carrier")
T = 86


def load():
    split = {p: pd.read_csv(f"{DATA}/splits/sumgnn/{p}.tsv", sep="\t") for p in ("train", "valid", "test")}
    drugs = pd.read_csv(f"{DATA}/drugs.tsv", sep="\t")["drugbank_id"].tolist()
    index = {d: i for i, d in enumerate(drugs)}
    dp = pd.read_csv(f"{DATA}/drug_protein.tsv", sep="\t", dtype=str).fillna("")
    dp = dp[dp.drugbank_id.isin(index)]
    proteins = sorted(set(dp.uniprot_id))
    pindex = {p: len(drugs) + i for i, p in enumerate(proteins)}
    src, dst, rel = [], [], []
    for a, b, t in split["train"].itertuples(index=False):
        src += [index[a], index[b]]
        dst += [index[b], index[a]]
        rel += [t - 1, T + t - 1]
    base = 2 * T
    nprot_rel = len(CATEGORIES) * (len(ACTIONS) + 1)
    for row in dp.itertuples(index=False):
        actions = row.actions.split("|")
        a = next((ACTIONS.index(x) for x in actions if x in ACTIONS), len(ACTIONS))
        r = CATEGORIES.index(row.category) * (len(ACTIONS) + 1) + a
        src += [index[row.drugbank_id], pindex[row.uniprot_id]]
        dst += [pindex[row.uniprot_id], index[row.drugbank_id]]
        rel += [base + r, base + nprot_rel + r]
    num_rel = base + 2 * nprot_rel
    edges = (torch.tensor(src), torch.tensor(dst), torch.tensor(rel))
    pairs = {
        p: (
            torch.tensor([index[x] for x in df.drug1_id]),
            torch.tensor([index[x] for x in df.drug2_id]),
            torch.tensor(df.type.values - 1),
        )
        for p, df in split.items()
    }
    # edge ids of each unordered training pair (both directions): 2*i and 2*i+1
    return len(drugs), len(drugs) + len(proteins), num_rel, edges, pairs


class Propagation(nn.Module):
    def __init__(self, num_drugs, num_nodes, num_rel, dim, layers, edges):
        super().__init__()
        self.src, self.dst, self.rel = edges
        self.num_nodes, self.dim = num_nodes, dim
        self.drug_emb = nn.Embedding(num_drugs, dim)
        self.query = nn.Parameter(torch.randn(dim) * 0.1)
        self.rel_emb = nn.ModuleList(nn.Embedding(num_rel, dim) for _ in range(layers))
        self.lin = nn.ModuleList(nn.Linear(2 * dim, dim) for _ in range(layers))
        self.norm = nn.ModuleList(nn.LayerNorm(dim) for _ in range(layers))
        deg = torch.zeros(num_nodes).index_add_(0, self.dst, torch.ones(len(self.dst)))
        inv = (1.0 / deg.clamp(min=1)).sqrt()
        self.edge_norm = inv[self.src] * inv[self.dst]
        # DistMult messages factor by (dst, relation) group: sum the sources of a group first (one sparse
        # product over all edges), then multiply each group once by its relation vector.
        key = self.dst * num_rel + self.rel
        groups, self.edge_group = torch.unique(key, return_inverse=True)
        self.group_dst, self.group_rel = groups // num_rel, groups % num_rel
        self.num_groups = len(groups)
        self.adj = (
            torch.sparse_coo_tensor(
                torch.stack([self.edge_group, self.src]), self.edge_norm, (self.num_groups, num_nodes)
            )
            .coalesce()
            .to_sparse_csr()
        )
        self.head = nn.Sequential(nn.Linear(3 * dim, 256), nn.ReLU(), nn.Dropout(0.1), nn.Linear(256, T))

    def propagate(self, heads, masked=None):
        """heads: B; masked: (edge ids, batch rows) of edges each row must not use -> node states N x B x d."""
        b, n, d = len(heads), self.num_nodes, self.dim
        boundary = torch.zeros(n, b, d)
        boundary[heads, torch.arange(b)] = self.query + self.drug_emb(heads)
        h = boundary
        for rel_emb, lin, ln in zip(self.rel_emb, self.lin, self.norm, strict=True):
            grouped = torch.sparse.mm(self.adj, h.reshape(n, b * d)).view(self.num_groups * b, d)
            if masked is not None:
                e, r = masked
                removed = h.reshape(n * b, d)[self.src[e] * b + r] * self.edge_norm[e].unsqueeze(-1)
                grouped = grouped.index_add(0, self.edge_group[e] * b + r, -removed)
            msg = grouped.view(self.num_groups, b, d) * rel_emb(self.group_rel).unsqueeze(1)
            agg = torch.zeros_like(h).index_add_(0, self.group_dst, msg) + boundary
            h = h + F.relu(ln(lin(torch.cat([agg, h], -1))))
        return h

    def score(self, states, rows, heads, tails):
        """states B x N x d; rows: which batch row each pair reads."""
        x = torch.cat([states[tails, rows], self.drug_emb(heads), self.drug_emb(tails)], -1)
        return self.head(x)


def chunks(heads, chunk, rng):
    order = rng.permutation(len(heads))
    by_head = {}
    for i in order:
        by_head.setdefault(int(heads[i]), []).append(i)
    out = []
    for items in by_head.values():
        for s in range(0, len(items), chunk):
            out.append(items[s : s + chunk])
    rng.shuffle(out)
    return out


def evaluate(model, pairs, batch_heads, probabilities=None):
    """Macro-F1, accuracy and kappa of ``pairs``; with ``probabilities`` (a list), the ``N x T`` type
    probabilities are appended to it."""
    h, t, y = pairs
    model.eval()
    probs = torch.empty(len(y), T)
    uniq = torch.unique(h)
    with torch.no_grad():
        for s in range(0, len(uniq), batch_heads):
            hs = uniq[s : s + batch_heads]
            states = model.propagate(hs, None)
            sel = torch.isin(h, hs)
            idx = sel.nonzero().squeeze(1)
            rows = torch.searchsorted(hs, h[idx])
            probs[idx] = model.score(states, rows, h[idx], t[idx]).softmax(1)
    preds = probs.argmax(1)
    if probabilities is not None:
        probabilities.append(probs.numpy())
    model.train()
    y, p = y.numpy(), preds.numpy()
    return f1_score(y, p, average="macro"), accuracy_score(y, p), cohen_kappa_score(y, p)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dim", type=int, default=32)
    ap.add_argument("--layers", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--chunk", type=int, default=32)
    ap.add_argument("--heads", type=int, default=16)
    ap.add_argument("--lr", type=float, default=0.003)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--limit-steps", type=int, default=0)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/flow_probe.json"))
    ap.add_argument("--save-test", type=Path, help="also save the valid and test pairs' type probabilities here (.npz)")
    args = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    num_drugs, num_nodes, num_rel, edges, pairs = load()
    model = Propagation(num_drugs, num_nodes, num_rel, args.dim, args.layers, edges)
    print(f"nodes {num_nodes} edges {len(edges[0])} relations {num_rel}", flush=True)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-5)
    th, tt, ty = pairs["train"]
    num_train = len(th)
    record = {"command": command_line(), "args": {k: str(v) for k, v in vars(args).items()}, "valid": []}
    started = time.time()
    for epoch in range(1, args.epochs + 1):
        groups = chunks(th.numpy(), args.chunk, rng)
        start, losses = time.time(), []
        for step in range(0, len(groups), args.heads):
            batch = groups[step : step + args.heads]
            heads = torch.tensor([int(th[g[0]]) for g in batch])
            rows, idx, me, mr = [], [], [], []
            for r, g in enumerate(batch):
                gi = torch.tensor(g)
                me += [2 * gi, 2 * gi + 1]
                mr += [torch.full((2 * len(g),), r)]
                rows += [r] * len(g)
                idx += g
            masked = (torch.cat(me), torch.cat(mr))
            idx, rows = torch.tensor(idx), torch.tensor(rows)
            states = model.propagate(heads, masked)
            logits = model.score(states, rows, th[idx], tt[idx])
            loss = F.cross_entropy(logits, ty[idx], label_smoothing=0.05)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
            n = step // args.heads
            if n % 20 == 0:
                print(
                    f"epoch {epoch} step {n}/{len(groups) // args.heads} loss {np.mean(losses[-20:]):.3f} "
                    f"{time.time() - start:.0f}s",
                    flush=True,
                )
            if args.limit_steps and n >= args.limit_steps:
                break
        print(f"epoch {epoch} done {time.time() - start:.0f}s pairs {num_train}", flush=True)
        f1, acc, kap = evaluate(model, pairs["valid"], args.heads)
        print(f"VALID epoch {epoch}: {f1:.4f} / {acc:.4f} / {kap:.4f}", flush=True)
        record["valid"].append(
            {"epoch": epoch, "macro_f1": f1, "accuracy": acc, "kappa": kap, "epoch_seconds": time.time() - start}
        )
    probabilities: list[np.ndarray] = []
    evaluate(model, pairs["valid"], args.heads, probabilities)  # the last epoch's valid pairs, for their probabilities
    f1, acc, kap = evaluate(model, pairs["test"], args.heads, probabilities)
    if args.save_test:  # drug ids with them, so another model's scores can be matched pair by pair
        drugs = pd.read_csv(f"{DATA}/drugs.tsv", sep="\t")["drugbank_id"].to_numpy()
        saved = {}
        for part, probs in zip(("valid", "test"), probabilities, strict=True):
            h, t, y = pairs[part]
            saved.update({f"{part}_probs": probs, f"{part}_drug1": drugs[h.numpy()], f"{part}_drug2": drugs[t.numpy()]})
            saved[f"{part}_type"] = y.numpy() + 1
        np.savez_compressed(args.save_test, **saved)
    print(f"TEST: {f1:.4f} / {acc:.4f} / {kap:.4f}", flush=True)
    record.update(test={"macro_f1": f1, "accuracy": acc, "kappa": kap}, seconds=time.time() - started)
    record["parameters"] = sum(p.numel() for p in model.parameters())
    args.out.write_text(json.dumps(record, indent=1) + "\n")


if __name__ == "__main__":
    main()
