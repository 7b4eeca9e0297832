"""Experiment for the "model that learns the user's own code" issue: adapt the static model's rows to one
repository and score semble's benchmark on it, before building anything into ``codesearch index``.

For each repository: pairs from its own index (a doc comment against its code; for code without a doc of
its own, the split name against the body), a short contrastive fine-tune (in-batch negatives, both
directions, scale 20) of the rows of the tokens those pairs use, with a penalty for drifting from the
shipped rows (``--anchor``, relative to the rows' mean squared norm); the adapted table is written as a
model directory, the repository indexed with it (queries use it too) and its benchmark queries scored.
The shipped model is never changed. Needs torch (the ``distill`` extra).

    python benchmarks/adapt_experiment.py --bench ../shared/bench/semble-dev --index-cache DIR \
        --repo gson --repo serde --steps 150 --anchor 5 --out /tmp/adapt.json

``--index-cache`` holds the benchmark's indexes made with the shipped model (``CODESEARCH_CACHE``'s
``semble-index``, as ``codesearch bench --semble`` leaves them): the pairs are read from them.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import re
import shutil
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from codesearch.bench import semble
from codesearch.embed.static import MAX_DOC_TOKENS, MAX_QUERY_TOKENS, StaticEmbedder, default_model_path
from codesearch.embed.text import split_identifiers
from codesearch.store.reader import IndexReader

MIN_DOC_CHARS = 20
CODE_CHARS = 1200


def pairs_of(index_dir: Path) -> list[tuple[str, str]]:
    """(query-like text, code) pairs from one index: doc against code, split name against body."""
    with IndexReader(index_dir) as reader:
        rows = reader.chunk_contents()  # (content_hash, kind, qualname, signature, doc, code)
    out = []
    for _, kind, qualname, signature, doc, code in rows:
        if kind == "code" or "@w" in qualname:
            continue
        if doc and len(doc) >= MIN_DOC_CHARS:
            out.append((doc[:600], f"{kind} {qualname}\n{signature}\n{code[:CODE_CHARS]}"))
        name = qualname.rsplit(".", 1)[-1]
        words = " ".join(w for w in re.split(r"[^A-Za-z0-9]+", split_identifiers(name)) if w)
        if len(words.split()) >= 2:
            out.append((words, f"{signature}\n{code[:CODE_CHARS]}"))
    return out


def doc_overlaps(bench: Path, index_cache: Path, repos: list[str], n: int = 5) -> list[str]:
    """The benchmark queries (of ``repos``) that share ``n`` or more consecutive words with a doc comment in
    one of their target files: where adapting on the repository's docs could learn the answer by heart."""
    words = re.compile(r"[a-z0-9]+")

    def grams(text: str) -> set[tuple[str, ...]]:
        w = words.findall(text.lower())
        return {tuple(w[i:i + n]) for i in range(len(w) - n + 1)}

    found = []
    for repo in semble.load_repos(bench):
        if repo.name not in repos:
            continue
        with IndexReader(index_cache / repo.name) as reader:
            docs = [(path, doc) for _, _, path, doc in reader.conn.execute(
                "SELECT id, kind, path, doc FROM chunks WHERE doc != ''")]
        prefix = f"{repo.root}/" if repo.root else ""
        for query in semble.load_queries(bench, [repo]):
            mine = grams(query.text)
            if mine and any(mine & grams(doc) for path, doc in docs for t in query.targets
                            if semble.path_matches(prefix + path, t.path)):
                found.append(f"{repo.name}: {query.text}")
    return found


