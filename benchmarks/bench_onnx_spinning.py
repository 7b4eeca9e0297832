"""The reranker's encode throughput with ONNX threads that spin or sleep, idle and loaded.

`index --deep` encodes every chunk with the reranker (onnxruntime). Its threads spin while
they wait for work by default, which costs nothing on an idle machine and loses to any other
busy process. This script encodes the same chunk texts (from an existing index) with each
setting, alternating, on an idle machine and with one busy-looping process beside it, and
prints chunks/s; compare the rows of one run.

    python benchmarks/bench_onnx_spinning.py ~/.cache/codesearch/semble-index/flask
"""

from __future__ import annotations

import argparse
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import onnxruntime as ort

from codesearch.rerank import load_reranker
from codesearch.store.codec import unpack_code


def encoder_with(spin: bool, threads: int):  # noqa: ANN201 - the reranker's ONNX encoder
    """The shipped reranker's encoder on a session with the given thread settings."""
    reranker = load_reranker()
    encoder = next(o for o in (reranker, *vars(reranker).values()) if hasattr(o, "session"))
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.log_severity_level = 3
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin else "0")
    encoder.session = ort.InferenceSession(str(encoder.path / "model.onnx"), options,
                                           providers=["CPUExecutionProvider"])
    return encoder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("index_dir", type=Path, help="an index directory (its chunks are encoded)")
    parser.add_argument("--chunks", type=int, default=400)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    with sqlite3.connect(args.index_dir / "index.db") as conn:
        texts = [unpack_code(row[0]) for row in conn.execute("SELECT code_z FROM chunks LIMIT ?", (args.chunks,))]
    print("| machine | spinning | chunks/s |\n|---|---|---|")  # noqa: T201
    for machine in ("idle", "one busy process"):
        busy = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if machine != "idle" else None
        try:
            for spin in (True, False, True, False):
                encoder = encoder_with(spin, args.threads)
                encoder.encode(texts[:32], encoder.doc_tokens)  # warm-up
                started = time.perf_counter()
                encoder.encode(texts, encoder.doc_tokens)
                print(f"| {machine} | {'yes' if spin else 'no'} | {len(texts) / (time.perf_counter() - started):.0f} |")  # noqa: T201
        finally:
            if busy is not None:
                busy.kill()


if __name__ == "__main__":
    main()
