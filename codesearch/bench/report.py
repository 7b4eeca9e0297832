"""Benchmark reports: a markdown table, a JSON file and PNG plots (matplotlib, optional)."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from codesearch.bench.runner import DISTRACTORS, BenchResult

METRICS = ("mrr", "ndcg@10", "recall@1", "recall@5", "recall@10", "mean_rank")


def to_markdown(result: BenchResult) -> str:
    """Overall table per protocol, then MRR per language."""
    lines = [
        f"Dataset: {result.dataset}",
        f"Queries per language: {_counts(result.queries_per_language)}; documents per language: "
        f"{_counts(result.corpus_per_language)}; seed {result.seed}",
    ]
    if result.gap_chunks:
        lines.append(f"Documents no wrapper makes a definition of (embedded as gap chunks, which rank below "
                     f"definitions): {_counts(result.gap_chunks)}")
    for protocol in sorted({r.protocol for r in result.results}):
        rows = [r for r in result.results if r.protocol == protocol]
        title = "full-corpus retrieval" if protocol == "full" else _distractor_title(result)
        lines += ["", f"**{title}** (mean over languages)", ""]
        head = ["system", *METRICS]
        if protocol == "full":
            head += ["index s", "encode docs/s", "query p50 ms", "query p95 ms"]
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for row in rows:
            cells = [row.system] + [_fmt(row.overall[m]) for m in METRICS]
            if protocol == "full":
                cells += [_fmt(row.cost.get(k, 0.0)) for k in ("index_seconds", "encode_per_second",
                                                                "query_p50_ms", "query_p95_ms")]
            lines.append("| " + " | ".join(cells) + " |")
        languages = sorted(rows[0].per_language) if rows else []
        lines += ["", f"MRR per language ({protocol})", "", "| system | " + " | ".join(languages) + " |",
                  "|" + "---|" * (len(languages) + 1)]
        for row in rows:
            lines.append(f"| {row.system} | " + " | ".join(_fmt(row.per_language[lang]["mrr"]) for lang in languages) + " |")
    for name, why in result.skipped.items():
        lines.append(f"\nSkipped {name}: {why}")
    return "\n".join(lines)


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{language} {n:,}" for language, n in sorted(counts.items()))


def _distractor_title(result: BenchResult) -> str:
    """The distractor protocol as it really ran: 1 true document vs up to 999 others of its language."""
    others = sorted({min(DISTRACTORS, n - 1) for n in result.corpus_per_language.values()})
    if others == [DISTRACTORS]:
        return f"1 true vs {DISTRACTORS} distractors"
    span = f"{others[0]:,}" if len(others) == 1 else f"{others[0]:,} to {others[-1]:,}"
    return f"1 true vs {span} distractors (every other document of its language; the protocol takes up to {DISTRACTORS})"


def _fmt(value: float) -> str:
    return f"{value:.3f}" if abs(value) < 100 else f"{value:,.0f}"


def write(result: BenchResult, output: Path) -> list[Path]:
    """Write report.md, results.json and (if matplotlib is installed) PNG plots."""
    output.mkdir(parents=True, exist_ok=True)
    written = [output / "report.md", output / "results.json"]
    written[0].write_text(to_markdown(result) + "\n")
    written[1].write_text(json.dumps(asdict(result), indent=2) + "\n")
    written += _plots(result, output)
    return written


def _plots(result: BenchResult, output: Path) -> list[Path]:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    paths = []
    full = [r for r in result.results if r.protocol == "full"]
    if not full:
        return []
    languages = sorted(full[0].per_language)
    width = 0.8 / len(full)
    fig, ax = plt.subplots(figsize=(9, 4))
    for i, row in enumerate(full):
        ax.bar([x + i * width for x in range(len(languages))], [row.per_language[lang]["mrr"] for lang in languages],
               width, label=row.system)
    ax.set_xticks([x + width * (len(full) - 1) / 2 for x in range(len(languages))], languages)
    ax.set_ylabel("MRR (full corpus)")
    ax.set_ylim(0, 1)
    ax.legend()
    ax.set_title("MRR per language")
    fig.tight_layout()
    paths.append(output / "mrr_per_language.png")
    fig.savefig(paths[-1], dpi=120)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 4))
    for row in full:
        qps = 1000.0 / row.cost["query_p50_ms"] if row.cost.get("query_p50_ms") else 0.0
        ax.scatter([qps], [row.overall["mrr"]], s=60)
        ax.annotate(row.system, (qps, row.overall["mrr"]), textcoords="offset points", xytext=(5, 5))
    ax.set_xscale("log")
    ax.set_xlabel("queries per second (1 / p50 latency)")
    ax.set_ylabel("MRR (full corpus, mean over languages)")
    ax.set_title("Quality against speed")
    fig.tight_layout()
    paths.append(output / "quality_vs_speed.png")
    fig.savefig(paths[-1], dpi=120)
    plt.close(fig)
    return paths
