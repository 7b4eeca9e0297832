"""Index time with and without the vocabulary adaptation, on one folder. usage: adapt_cost.py ROOT WORK"""
import json, shutil, sys, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from adapt_experiment import adapt
from codesearch.embed.static import default_model_path
from codesearch.pipeline import build_index
def main():
    root, work = Path(sys.argv[1]), Path(sys.argv[2])
    shutil.rmtree(work, ignore_errors=True); work.mkdir(parents=True)
    t = time.perf_counter(); report = build_index(root, work / "idx"); index_s = time.perf_counter() - t
    t = time.perf_counter(); info = adapt(default_model_path(), work / "idx", work / "model", steps=300, anchor=1.0, new_tokens=1000)
    adapt_s = time.perf_counter() - t
    size = sum(f.stat().st_size for f in (work / "idx").iterdir() if f.is_file())
    print(json.dumps({"root": str(root), "chunks": report.chunks_total, "index_s": round(index_s, 1),
                      "embed_s": round(report.seconds.get("embed", 0.0), 1), "adapt_s": round(adapt_s, 1), **info,
                      "index_mb": round(size / 1e6, 1), "rows_mb_fp16": round(info.get("new_tokens", 0) * 256 * 2 / 1e6, 2)}))

if __name__ == "__main__":
    main()