def adapt(model: Path, index_dir: Path, out: Path, *, steps: int, anchor: float, lr: float = 0.01,
          batch: int = 128, seed: int = 0, new_tokens: int = 0) -> dict[str, float]:
    """Write an adapted copy of ``model`` to ``out``; return what it used and cost.

    With ``new_tokens`` the repository's most used compound identifiers become rows of their own
    (``adapt_vocab``) and only those rows are trained; without, the rows the pairs use are."""
    import torch
    from safetensors.numpy import save_file

    started = time.perf_counter()
    embedder = StaticEmbedder(model)
    vocab: dict[str, list[int]] = {}
    if new_tokens:
        from adapt_vocab import VOCAB_FILE, VocabEmbedder, choose_vocabulary, grown_table

        table, vocab = grown_table(embedder.embeddings, choose_vocabulary(index_dir, embedder, new_tokens))
        out.mkdir(parents=True, exist_ok=True)
        for name in ("tokenizer.json", "config.json"):
            shutil.copy(model / name, out / name)
        save_file({"embeddings": table.astype(np.float16)}, str(out / "model.safetensors"))
        (out / VOCAB_FILE).write_text(json.dumps(vocab))
        embedder = VocabEmbedder(out)
    first_new = len(embedder.embeddings) - len(vocab)
    pairs = pairs_of(index_dir)
    random.Random(seed).shuffle(pairs)
    queries = [ids[:MAX_QUERY_TOKENS] for ids in embedder.token_ids([q for q, _ in pairs])]
    docs = [ids[:MAX_DOC_TOKENS] for ids in embedder.token_ids([d for _, d in pairs])]
    keep = [i for i in range(len(pairs)) if queries[i] and docs[i]]
    touched = sorted({t for i in keep for t in queries[i] + docs[i]})
    if not keep or (vocab and not any(t >= first_new for t in touched)):
        shutil.copytree(model, out, dirs_exist_ok=True)
        return {"pairs": 0, "rows": 0, "seconds": 0.0}
    where = {t: j for j, t in enumerate(touched)}
    base = torch.tensor(embedder.embeddings[touched])
    delta = torch.zeros_like(base, requires_grad=True)
    # with new tokens only their rows move; the shipped rows are frozen
    movable = torch.tensor([[1.0] if (t >= first_new or not vocab) else [0.0] for t in touched])
    optimiser = torch.optim.Adam([delta], lr=lr)
    scale_norm = (base ** 2).sum(dim=1).mean()

    def embed(id_lists: list[list[int]]) -> torch.Tensor:
        flat = torch.tensor([where[t] for ids in id_lists for t in ids])
        offsets = torch.tensor([0, *np.cumsum([len(ids) for ids in id_lists])[:-1].tolist()])
        bags = torch.nn.functional.embedding_bag(flat, base + movable * delta, offsets, mode="sum")
        return torch.nn.functional.normalize(bags, dim=1)

    rng = random.Random(seed)
    for _ in range(steps):
        chosen = rng.sample(keep, min(batch, len(keep)))
        logits = 20.0 * embed([queries[i] for i in chosen]) @ embed([docs[i] for i in chosen]).T
        target = torch.arange(len(chosen))
        loss = (torch.nn.functional.cross_entropy(logits, target)
                + torch.nn.functional.cross_entropy(logits.T, target)) / 2
        loss = loss + anchor * ((movable * delta) ** 2).sum(dim=1).mean() / scale_norm
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    table = embedder.embeddings.copy()
    table[touched] = (base + movable * delta).detach().numpy()
    out.mkdir(parents=True, exist_ok=True)
    shutil.copy(model / "tokenizer.json", out / "tokenizer.json")
    config = json.loads((model / "config.json").read_text())
    config["name"] = f"{config.get('name', model.name)}-adapted" + ("-vocab" if vocab else "")
    (out / "config.json").write_text(json.dumps(config))
    save_file({"embeddings": table.astype(np.float16)}, str(out / "model.safetensors"))
    moved = len(touched) if not vocab else sum(t >= first_new for t in touched)
    return {"pairs": len(keep), "rows": moved, "new_tokens": len(vocab),
            "seconds": round(time.perf_counter() - started, 1)}


@contextlib.contextmanager
def _embedder_class(new_tokens: int) -> Iterator[None]:
    """With new tokens, the benchmark's searchers load the adapted model as a ``VocabEmbedder``."""
    import codesearch.embed.static as static

    original = static.StaticEmbedder
    if new_tokens:
        from adapt_vocab import VocabEmbedder

        static.StaticEmbedder = VocabEmbedder  # type: ignore[misc]
    try:
        yield
    finally:
        static.StaticEmbedder = original  # type: ignore[misc]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bench", type=Path, required=True)
    parser.add_argument("--checkouts", type=Path, default=Path.home() / ".cache/codesearch/semble-repos")
    parser.add_argument("--index-cache", type=Path, required=True, help="the shipped model's semble-index folder")
    parser.add_argument("--repo", action="append", required=True)
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--anchor", type=float, default=5.0)
    parser.add_argument("--new-tokens", type=int, default=0,
                        help="the repository's N most used compound identifiers as new tokens; train only those")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    scores: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.repo:
            before = semble.run(args.bench, args.checkouts, semble.make_systems(["hybrid"], args.index_cache),
                                repos=[name]).systems["hybrid"]["ndcg@10"]
            model_dir = Path(tmp) / "models" / name
            info = adapt(default_model_path(), args.index_cache / name, model_dir, steps=args.steps,
                         anchor=args.anchor, new_tokens=args.new_tokens)
            with _embedder_class(args.new_tokens):
                after = semble.run(args.bench, args.checkouts,
                                   semble.make_systems(["hybrid"], Path(tmp) / "indexes" / name, model=model_dir),
                                   repos=[name]).systems["hybrid"]["ndcg@10"]
            scores[name] = {"before": before, "after": after, **info}
            print(f"{name}: NDCG@10 {before:.3f} -> {after:.3f} ({info})", flush=True)  # noqa: T201
    overlaps = doc_overlaps(args.bench, args.index_cache, args.repo)
    print(f"{len(overlaps)} queries share 5 consecutive words with a doc comment of a target file")  # noqa: T201
    summary = {"steps": args.steps, "anchor": args.anchor, "new_tokens": args.new_tokens, "repos": scores,
               "doc_overlaps": overlaps,
               "mean_before": statistics.mean(s["before"] for s in scores.values()),
               "mean_after": statistics.mean(s["after"] for s in scores.values())}
    print(f"mean {summary['mean_before']:.4f} -> {summary['mean_after']:.4f}")  # noqa: T201
    if args.out:
        args.out.write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
