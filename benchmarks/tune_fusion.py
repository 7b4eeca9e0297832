# Reproduce: python benchmarks/tune_fusion.py (after scripts/build_datasets.py)
"""Dev-split experiment: lexical weight in reciprocal rank fusion (documents disjoint from the test sample)."""
import random, tempfile, statistics
from pathlib import Path
from codesearch.bench.datasets import read_jsonl
from codesearch.bench.runner import select
from codesearch.bench.corpus import materialise
from codesearch.pipeline import build_index
from codesearch.search import Searcher, lexical_words
from codesearch.fusion import reciprocal_rank_fusion
def main():
    ex = list(read_jsonl([Path.home()/".cache/codesearch/datasets"]))
    test = select(ex, 1000, 1000, 0)
    test_codes = {(e.language, e.code) for e in test}
    rest = [e for e in ex if (e.language, e.code) not in test_codes]
    dev = select(rest, 300, 1000, 1)
    work = Path(tempfile.mkdtemp())
    corpus, kept = materialise(dev, work/"c")
    build_index(work/"c", work/"i")
    queries = {}
    for e, p in zip(kept, corpus.paths):
        queries.setdefault(e.language, [])
        if len(queries[e.language]) < 300: queries[e.language].append((e.query, p))
    res = {w: [] for w in (3, 5, 10, 1000)}
    with Searcher(work/"i") as s:
        rows_cache = {}
        for lang, qs in queries.items():
            per = {w: [] for w in res}
            for q, target in qs:
                vec = s.embedder.encode_queries([q])
                allowed = s.reader.ids_where(language=lang)
                sc, ids = s.vectors.search(vec, 100, allowed)
                static = [int(i) for i in ids[0] if i != -1]
                lex = [i for i, _ in s.reader.lexical(lexical_words(q), 100, lang)]
                need = set(static) | set(lex)
                missing = [i for i in need if i not in rows_cache]
                for i, row in s.reader.chunks(missing).items(): rows_cache[i] = row["path"]
                for w in res:
                    fused = [rows_cache[i] for i, _ in reciprocal_rank_fusion([static, lex], weights=[1.0, w])]
                    seen = []
                    for p in fused:
                        if p not in seen: seen.append(p)
                    per[w].append(1 / (seen.index(target) + 1) if target in seen[:100] else 0.0)
            for w in res: res[w].append(statistics.fmean(per[w]))
            print(lang, {w: round(statistics.fmean(per[w]), 3) for w in res}, flush=True)
    print("macro", {w: round(statistics.fmean(v), 3) for w, v in res.items()})
    

if __name__ == '__main__':
    main()
