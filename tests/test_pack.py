"""Packs: several small repositories in one index (``codesearch.pack``), searched as a workspace."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from codesearch.errors import IndexConflict, IndexCorrupt
from codesearch.manifest import Manifest
from codesearch.multi import MultiSearcher
from codesearch.pack import Mounts, clashes
from codesearch.pipeline import build_index
from codesearch.search import PathFilter, Searcher
from codesearch.store.layout import KEY_SQL
from tests.conftest import edited_db, write
from tests.test_multi import NETWORK, PARSERS

STORAGE = '''
def connect_database(dsn):
    """Open a connection to the sql database."""
    return None
'''


@pytest.fixture
def repos(tmp_path: Path) -> dict[str, Path]:
    roots = {"cfg": tmp_path / "src" / "cfg", "net": tmp_path / "src" / "net", "db": tmp_path / "src" / "db"}
    write(roots["cfg"], "cfg/parsers.py", PARSERS)
    write(roots["net"], "net/client.py", NETWORK)
    write(roots["net"], "tests/test_client.py", "def test_retry():\n    assert True\n")
    write(roots["db"], "db.py", STORAGE)
    return roots


def _pack(tmp_path: Path, repos: dict[str, Path]) -> tuple[Path, Mounts]:
    root = tmp_path / "ws" / "packs" / "pack-00001"
    root.mkdir(parents=True)
    mounts = Mounts({name: str(path) for name, path in repos.items()})
    build_index(root, root / ".codesearch", mounts=mounts, workers=1)
    return root / ".codesearch", mounts


def _chunk_count(index_dir: Path) -> int:
    with edited_db(index_dir / "index.db") as db:
        return db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]


def test_mounts_split_paths_and_refuse_names_that_clash() -> None:
    mounts = Mounts({"a": "/r/a", "x/b": "/r/b"})
    assert mounts.split("a/src/m.py") == ("a", "/r/a", "src/m.py")
    assert mounts.split("x/b/m.py") == ("x/b", "/r/b", "m.py")
    assert mounts.split("x/m.py") is None and mounts.split("zz/m.py") is None and mounts.split("a") is None
    assert mounts.locate("/pack", "a/m.py") == ("/r/a", "m.py")
    assert Mounts().locate("/repo", "m.py") == ("/repo", "m.py")
    for bad in ({"a": "/r", "a/b": "/s"}, {"": "/r"}, {"../up": "/r"}, {"a//b": "/r"}, {"/abs": "/r"}):
        with pytest.raises(IndexCorrupt):
            Mounts(bad)
    assert clashes(["a/b", "a"]) == ("a", "a/b") and clashes(["a", "x/a/b"]) is None
    assert clashes(["ab", "a"]) is None and clashes(["a", "b"]) is None


def test_a_pack_holds_each_repository_as_indexed_alone(tmp_path: Path, repos: dict[str, Path]) -> None:
    root = tmp_path / "pack"
    root.mkdir()
    report = build_index(root, root / ".codesearch", mounts=Mounts({n: str(p) for n, p in repos.items()}), workers=1)
    for name, path in repos.items():
        alone = build_index(path, tmp_path / "alone" / name, workers=1)
        assert report.by_mount[name] == (alone.files, alone.chunks_total, True)
        with edited_db(tmp_path / "alone" / name / "index.db") as db:
            theirs = set(db.execute(f"SELECT {KEY_SQL}, content_hash FROM chunks"))
        with edited_db(root / ".codesearch" / "index.db") as db:
            ours = {(k, h) for p, k, h in db.execute(f"SELECT path, {KEY_SQL}, content_hash FROM chunks")
                    if p.startswith(f"{name}/")}
        assert ours == {(f"{name}/{key}", digest) for key, digest in theirs}  # a key starts with its file's path
    with edited_db(root / ".codesearch" / "index.db") as db:
        paths = sorted(p for (p,) in db.execute("SELECT path FROM files"))
    assert paths == ["cfg/cfg/parsers.py", "db/db.py", "net/net/client.py", "net/tests/test_client.py"]
    # Nothing changed: nothing is written; a repository leaves the pack: its files leave the index.
    again = build_index(root, root / ".codesearch", mounts=Mounts({n: str(p) for n, p in repos.items()}), workers=1)
    assert not again.changed and not any(changed for _, _, changed in again.by_mount.values())
    write(repos["db"], "db.py", STORAGE + "\n\ndef close_database(conn):\n    return None\n")
    edited = build_index(root, root / ".codesearch", mounts=Mounts({n: str(p) for n, p in repos.items()}), workers=1)
    assert {name for name, (_, _, changed) in edited.by_mount.items() if changed} == {"db"}
    fewer = build_index(root, root / ".codesearch", mounts=Mounts({"cfg": str(repos["cfg"])}), workers=1)
    assert fewer.changed and fewer.files == 1 and fewer.by_mount == {"cfg": report.by_mount["cfg"][:2] + (False,)}


def test_pack_results_name_their_repository_root_and_path(tmp_path: Path, repos: dict[str, Path]) -> None:
    index_dir, mounts = _pack(tmp_path, repos)
    with MultiSearcher([index_dir], names=["packs/pack-00001"], mounts=[mounts]) as multi:
        top = multi.search("retry a failed http request with backoff", 3)[0]
        assert (top.repo, top.root, top.path, top.local_path) == ("net", str(repos["net"]), "net/net/client.py",
                                                                  "net/client.py")
        assert top.qualname == "retry_request" and top.key == "net/client.py::retry_request" and not top.stale
        assert (Path(top.root) / top.local_path).read_text().splitlines()[top.start_line - 1].startswith("def retry")
        assert multi.roots == {name: str(path) for name, path in repos.items()}
        # Path globs match the path in the repository, as for a workspace of separate indexes.
        only = multi.search("open", 10, paths=PathFilter(include=("net/*",)))
        assert only and {r.repo for r in only} == {"net"} and all(r.local_path.startswith("net/") for r in only)
        assert not multi.search("open", 10, paths=PathFilter(include=("net/net/*",)))


def test_pack_results_are_checked_against_their_repository_never_the_pack_directory(
        tmp_path: Path, repos: dict[str, Path]) -> None:
    index_dir, mounts = _pack(tmp_path, repos)
    # A file under the pack's own directory with a stored path's name is never read.
    write(index_dir.parent, "net/net/client.py", "def retry_request():\n    return 'SECRET'\n")
    with MultiSearcher([index_dir], names=["packs/pack-00001"], mounts=[mounts]) as multi:
        top = multi.search("retry a failed http request", 1)[0]
        assert top.qualname == "retry_request" and "SECRET" not in top.code and not top.stale
        # The repository's file changed: the hit is re-read from it, and marked stale.
        client = repos["net"] / "net" / "client.py"
        client.write_text("\n\n" + NETWORK, encoding="utf-8")
        os.utime(client, ns=(1, 1))
        moved = multi.search("retry a failed http request", 1)[0]
        assert moved.stale and moved.start_line == top.start_line + 2
        client.unlink()
        assert all(r.repo != "net" or r.local_path != "net/client.py"
                   for r in multi.search("retry a failed http request", 5))
    # A Searcher of the pack alone resolves its hits the same way.
    with Searcher(index_dir, mounts=mounts) as searcher:
        hit = searcher.search("connect to the sql database", 1)[0]
        assert (hit.repo, hit.root, hit.local_path) == ("db", str(repos["db"]), "db.py")


def test_manifest_packs_small_repositories_and_lists_each_pack_once(tmp_path: Path) -> None:
    manifest = Manifest.load(tmp_path / "ws", missing_ok=True)
    entries = [manifest.entry_for(tmp_path / name, name) for name in ("a", "b", "c", "a/x")]
    manifest.pack([(entries[0], 6), (entries[1], 4)], capacity=10)
    manifest.pack([(entries[2], 1)], capacity=10)  # full: a new pack
    manifest.pack([(entries[3], 1)], capacity=10)  # "a/x" would clash with "a" (not in pack 1); fits pack 2
    assert [e.index for e in entries] == ["packs/pack-00001", "packs/pack-00001", "packs/pack-00002",
                                          "packs/pack-00002"]
    other = Manifest.load(tmp_path / "other", missing_ok=True)
    names = ["a/x", "a", "b", "a/x/y", "c"]
    sized = [(e, 1) for e in other.entries_for([tmp_path / "o" / str(n) for n in range(5)], names)]
    other.pack(sized, capacity=100)  # "a" clashes with "a/x" and "a/x/y" with "a": each starts a pack
    assert [e.index.rsplit("-", 1)[1] for e, _ in sized] == ["00001", "00002", "00002", "00003", "00003"]
    assert all(len(other.mounts(p).roots) >= 1 for p in other.packs())
    assert manifest.index_dir(entries[0]) == tmp_path / "ws" / "packs" / "pack-00001" / ".codesearch"
    assert manifest.mounts("packs/pack-00001").roots == {"a": str(tmp_path / "a"), "b": str(tmp_path / "b")}
    for entry in entries:
        entry.generation = 1
    for pack in manifest.packs():
        index = manifest.index_dir(manifest.members(pack)[0])
        index.mkdir(parents=True)
        (index / "index.db").write_bytes(b"")
    listed = manifest.searchable()
    assert [(item.name, sorted(item.mounts.roots)) for item in listed] == [
        ("packs/pack-00001", ["a", "b"]), ("packs/pack-00002", ["a/x", "c"])]
    # A repository added to a pack by a run that failed is not searched until the pack is built with it
    # (the pack's registration names the repositories it was last built with).
    late = manifest.entry_for(tmp_path / "late", "late")
    manifest.pack([(late, 1)], capacity=100)
    assert late.index == "packs/pack-00002" and late.generation == 0
    assert sorted(manifest.searchable()[1].mounts.roots) == ["a/x", "c"]
    manifest.save()
    assert [i.name for i in Manifest.load(tmp_path / "ws").searchable()] == ["packs/pack-00001", "packs/pack-00002"]
    # A manifest edited so that one pack holds clashing names is refused, not half-read.
    data = json.loads((tmp_path / "ws" / "workspace.json").read_text())
    data["repos"]["a/x"]["index"] = "packs/pack-00001"
    (tmp_path / "ws" / "workspace.json").write_text(json.dumps(data))
    with pytest.raises(IndexCorrupt, match="cannot share a pack"):
        Manifest.load(tmp_path / "ws")
    data["repos"]["a/x"]["index"] = "elsewhere/pack-00001"
    (tmp_path / "ws" / "workspace.json").write_text(json.dumps(data))
    with pytest.raises(IndexCorrupt, match="packs/"):
        Manifest.load(tmp_path / "ws")


def test_a_pack_opens_only_with_the_repositories_it_was_built_with(tmp_path: Path, repos: dict[str, Path]) -> None:
    index_dir, mounts = _pack(tmp_path, repos)
    with pytest.raises(IndexConflict, match="--workspace"):  # alone, its paths would be read under the pack
        Searcher(index_dir)
    # A manifest edited to send a repository's name to another directory (a home, a key folder) is refused.
    elsewhere = tmp_path / "home"
    write(elsewhere, "net/client.py", "def retry_request():\n    return 'SECRET'\n")
    for edited in ({**mounts.roots, "net": str(elsewhere)}, {"net": mounts.roots["net"]}):
        with pytest.raises(IndexConflict, match="index-many"):
            Searcher(index_dir, mounts=Mounts(edited))
        with pytest.raises(IndexConflict):
            MultiSearcher([index_dir], names=["p"], mounts=[Mounts(edited)])
    # `codesearch index` on the pack's directory would find no file there and empty it: refused.
    before = _chunk_count(index_dir)
    with pytest.raises(IndexConflict, match="index-many"):
        build_index(index_dir.parent, index_dir, workers=1)
    assert _chunk_count(index_dir) == before > 0
    single = build_index(repos["db"], tmp_path / "db-index", workers=1).index_dir
    with pytest.raises(IndexConflict, match="not a pack"):
        Searcher(Path(single), mounts=mounts)


def test_a_stored_path_that_climbs_out_of_its_repository_is_never_read(tmp_path: Path, repos: dict[str, Path]) -> None:
    index_dir, mounts = _pack(tmp_path, repos)
    write(tmp_path / "src", "secret.py", "def retry_request():\n    return 'SECRET'\n")
    forged = "net/../secret.py"  # as if the index had been edited: under net's root, one level up
    with edited_db(index_dir / "index.db") as db:
        # chunks name their file's row, and keys follow paths: the file's path is the one to forge
        db.execute("UPDATE files SET path = ?, size = -1 WHERE path = 'net/net/client.py'", [forged])
    with MultiSearcher([index_dir], names=["packs/pack-00001"], mounts=[mounts]) as multi:
        results = multi.search("retry a failed http request", 10)
    assert all("SECRET" not in r.code and ".." not in r.path for r in results)
    assert not any(r.qualname == "retry_request" for r in results)  # its file cannot be read: gone


def test_build_twins_never_fold_across_the_repositories_of_a_pack(tmp_path: Path) -> None:
    """A pack's paths start with their repository's name: two repositories called `lib` and `dist` whose
    `x.js` define the same function are two results, not one the other's build (``pool.pick``'s ``twin_of``
    takes the path in its repository)."""
    roots = {"lib": tmp_path / "src" / "lib", "dist": tmp_path / "src" / "dist"}
    for n, root in enumerate(roots.values()):
        write(root, "x.js", f"/** Retry a failed http request with backoff. */\nexport function retryRequest(url) {{\n"
                            f"  return fetch(url, {{ attempt: {n} }});\n}}\n")
    index_dir, mounts = _pack(tmp_path, roots)
    with MultiSearcher([index_dir], names=["packs/pack-00001"], mounts=[mounts]) as multi:
        found = [r for r in multi.search("retry a failed http request", 5) if r.qualname == "retryRequest"]
    assert sorted(r.repo for r in found) == ["dist", "lib"] and not any(r.similar for r in found)


def test_related_keeps_the_same_function_of_another_repository_of_a_pack(tmp_path: Path) -> None:
    """``related`` leaves out the source's copies in build twins of its file, within the source's repository:
    `dist/x.js` of a repository called `dist` is not a build of `lib/x.js` of one called `lib`."""
    from codesearch.related import at_line, related

    roots = {"lib": tmp_path / "src" / "lib", "dist": tmp_path / "src" / "dist"}
    for n, root in enumerate(roots.values()):
        write(root, "x.js", f"/** Retry a failed http request with backoff. */\nexport function retryRequest(url) {{\n"
                            f"  return fetch(url, {{ attempt: {n} }});\n}}\n")
    index_dir, mounts = _pack(tmp_path, roots)
    with Searcher(index_dir, mounts=mounts) as searcher:
        found = related(searcher, at_line(searcher, "lib/x.js", 3), k=5)
    assert [r.path for r in found if r.qualname == "retryRequest"] == ["dist/x.js"]


def test_a_workspace_search_names_a_packed_repository_that_moved(tmp_path: Path, repos: dict[str, Path]) -> None:
    """A pack's repository that moved away had its hits dropped without a word: it is named, the others answer."""
    index_dir, mounts = _pack(tmp_path, repos)
    repos["db"].rename(tmp_path / "src" / "db-moved")
    with MultiSearcher([index_dir], names=["pack-00001"], mounts=[mounts], keep_going=True) as multi:
        assert set(multi.left_out) == {"db"} and "is gone" in multi.left_out["db"]
        assert multi.search("open a connection to the sql database", 3)[0].repo != "db"
    with MultiSearcher([index_dir], mounts=[mounts]) as multi:  # several PATHs: as before, nothing left out
        assert multi.left_out == {}
