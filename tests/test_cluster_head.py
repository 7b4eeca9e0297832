"""index-many and workspace search against a cluster started by `ray start --head` on 127.0.0.1.

Its own module: `ray stop` ends every Ray process of this machine, so it must not run
while test_cluster.py's cluster is up (module fixtures are torn down between files).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("ray")

from tests.conftest import ROOT  # noqa: E402

BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_index_many_on_a_head_started_with_ray_start(tmp_path: Path) -> None:
    port = _free_port()
    ray = str(BIN / "ray")
    # A cluster of `ray start` needs its token in every client (Ray >= 2.59 turns token auth on).
    env = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)}
    started = subprocess.run([ray, "start", "--head", "--node-ip-address", "127.0.0.1", "--port", str(port),
                              "--num-cpus", "2", "--include-dashboard", "false", "--disable-usage-stats"],
                             capture_output=True, text=True, timeout=120, env=env)
    assert started.returncode == 0, started.stderr
    try:
        sources = tmp_path / "repos"
        for name in ("python", "go", "ruby"):
            shutil.copytree(ROOT / "sample_repos" / name, sources / name,
                            ignore=shutil.ignore_patterns(".codesearch"))
        out = tmp_path / "ws"
        run = subprocess.run([str(BIN / "codesearch"), "index-many", str(sources), "--out", str(out),
                              "--cluster", f"127.0.0.1:{port}", "--json"],
                             capture_output=True, text=True, timeout=300, env=env)
        assert run.returncode == 0, run.stderr
        report = json.loads(run.stdout)
        assert report["indexed"] == 3 and report["failed"] == 0
        found = subprocess.run([str(BIN / "codesearch"), "search", "retry a failed http request",
                                "--workspace", str(out), "--json", "-k", "3"],
                               capture_output=True, text=True, timeout=120)
        assert found.returncode == 0, found.stderr
        results = json.loads(found.stdout)["results"]
        assert results[0]["path"].startswith("python/") and results[0]["repo"] == "python"
    finally:
        subprocess.run([ray, "stop", "--force"], capture_output=True, timeout=120, env=env)


def test_index_many_from_inside_a_hostile_repository_imports_none_of_its_code(tmp_path: Path) -> None:
    """Ray puts the driver's working directory on its workers' sys.path; ours start elsewhere."""
    hostile = tmp_path / "repos" / "hostile"
    marker = tmp_path / "payload-ran"
    for module in ("numpy", "faiss", "tree_sitter", "sqlite_utils", "tokenizers"):
        (hostile / module).mkdir(parents=True)
        (hostile / module / "__init__.py").write_text(f"open({str(marker)!r}, 'a').write('{module}\\n')\n")
    (hostile / "app.py").write_text("def retry_request(url):\n    return url\n")
    shutil.copytree(ROOT / "sample_repos" / "go", tmp_path / "repos" / "go", ignore=shutil.ignore_patterns(".codesearch"))
    run = subprocess.run([str(BIN / "codesearch"), "index-many", str(tmp_path / "repos"), "--out", str(tmp_path / "ws"),
                          "--cpus", "2", "--shard-files", "1", "--json"],
                         cwd=hostile, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["indexed"] == 2
    assert not marker.exists(), marker.read_text()
