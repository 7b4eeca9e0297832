"""Cold `codesearch search` wall time on one repository: --fast vs --rerank with each reranker, interleaved,
the rerank vector cache deleted before every call (a cold CLI search, nothing embedded ahead)."""
import json, os, statistics, subprocess, sys, time
from pathlib import Path
repo, index = Path(sys.argv[1]), Path(sys.argv[2])
models = dict(a.split("=") for a in sys.argv[3:])
cs = "/work/main/.venv/bin/codesearch"
if not (index / "index.db").exists():
    subprocess.run([cs, "index", str(repo), "--index-dir", str(index), "-q"], check=True, capture_output=True)
queries = ["serialize an object to json", "read a string token from the stream", "register a type adapter",
           "handle a null value while writing", "parse a date"]
variants = {"fast": ["--fast"], **{k: ["--rerank", "--rerank-model", v] for k, v in models.items()}}
times = {k: [] for k in variants}
for q in queries:
    for name, extra in variants.items():
        (index / "rerank-cache.db").unlink(missing_ok=True)
        c = time.perf_counter()
        subprocess.run([cs, "search", q, str(repo), "--index-dir", str(index), "--no-resident", "-q", *extra])
        times[name].append(time.perf_counter() - c)
out = {k: {"median_s": round(statistics.median(v), 3), "all": [round(x, 3) for x in v]} for k, v in times.items()}
print(json.dumps(out, indent=1))
