"""Per-query-kind rerank blend on semble-dev and the plain-English set (dev data only).
usage: PYTHONPATH=SRC python blend.py [MODEL_DIR|-] CONFIGS_JSON"""
import json, sys, time
from pathlib import Path
from codesearch.bench import semble, queryset
from codesearch.bench.semble import Hit, K
from codesearch.search import Searcher
from codesearch.rerank import load_reranker
from codesearch.query import analyse as parse_query, NATURAL
from codesearch.search.rerank_step import rerank_text
import codesearch.search.rerank_step as rs
from codesearch.embed.static import StaticEmbedder

model = None if sys.argv[1] == "-" else Path(sys.argv[1])
configs = json.loads(sys.argv[2])
emb = StaticEmbedder.default()
cache = {}
CFG = {}
kinds = {}

def kind_of(text):
    q = parse_query(text)
    if q.kind != NATURAL: return "name"
    if q.task: return "task"
    if q.question: return "question"
    if len(q.words) <= 1: return "word"
    return "topic"

def make(index_root):
    opened = {}
    def fn(repo, root):
        if repo not in opened:
            d = index_root / repo
            opened[repo] = (Searcher(d, embedder=emb), load_reranker(model, d))
        s, rr = opened[repo]
        def search(text, k):
            key = (repo, text)
            if key not in cache:
                res = s.search(text, 20, hybrid=True)
                keys = [rs.rerank_key(r.content_hash) if hasattr(rs, "rerank_key") else r.content_hash for r in res]
                cos = rr.score(text, [rerank_text(r.kind, r.qualname, r.signature, r.doc, r.code) for r in res], keys)
                cache[key] = (res, [float(c) for c in cos])
            res, cos = cache[key]
            kd = kind_of(text); kinds[kd] = kinds.get(kd, 0) + 1
            w = CFG.get(kd, CFG.get("default", 0.5))
            top = max((r.scores.get("rank", 0.0) for r in res), default=0.0) or 1.0
            final = [w * c + (1 - w) * r.scores.get("rank", 0.0) / top for r, c in zip(res, cos)]
            order = sorted(range(len(res)), key=lambda i: -final[i])
            return [res[i] for i in order][:k]
        return search
    return fn

sem_fn = make(Path("/tmp/cs-newmodel/semble-index"))
pe_fn = make(Path("/tmp/cs-newmodel/queryset-index"))
def sem_factory(repo, root):
    search = sem_fn(repo.name, root)
    prefix = f"{repo.root}/" if repo.root else ""
    return lambda text: [Hit(prefix + r.path, r.start_line, r.end_line) for r in search(text, K)]

for cfg in configs:
    CFG.clear(); CFG.update(cfg); kinds.clear()
    t = time.time()
    sr = semble.run(Path("/work/shared/bench/semble-dev"), Path.home() / ".cache/codesearch/semble-repos", {"x": sem_factory})
    pr = queryset.run(Path("/work/main/benchmarks/queries/plain-english.json"), Path.home() / ".cache/codesearch/src", {"x": pe_fn})
    s, p = sr.systems["x"], pr.systems["x"]
    cat = " ".join(f"{k[:4]}={v:.3f}" for k, v in s["per_category"].items())
    lang = " ".join(f"{k[:4]}={v:.3f}" for k, v in s["per_language"].items())
    plang = " ".join(f"{k[:4]}={v['ndcg@10']:.3f}" for k, v in p["per_language"].items())
    print(json.dumps(cfg), f"semble={s['ndcg@10']:.4f} [{cat}] PE R5={p['recall@5']:.3f} MRR={p['mrr']:.3f} NDCG={p['ndcg@10']:.3f} kinds={kinds} ({time.time()-t:.0f}s)", flush=True)
    print("   sem-lang", lang, flush=True)
    print("   pe-lang ", plang, flush=True)
