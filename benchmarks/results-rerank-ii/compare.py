"""Compare bench runs: two-stage (per reranker) against the hybrid first stage of the same run."""
import json, sys
runs = [a.split("=") for a in sys.argv[1:]]
def val(v, metric):
    return v if isinstance(v, (int, float)) else v.get(metric, v.get("ndcg@10"))
def table(title, key, metric, which):
    data = {label: json.load(open(f"{d}/results.json"))[which]["systems"] for label, d in runs}
    first = data[runs[0][0]]["hybrid"]
    names = list(first[key]) if key else [None]
    print(f"\n{title}\n")
    print("| system | " + " | ".join(n or metric for n in names) + " |")
    print("|---|" + "---|" * len(names))
    def row(label, s):
        return f"| {label} | " + " | ".join(f"{val(s[key][n] if key else s[metric], metric):.3f}" for n in names) + " |"
    print(row("hybrid", first))
    for label, _ in runs:
        print(row(f"two-stage {label}", data[label]["two-stage"]))
    worst = {label: min(val(data[label]["two-stage"][key][n] if key else data[label]["two-stage"][metric], metric)
                        - val(first[key][n] if key else first[metric], metric) for n in names) for label, _ in runs}
    print("\nworst loss vs hybrid: " + ", ".join(f"{l} {w:+.3f}" for l, w in worst.items()))
for which, metric in ((0, "ndcg@10"),):
    table("semble-dev NDCG@10 overall", None, metric, 0)
    table("semble-dev per language", "per_language", metric, 0)
    table("semble-dev per category", "per_category", metric, 0)
for metric in ("recall@5", "mrr", "ndcg@10"):
    table(f"plain-English {metric}", None, metric, 1)
table("plain-English NDCG@10 per language", "per_language", "ndcg@10", 1)
print("\np50 ms (semble, plain-English):")
for label, d in runs:
    x = json.load(open(f"{d}/results.json"))
    print(label, {s: [round(x[i]["systems"][s]["query_ms_p50"], 1) for i in (0, 1)] for s in ("hybrid", "two-stage")})
