"""The workspace manifest and `search --workspace`, without Ray."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from codesearch.cli import cli
from codesearch.errors import CodeSearchError, IndexCorrupt, IndexNotFound
from codesearch.manifest import Manifest, read_sources
from codesearch.pipeline import build_index
from tests.conftest import write


def test_sources_from_a_listing_file_and_from_a_directory(tmp_path: Path) -> None:
    for name in ("a", "b", ".hidden"):
        (tmp_path / "repos" / name).mkdir(parents=True)
    (tmp_path / "repos" / "file.txt").write_text("x")
    assert read_sources(tmp_path / "repos") == [tmp_path / "repos" / "a", tmp_path / "repos" / "b"]
    listing = tmp_path / "list.txt"
    listing.write_text(f"# comment\n\nrepos/b\n{tmp_path / 'repos' / 'a'}\nrepos/b\n")
    assert read_sources(listing) == [tmp_path / "repos" / "b", tmp_path / "repos" / "a"]
    listing.write_text("# nothing\n")
    with pytest.raises(CodeSearchError, match="names no repository"):
        read_sources(listing)


def test_a_repository_keeps_its_name_and_new_names_are_unique(tmp_path: Path) -> None:
    manifest = Manifest(tmp_path / "ws")
    first = manifest.entry_for(tmp_path / "x" / "lib", "lib")
    second = manifest.entry_for(tmp_path / "y" / "lib", "lib")
    assert (first.name, second.name) == ("lib", "lib-2") and second.index == "indexes/lib-2"
    assert manifest.entry_for(tmp_path / "x" / "lib", "other") is first
    first.generation = 1
    manifest.save()
    again = Manifest.load(tmp_path / "ws")
    assert again.repos["lib"].root == str((tmp_path / "x" / "lib").resolve()) and again.repos["lib"].generation == 1
    assert not list((tmp_path / "ws").glob("*.tmp"))


def test_missing_damaged_and_empty_workspaces_fail_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(IndexNotFound, match="index-many"):
        Manifest.load(tmp_path)
    (tmp_path / "workspace.json").write_text("{not json")
    with pytest.raises(IndexCorrupt, match="index-many"):  # the fix of a workspace (a review: it said `index`)
        Manifest.load(tmp_path)
    (tmp_path / "workspace.json").write_text(json.dumps({"version": 99, "repos": {}}))
    with pytest.raises(IndexCorrupt, match="version-1 workspace manifest; run `codesearch index-many` again"):
        Manifest.load(tmp_path)
    (tmp_path / "workspace.json").write_text(json.dumps({"version": 1, "repos": {}}))
    with pytest.raises(IndexNotFound, match="no indexed repository"):
        Manifest.load(tmp_path).searchable()
    result = CliRunner().invoke(cli, ["search", "parse", "--workspace", str(tmp_path)])
    assert result.exit_code == 2 and "no indexed repository" in result.output


def test_search_workspace_made_by_hand(tmp_path: Path) -> None:
    """A manifest over ordinary indexes is searched as one corpus with the manifest's names."""
    write(tmp_path / "src" / "one", "net.py", 'def retry_request(url):\n    """Retry a failed http request."""\n')
    write(tmp_path / "src" / "two", "cfg.py", 'def parse_config(path):\n    """Parse a config file."""\n')
    manifest = Manifest(tmp_path / "ws")
    for name in ("one", "two"):
        entry = manifest.entry_for(tmp_path / "src" / name, f"team-{name}")
        entry.generation = build_index(tmp_path / "src" / name, manifest.index_dir(entry)).generation
    manifest.save()
    result = CliRunner().invoke(cli, ["search", "retry a failed http request", "--workspace", str(manifest.directory),
                                      "--json", "-k", "2"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["results"][0]["path"] == "team-one/net.py" and data["results"][0]["repo"] == "team-one"
    assert set(data["repos"]) == {"team-one", "team-two"}
    both = CliRunner().invoke(cli, ["search", "x", str(tmp_path), "--workspace", str(manifest.directory)])
    assert both.exit_code == 2 and "--workspace" in both.output


def test_unreadable_listing_and_unreachable_cluster_fail_in_one_line(tmp_path: Path) -> None:
    pytest.importorskip("ray")
    listing = tmp_path / "list.txt"
    listing.write_bytes(b"\xff\xfe not utf-8\n")
    with pytest.raises(CodeSearchError, match="cannot read the list"):
        read_sources(listing)
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    (tmp_path / "repos" / "a").mkdir(parents=True)
    result = CliRunner().invoke(cli, ["index-many", str(tmp_path / "repos"), "--out", str(tmp_path / "ws"),
                                      "--cluster", f"127.0.0.1:{port}"])
    assert result.exit_code == 2 and "cannot reach the Ray cluster" in result.output


def test_a_damaged_chunk_says_its_fix_once() -> None:
    """A security review: the error of a stored chunk's damaged code said "run `codesearch index --rebuild`" twice
    (its message, then the hint every damaged index gets)."""
    from codesearch.store.codec import unpack_code

    with pytest.raises(IndexCorrupt) as damaged:
        unpack_code(b"garbage")
    assert str(damaged.value).count("--rebuild") == 1


def _workspace_of_three(tmp_path: Path) -> Manifest:
    bodies = {"one": 'def retry_request(url):\n    """Retry a failed http request."""\n',
              "two": 'def retry_download(url):\n    """Retry a failed http download."""\n',
              "three": 'def retry_upload(url):\n    """Retry a failed http upload."""\n'}
    manifest = Manifest(tmp_path / "ws")
    for name, body in bodies.items():
        write(tmp_path / "src" / name, "net.py", body)
        entry = manifest.entry_for(tmp_path / "src" / name, name)
        entry.generation = build_index(tmp_path / "src" / name, manifest.index_dir(entry)).generation
    manifest.save()
    return manifest


def test_a_workspace_search_leaves_out_a_damaged_index_and_a_moved_repository_and_says_so(tmp_path: Path) -> None:
    """One damaged index stopped every search of a workspace, and a moved repository's hits were dropped
    without a word: both are left out, each named with its reason, and the others answer."""
    manifest = _workspace_of_three(tmp_path)
    (manifest.index_dir(manifest.repos["two"]) / "index.db").write_bytes(b"this is not a database" * 100)
    (tmp_path / "src" / "three").rename(tmp_path / "src" / "moved")
    result = CliRunner().invoke(cli, ["search", "retry a failed http request", "--workspace",
                                      str(manifest.directory), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {r["repo"] for r in data["results"]} == {"one"}
    assert set(data["left_out"]) == {"two", "three"} and "no longer exists" in data["left_out"]["three"]
    assert "warning: two left out" in result.stderr and "warning: three left out" in result.stderr
    assert "index-many" in result.stderr
    quiet = CliRunner().invoke(cli, ["search", "retry", "--workspace", str(manifest.directory), "-q"])
    assert quiet.exit_code == 0 and quiet.stderr == ""


def test_a_workspace_whose_every_index_is_damaged_fails_in_one_line(tmp_path: Path) -> None:
    manifest = _workspace_of_three(tmp_path)
    for entry in manifest.repos.values():
        (manifest.index_dir(entry) / "index.db").write_bytes(b"this is not a database" * 100)
    result = CliRunner().invoke(cli, ["search", "retry", "--workspace", str(manifest.directory)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output


def test_a_manifest_value_of_the_wrong_type_is_damage_in_one_line(tmp_path: Path) -> None:
    """A security review: `"generation": "1"` in workspace.json was a traceback; `"root": 5` was taken."""
    for field, value in (("generation", "1"), ("generation", [1]), ("root", 5), ("files", "x"), ("changed", 1)):
        entry = {"root": str(tmp_path / "r"), "index": "indexes/r", "status": "indexed", "files": 1, "chunks": 1,
                 "generation": 1, field: value}
        (tmp_path / "workspace.json").write_text(json.dumps({"version": 1, "repos": {"r": entry}}))
        result = CliRunner().invoke(cli, ["search", "retry", "--workspace", str(tmp_path)])
        assert result.exit_code == 2 and f"'r' has {field} {value!r}" in result.output, (field, result.output)
        assert "Traceback" not in result.output
