"""A new user's first hour VIII: what this round's users found (2026-12-07, thirteenth round). Each test fails on the
commit before its fix."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import stat
from importlib import resources

import click
import pytest
from click.testing import CliRunner

from codesearch.cli import cli
from codesearch.freshness import unindexed_files
from codesearch.search import Searcher
from codesearch.store.layout import APPLICATION_ID
from codesearch.store.trust import foreign_journal
from tests.conftest import SAMPLE_REPOS, die_after, write


def _indexed_sample(tmp_path):  # type: ignore[no-untyped-def]
    repo = tmp_path / "repo"
    shutil.copytree(SAMPLE_REPOS / "python", repo, ignore=shutil.ignore_patterns(".codesearch"))
    assert CliRunner().invoke(cli, ["index", str(repo), "-q"]).exit_code == 0
    return repo


def test_a_search_names_the_files_added_since_the_last_index_run(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A file written after `codesearch index` was not searched, and nothing said so: a new user wrote
    `retry_request`, searched for it and got other code. The search names the files it does not search (text:
    a first line, JSON: `unindexed`), from where the user is; after the next index run, nothing."""
    repo = _indexed_sample(tmp_path)
    assert "Not searched" not in CliRunner().invoke(cli, ["search", "retry a failed request", str(repo)]).output
    write(repo, "pkg/fresh/added.py", "def retry_request(url):\n    return url\n")
    write(repo, "notes.md", "# prose is no source\n")
    text = CliRunner().invoke(cli, ["search", "retry a failed request", str(repo)]).output
    first = text.splitlines()[0]
    assert first.startswith("Not searched: 1 file added since the last index run (")
    assert "pkg/fresh/added.py" in first and "notes.md" not in text and "run `codesearch index`" in first
    payload = json.loads(CliRunner().invoke(cli, ["search", "retry a failed request", str(repo), "--json"]).output)
    assert payload["unindexed"] == {"files": 1, "paths": ["pkg/fresh/added.py"], "root": str(repo.resolve())}
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(resources.files("codesearch").joinpath("schema", "search.schema.json").read_text())
    jsonschema.validate(payload, schema)
    monkeypatch.chdir(repo / "pkg")
    assert "(fresh/added.py)" in CliRunner().invoke(cli, ["search", "retry a failed request", "."]).output
    filtered = CliRunner().invoke(cli, ["search", "retry a failed request", str(repo), "-p", "httpkit"]).output
    assert "Not searched" not in filtered  # a file the path filter leaves out is not named (the recheck)
    assert "Not searched" in CliRunner().invoke(cli, ["search", "retry", str(repo), "-p", "pkg/*"]).output
    assert CliRunner().invoke(cli, ["index", str(repo), "-q"]).exit_code == 0
    again = CliRunner().invoke(cli, ["search", "retry a failed request", str(repo), "--json"]).output
    assert "unindexed" not in json.loads(again)


def test_grep_and_jsonl_output_name_the_files_added_since_the_last_index_run_on_stderr(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The recheck: `--format grep` and `jsonl` (what an agent's script reads, a hit a line) said nothing of a file
    added since the last index run. The note goes to standard error there, so every line of the output is still
    a hit; from the console script (its fast path), a resident process and the CLI alike."""
    import subprocess
    import sys

    repo = _indexed_sample(tmp_path)
    write(repo, "pkg/fresh/added.py", "def retry_request(url):\n    return url\n")
    for fmt in ("grep", "jsonl"):
        result = CliRunner().invoke(cli, ["search", "retry a failed request", str(repo), "--format", fmt])
        assert result.exit_code == 0 and result.stdout.strip()
        assert "Not searched" not in result.stdout, fmt
        assert result.stderr.startswith("Not searched: 1 file added since the last index run"), result.stderr
    script = "import sys; from codesearch.entry import main; sys.argv = ['codesearch', *sys.argv[1:]]; main()"
    ran = subprocess.run([sys.executable, "-c", script, "search", "retry a failed request", str(repo), "--format",
                          "grep", "--no-resident"], capture_output=True, text=True)
    assert ran.returncode == 0 and ran.stdout.strip() and "Not searched" not in ran.stdout
    assert "pkg/fresh/added.py" in ran.stderr
    quiet = CliRunner().invoke(cli, ["search", "retry a failed request", str(repo), "--format", "grep", "-q"])
    assert "Not searched" not in quiet.stderr


def test_a_search_of_several_repositories_names_the_files_added_in_each(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The recheck: `search Q A B` said nothing of the files added since the last index runs, where a search of one
    repository names them. The note counts every repository's, with paths under their common directory."""
    for name in ("alpha", "beta"):
        shutil.copytree(SAMPLE_REPOS / "python", tmp_path / name, ignore=shutil.ignore_patterns(".codesearch"))
        assert CliRunner().invoke(cli, ["index", str(tmp_path / name), "-q"]).exit_code == 0
    write(tmp_path / "beta", "pkg/added.py", "def retry_request(url):\n    return url\n")
    write(tmp_path / "alpha", "other.py", "def fetch_again(url):\n    return url\n")
    monkeypatch.chdir(tmp_path)
    text = CliRunner().invoke(cli, ["search", "retry a failed request", "alpha", "beta"]).output
    assert text.splitlines()[0] == ("Not searched: 2 files added since the last index run (alpha/other.py, "
                                    "beta/pkg/added.py); run `codesearch index` to add them."), text
    asked = ["search", "retry a failed request", "alpha", "beta", "--json"]
    payload = json.loads(CliRunner().invoke(cli, asked).output)
    assert payload["unindexed"] == {"files": 2, "paths": ["alpha/other.py", "beta/pkg/added.py"],
                                    "root": str(tmp_path.resolve())}
    filtered = CliRunner().invoke(cli, ["search", "retry", "alpha", "beta", "-p", "beta/*"]).output
    assert "(beta/pkg/added.py)" in filtered.splitlines()[0]  # the path filter keeps to beta's
    assert CliRunner().invoke(cli, ["index", "beta", "-q"]).exit_code == 0
    assert CliRunner().invoke(cli, ["index", "alpha", "-q"]).exit_code == 0
    again = CliRunner().invoke(cli, ["search", "retry a failed request", "alpha", "beta"]).output
    assert "Not searched" not in again


def test_copies_are_named_from_where_the_hits_are(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A new user, in got's dist/source/core: the hit read `index.js:184-190 HTTPError` (from the working directory)
    and its note `+1 near-copies at dist/source/core/index.d.ts:979` (from the repository's root), a path that is
    not there from where they stood. Copies are named as the hits are, in search and in related's header."""
    repo = tmp_path / "repo"
    body = "def parse_retry_after(header):\n    seconds = int(header)\n    return max(seconds, 0)\n"
    write(repo, "pkg/core/a.py", body)
    write(repo, "pkg/other/b.py", body)
    assert CliRunner().invoke(cli, ["index", str(repo), "-q"]).exit_code == 0
    monkeypatch.chdir(repo / "pkg" / "core")
    text = CliRunner().invoke(cli, ["search", "parse_retry_after", "-k", "1"]).output
    assert "a.py:1" in text and "+1 identical at ../other/b.py:1" in text, text
    related = CliRunner().invoke(cli, ["related", "a.py:2"]).output
    assert "identical at ../other/b.py:1" in related.splitlines()[0], related
    monkeypatch.chdir(repo)
    assert "+1 identical at pkg/other/b.py:1" in CliRunner().invoke(cli, ["search", "parse_retry_after"]).output


def test_the_cli_reference_calls_no_option_repeatable_that_refuses_a_second_value() -> None:
    """A new user read `-s, --symbol | NAME, repeatable` in docs/CLI.md and got "give --symbol once" (exit 2): an
    option taken as multiple only to refuse a second value is not repeatable in the reference."""
    from codesearch.devcli import accepts

    for command in cli.commands.values():
        for option in command.params:
            refuses = getattr(getattr(option, "callback", None), "taken_once", False)
            if isinstance(option, click.Option) and option.multiple:
                assert ("repeatable" in accepts(option)) != refuses, (command.name, option.name)
    symbol = next(o for o in cli.commands["related"].params if o.name == "symbol")
    assert accepts(symbol) == "NAME"  # type: ignore[arg-type]
    twice = CliRunner().invoke(cli, ["related", "--symbol", "DigestAuth", "--symbol", "BasicAuth"])
    assert twice.exit_code == 2 and "give --symbol once" in twice.output


def test_a_path_filter_that_matches_only_outside_the_directory_searched_says_so(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A new user in httpx's tests/ ran `search "digest auth" -p 'httpx/*'` and read only "No results.": the search
    keeps to the directory it runs in, and the glob matches files outside it. The note says so and names --all."""
    repo = tmp_path / "repo"
    write(repo, "httpx/_auth.py", "def digest_auth(challenge):\n    return challenge\n")
    write(repo, "tests/test_auth.py", "def test_digest():\n    assert True\n")
    assert CliRunner().invoke(cli, ["index", str(repo), "-q"]).exit_code == 0
    monkeypatch.chdir(repo / "tests")
    result = CliRunner().invoke(cli, ["search", "digest auth", "-p", "httpx/*"])
    assert result.exit_code == 1
    assert "no indexed file below tests matches path 'httpx/*'" in result.output and "--all" in result.output
    assert "digest_auth" in CliRunner().invoke(cli, ["search", "digest auth", "-p", "httpx/*", "--all"]).output
    relative = CliRunner().invoke(cli, ["search", "digest auth", "-p", "../httpx/*"])  # as printed from tests/
    assert "no indexed file below tests matches path '../httpx/*'" in relative.output, relative.output
    assert CliRunner().invoke(cli, ["search", "digest auth", "-p", "test_auth.py"]).exit_code == 0


def test_the_index_summary_counts_the_files_removed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A new user deleted a file and read `(2 files parsed, +5 -26 chunks)`: only `--json` had `files_removed`."""
    repo = tmp_path / "repo"
    write(repo, "a.py", "def one():\n    return 1\n")
    write(repo, "b.py", "def two():\n    return 2\n")
    assert CliRunner().invoke(cli, ["index", str(repo), "-q"]).exit_code == 0
    (repo / "b.py").unlink()
    out = CliRunner().invoke(cli, ["index", str(repo)]).output
    assert "(0 files parsed, 1 file removed, +0 -1 chunks)" in out, out


def test_only_added_source_files_below_the_searched_directory_are_named(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A directory whose mtime changed for an editor's swap file or for prose has nothing to report; a file added
    elsewhere is not named by a search of a subdirectory; an index written before directories were recorded
    (or forged to name paths outside the repository) is not checked."""
    repo = _indexed_sample(tmp_path)
    write(repo, ".app.py.swp", b"\x00vim swap")
    write(repo, "CHANGES.txt", "prose\n")
    with Searcher(repo / ".codesearch") as searcher:
        assert unindexed_files(searcher) is None
    write(repo, "other/new_module.py", "def added():\n    pass\n")
    sub = next(p.name for p in sorted(repo.iterdir()) if p.is_dir() and not p.name.startswith(".")
               and p.name != "other")
    with Searcher(repo / ".codesearch") as searcher:
        found = unindexed_files(searcher)
        assert found is not None and found.paths == ("other/new_module.py",)
        assert unindexed_files(searcher, under=sub) is None
        assert unindexed_files(searcher, under="other").count == 1  # type: ignore[union-attr]
    db = sqlite3.connect(repo / ".codesearch" / "index.db")
    with db:
        db.execute("DELETE FROM directories")
        db.executemany("INSERT INTO directories VALUES (?, ?)", [("../..", 1), ("/etc", 1), ("a/../../b", 1)])
    db.close()
    with Searcher(repo / ".codesearch") as searcher:
        assert unindexed_files(searcher) is None  # no plain relative path: never looked at
    db = sqlite3.connect(repo / ".codesearch" / "index.db")
    with db:
        db.execute("DROP TABLE directories")
    db.close()
    with Searcher(repo / ".codesearch") as searcher:
        assert unindexed_files(searcher) is None


def _forge_journal(index_dir) -> None:  # type: ignore[no-untyped-def]
    """What a repository's attacker ships (security review, 2026-12-07, thirteenth round): a write-ahead log that
    SQLite would replay over the index this user built, rewriting a chunk's doc and keeping the index id. Made
    here by a process that changes the database and dies before SQLite folds its log in."""
    die_after(index_dir / "index.db", ["PRAGMA wal_autocheckpoint = 0", "UPDATE chunk_rows SET doc = 'INJECTED' WHERE "
                                       "id = (SELECT min(id) FROM chunk_rows WHERE doc != '')"])


def test_a_write_ahead_log_the_repository_ships_is_never_replayed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A `git pull` could write a tracked `.codesearch/index.db-wal` into the index directory, and SQLite replayed it
    over the user's own index: search printed code and docs that are in no file, `stale: false` (and the next index
    run kept them). Search refuses such a log, naming the run that removes it; that run deletes it unread."""
    repo = _indexed_sample(tmp_path)
    index_dir = repo / ".codesearch"
    _forge_journal(index_dir)
    refused = CliRunner().invoke(cli, ["search", "retry a failed request", str(repo)])
    assert refused.exit_code == 2 and "index.db-wal was not written by codesearch" in refused.output
    assert "run `codesearch index`" in refused.output
    ran = CliRunner().invoke(cli, ["index", str(repo)])
    assert ran.exit_code == 0 and "beside the index (index.db-wal" in ran.output and "was not left by your last run" in ran.output
    with Searcher(index_dir) as searcher:
        docs = [row[0] for row in searcher.reader.conn.execute("SELECT doc FROM chunks")]
    assert docs and "INJECTED" not in docs
    assert "INJECTED" not in CliRunner().invoke(cli, ["search", "retry a failed request", str(repo), "--json"]).output


def test_a_run_killed_after_writing_only_its_header_counters_leaves_a_trusted_log(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A kill loop (SIGKILL at random moments of `codesearch index`, then a search) met "index.db-wal was not
    written by codesearch" after 2-3 in 100 runs: the run's first write (its `application_id`) restarts SQLite's
    log under new salts, and a run killed before it registers them left a log no registry knew. A log that
    changes nothing but the header's counters is not foreign (nothing in it changes what a reader reads); one
    that changes anything else of the first page still is."""
    repo = _indexed_sample(tmp_path)
    index_dir = repo / ".codesearch"
    die_after(index_dir / "index.db", [f"PRAGMA application_id = {APPLICATION_ID}", "PRAGMA user_version = 7"])
    searched = CliRunner().invoke(cli, ["search", "retry a failed request", str(repo), "--format", "grep"])
    assert searched.exit_code == 0 and "not written by codesearch" not in searched.output
    ran = CliRunner().invoke(cli, ["index", str(repo)])
    assert ran.exit_code == 0 and "was not left by your last run" not in ran.output
    die_after(index_dir / "index.db", ["PRAGMA user_version = 8"])
    wal = index_dir / "index.db-wal"
    frames = bytearray(wal.read_bytes())
    assert int.from_bytes(frames[32 + 4:32 + 8], "big") > 1  # the commit's database size, in pages
    frames[32 + 4:32 + 8] = (1).to_bytes(4, "big")  # the same first page, a database cut to it
    wal.write_bytes(bytes(frames))
    assert foreign_journal(index_dir)
    wal.unlink()
    die_after(index_dir / "index.db", ["PRAGMA application_id = 7"])  # the first page alone, and more than a counter
    refused = CliRunner().invoke(cli, ["search", "retry a failed request", str(repo)])
    assert refused.exit_code == 2 and "index.db-wal was not written by codesearch" in refused.output


def test_an_index_run_never_takes_the_salts_of_a_log_it_did_not_start(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Red team, second session: a shipped log that replays nothing harmful (a header counter) was let be, the next
    index run appended to it and registered its salts, and a second shipped log under those salts forged rows that
    search printed and index runs kept. The run now empties such a log first: SQLite's next draws its own salt."""
    from codesearch.store import trust
    from codesearch.store.indexdir import wal_salts

    repo = _indexed_sample(tmp_path)
    index_dir = repo / ".codesearch"
    die_after(index_dir / "index.db", ["PRAGMA user_version = 9"])
    shipped = wal_salts(index_dir)
    assert shipped and not foreign_journal(index_dir)  # nothing harmful to replay: let be
    assert CliRunner().invoke(cli, ["index", str(repo), "-q"]).exit_code == 0
    with Searcher(index_dir) as searcher:
        index_id = searcher.reader.conn.execute("SELECT value FROM meta WHERE key = ?", [trust.ID_KEY]).fetchone()[0]
    registered = trust.lookup(index_id)
    assert registered is not None and registered.wal not in ("", shipped)


def test_a_log_of_another_page_size_than_the_database_is_foreign(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Red team, second session: a log of 512-byte pages whose one frame is the first 512 bytes of the database's
    first page, a counter changed, passed the header-only rule (SQLite read the database through it as
    malformed). A log of another page size is nothing an index run left."""
    repo = _indexed_sample(tmp_path)
    index_dir = repo / ".codesearch"
    die_after(index_dir / "index.db", ["PRAGMA user_version = 5"])
    assert not foreign_journal(index_dir)
    wal = index_dir / "index.db-wal"
    data = bytearray(wal.read_bytes())
    data[8:12] = (512).to_bytes(4, "big")
    wal.write_bytes(bytes(data))
    assert foreign_journal(index_dir)


def test_a_journal_the_repository_ships_as_a_link_is_removed_by_the_next_index_run(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Red team, second session: `.codesearch/index.db-wal` as a symlink (git tracks one), or `-shm`, `-journal`, or
    a hard link, made search, index and index --rebuild refuse the index until removed by hand. The next index run
    removes the link (nothing read or written through it) and says so; search then works."""
    repo = _indexed_sample(tmp_path)
    index_dir = repo / ".codesearch"
    target = tmp_path / "outside"
    target.write_bytes(b"not a log")
    for name in ("index.db-wal", "index.db-shm", "index.db-journal"):
        (index_dir / name).symlink_to(target)
        refused = CliRunner().invoke(cli, ["search", "retry a failed request", str(repo)])
        assert refused.exit_code == 2 and "symlink" in refused.output
        ran = CliRunner().invoke(cli, ["index", str(repo)])
        assert ran.exit_code == 0 and "was not left by your last run" in ran.output, ran.output
        assert not (index_dir / name).is_symlink() and target.read_bytes() == b"not a log"
    os.link(target, index_dir / "index.db-wal")
    assert CliRunner().invoke(cli, ["index", str(repo), "-q"]).exit_code == 0
    assert target.read_bytes() == b"not a log" and target.stat().st_nlink == 1
    assert CliRunner().invoke(cli, ["search", "retry a failed request", str(repo)]).exit_code == 0


def test_a_run_killed_between_its_commit_and_its_registration_leaves_a_trusted_log(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The run's one transaction appends to a log whose salts the registry already holds (a write committed on
    its own before it, registered: ``IndexWriter.journal_barrier``): killed just after its commit, the run leaves
    its work, which the next search reads instead of refusing."""
    import subprocess
    import sys

    repo = _indexed_sample(tmp_path)
    write(repo, "added_module.py", "def brand_new_function():\n    return 1\n")
    script = ("import inspect, os, sys\n"
              "from codesearch.store.writer import IndexWriter\n"
              "from codesearch.cli import cli\n"
              "record = IndexWriter.record_journal\n"
              "def dying(self):\n"
              "    if inspect.stack()[1].function == 'transaction':\n"
              "        os._exit(9)  # killed: committed, not yet registered\n"
              "    record(self)\n"
              "IndexWriter.record_journal = dying\n"
              "cli(['index', sys.argv[1], '-q'])\n")
    assert subprocess.run([sys.executable, "-c", script, str(repo)]).returncode == 9
    searched = CliRunner().invoke(cli, ["search", "brand_new_function", str(repo), "--format", "grep", "-k", "1"])
    assert searched.exit_code == 0, searched.output
    assert "added_module.py:1: brand_new_function" in searched.output


@contextlib.contextmanager
def _committed_beside_a_reader(tmp_path):  # type: ignore[no-untyped-def]
    """An index run that committed (`added_module.py`) while a reader holds its snapshot (a resident process, an MCP
    server): the run's log is left unfolded while the reader, still open, reads through it."""
    repo = _indexed_sample(tmp_path)
    index_dir = repo / ".codesearch"
    with Searcher(index_dir) as reader:
        reader.search("retry", 3)
        write(repo, "added_module.py", "def brand_new_function():\n    return 1\n")
        assert CliRunner().invoke(cli, ["index", str(repo), "-q"]).exit_code == 0
        assert (index_dir / "index.db-wal").stat().st_size > 32  # the run's commits, kept for the reader
        yield repo, index_dir


def test_the_log_an_index_run_leaves_beside_an_open_reader_is_trusted(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The other side: a run that commits while a reader holds its snapshot (a resident process, an MCP server)
    leaves its log unfolded; the next reader opens it, and sees the run's change."""
    with _committed_beside_a_reader(tmp_path) as (repo, index_dir):
        with Searcher(index_dir) as new:
            assert new.search("brand_new_function", 1)[0].path == "added_module.py"


def test_a_shipped_rollback_journal_takes_no_log_of_the_users_runs_with_it(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The recheck, second session: while a reader (a resident process, an MCP server) keeps its snapshot, a run's
    commits stay in the write-ahead log; a shipped `index.db-journal` then made the next index run delete that log
    with it, and the index fell back to a generation whose vector file was gone (`--rebuild` only). The journal
    alone is deleted."""
    with _committed_beside_a_reader(tmp_path) as (repo, index_dir):
        (index_dir / "index.db-journal").write_bytes(b"\xd9\xd5\x05\xf9\x20\xa1\x63\xd7" + bytes(504))
        write(repo, "other_module.py", "def another_function():\n    return 2\n")
        ran = CliRunner().invoke(cli, ["index", str(repo)])
        assert ran.exit_code == 0 and "was not left by your last run" in ran.output, ran.output
    assert not (index_dir / "index.db-journal").exists()
    for name, path in (("brand_new_function", "added_module.py"), ("another_function", "other_module.py")):
        found = CliRunner().invoke(cli, ["search", name, str(repo), "--format", "grep", "-k", "1"])
        assert found.exit_code == 0 and f"{path}:1: {name}" in found.output, found.output


def test_a_gitignore_the_repository_ships_in_the_index_directory_is_replaced(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A `.codesearch/.gitignore` that came with the repository (`# nothing`) was kept: `git add -A` then committed
    the user's index, and with it the id that makes an index trusted (security review, thirteenth round, low)."""
    repo = tmp_path / "repo"
    write(repo, "a.py", "def a():\n    pass\n")
    write(repo, ".codesearch/.gitignore", "# nothing\n")
    assert CliRunner().invoke(cli, ["index", str(repo), "-q"]).exit_code == 0
    assert (repo / ".codesearch" / ".gitignore").read_bytes() == b"*\n"
    other = tmp_path / "other"
    write(other, "a.py", "def a():\n    pass\n")
    write(other, ".codesearch/.gitignore/y", "x\n")  # a directory: git reads no ignore rule from it
    refused = CliRunner().invoke(cli, ["index", str(other)])
    assert refused.exit_code == 2 and ".gitignore is not a file" in refused.output and "remove it" in refused.output


def test_a_link_in_an_unpacked_package_never_leads_index_or_search_out_of_it(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """An sdist or npm tarball has no `.git`: its planted `packages/api -> ../../private/notes` led `codesearch index`,
    `search` and the MCP server into the private directory (its file printed, `.codesearch` written there), where
    a git clone's was refused (security review, thirteenth round). A project's own top (`pyproject.toml`,
    `package.json`, ...) is a repository's top for that rule; a link above every project is followed as before."""
    private = tmp_path / "private" / "notes"
    write(private, "keys.py", 'def private_key():\n    return "SECRET_NOTES"\n')
    package = tmp_path / "pkg"
    write(package, "pyproject.toml", "[project]\nname = 'pkg'\n")
    write(package, "pkg/api.py", "def hello():\n    pass\n")
    (package / "packages").mkdir()
    (package / "packages" / "api").symlink_to("../../private/notes")
    monkeypatch.delenv("PWD", raising=False)
    for command in (["index", str(package / "packages" / "api")],
                    ["search", "private key", str(package / "packages" / "api")]):
        refused = CliRunner().invoke(cli, command)
        assert refused.exit_code == 2 and "leads out of the repository" in refused.output, refused.output
        assert str(private) in refused.output  # the way to mean it
    assert not (private / ".codesearch").exists()
    alias = tmp_path / "alias"
    alias.symlink_to(package)  # above every project: the user's own
    assert CliRunner().invoke(cli, ["index", str(alias), "-q"]).exit_code == 0


def test_related_symbol_takes_the_code_over_its_stub(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """attrs ships a `.pyi` beside each module: `related(symbol="to_bool")` said "'to_bool' names 2 definitions:
    src/attr/converters.py:105 ...; src/attr/converters.pyi:13 ..." for every public function (an MCP agent's
    wasted call each time); the stub is the code's declaration. Two implementations are still ambiguous."""
    repo = tmp_path / "repo"
    write(repo, "src/attr/converters.py",
          'def to_bool(val):\n    """Convert yes/no to a bool."""\n    return val == "yes"\n')
    write(repo, "src/attr/converters.pyi", "def to_bool(val: str) -> bool: ...\n")
    write(repo, "src/attr/other.py", "def helper():\n    return 1\n")
    assert CliRunner().invoke(cli, ["index", str(repo), "-q"]).exit_code == 0
    result = CliRunner().invoke(cli, ["related", "--symbol", "to_bool", "-C", str(repo), "--format", "json"])
    assert result.exit_code in (0, 1), result.output
    assert json.loads(result.output)["source"]["path"] == "src/attr/converters.py"
    write(repo, "src/attr/__init__.pyi", "def evolve(inst: object) -> object: ...\n")  # declared at the root
    write(repo, "src/attr/_funcs.py", "def evolve(inst):\n    return inst\n")
    assert CliRunner().invoke(cli, ["index", str(repo), "-q"]).exit_code == 0
    evolve = CliRunner().invoke(cli, ["related", "--symbol", "evolve", "-C", str(repo), "--format", "json"])
    assert json.loads(evolve.output)["source"]["path"] == "src/attr/_funcs.py", evolve.output
    write(repo, "src/attr/again.py", "def to_bool(val):\n    return bool(val)\n")
    assert CliRunner().invoke(cli, ["index", str(repo), "-q"]).exit_code == 0
    ambiguous = CliRunner().invoke(cli, ["related", "--symbol", "to_bool", "-C", str(repo)])
    assert ambiguous.exit_code == 2 and "names 2 definitions" in ambiguous.output


def test_a_path_filter_naming_a_file_that_is_not_read_says_it_is_there(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """An agent's `path: "hashes.conf"` (libxcrypt registers its hash methods there) said only "no indexed file matches
    path 'hashes.conf'", and the agent could take the file for missing; the note says it is there but not read."""
    repo = tmp_path / "repo"
    write(repo, "lib/crypt.c", "int get_hashfn(void) { return 0; }\n")
    write(repo, "lib/hashes.conf", "sha512crypt $6$ STRONG\n")
    assert CliRunner().invoke(cli, ["index", str(repo), "-q"]).exit_code == 0
    for glob in ("hashes.conf", "lib/hashes.conf"):
        result = CliRunner().invoke(cli, ["search", "hashes", str(repo), "-p", glob])
        assert result.exit_code == 1
        assert "lib/hashes.conf is there but not read" in result.output, result.output
    missing = CliRunner().invoke(cli, ["search", "hashes", str(repo), "-p", "nothing.conf"]).output
    assert "not read" not in missing and "no indexed file matches path 'nothing.conf'" in missing


def test_a_path_filter_naming_a_file_left_out_says_why(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The recheck: a path filter naming a git-ignored file, or one in a hidden directory, said only "no indexed file
    matches path ...", as for a file that is not there. The note says the file is there and why it holds nothing:
    the ignore file, the skipped directory (with the run's reason), or that it was added since the last run."""
    repo = tmp_path / "repo"
    write(repo, "src/app.py", "def serve():\n    return 1\n")
    write(repo, ".gitignore", "generated.py\n")
    write(repo, "src/generated.py", "def made_by_a_tool():\n    return 2\n")
    write(repo, ".tools/helper.py", "def helper():\n    return 3\n")
    assert CliRunner().invoke(cli, ["index", str(repo), "-q"]).exit_code == 0
    write(repo, "src/fresh.py", "def fresh():\n    return 4\n")
    expected = {
        "generated.py": "src/generated.py is there but left out by an ignore file",
        "src/generated.py": "src/generated.py is there but left out by an ignore file",
        ".tools/helper.py": ".tools/helper.py is there but not indexed: .tools was skipped: hidden directory",
        "fresh.py": "src/fresh.py is there but was added since the last index run",
    }
    for glob, said in expected.items():
        result = CliRunner().invoke(cli, ["search", "serve", str(repo), "-p", glob])
        assert result.exit_code == 1 and said in result.output, (glob, result.output)
    missing = CliRunner().invoke(cli, ["search", "serve", str(repo), "-p", "nothing.py"]).output
    assert "is there" not in missing and "no indexed file matches path 'nothing.py'" in missing
    for fmt in ("grep", "jsonl"):  # the recheck: these said nothing; the reason goes to standard error
        quiet = CliRunner().invoke(cli, ["search", "serve", str(repo), "-p", "generated.py", "--format", fmt])
        assert quiet.exit_code == 1 and not quiet.stdout.strip()
        assert "src/generated.py is there but left out by an ignore file" in quiet.stderr, quiet.stderr


def test_one_method_in_many_classes_but_for_their_names_takes_one_place(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """urfave/cli's fifteen `func (f *BoolFlag) IsRequired() bool { return f.Required }`, one per flag type, took eight
    of the first ten for "where are missing required flags detected" (an MCP agent's first call missed the function
    that does it); the same code but for the class's name folds into the first as its near-copies (`similar`)."""
    repo = tmp_path / "repo"
    kinds = ["Bool", "String", "Int", "Int64", "Uint", "Float64", "Duration", "Path"]
    for kind in kinds:
        write(repo, f"flag_{kind.lower()}.go", f"package cli\n\n// {kind}Flag is a flag with type {kind.lower()}\n"
                    f"type {kind}Flag struct {{\n\tName     string\n\tRequired bool\n}}\n\n"
                    f"// IsRequired returns whether or not the flag is required\n"
                    f"func (f *{kind}Flag) IsRequired() bool {{\n\treturn f.Required\n}}\n")
    write(repo, "context.go", "package cli\n\n// checkRequiredFlags returns an error naming each required flag that "
                "was not set\nfunc checkRequiredFlags(flags []Flag, ctx *Context) requiredFlagsErr {\n"
                "\tvar missing []string\n\tfor _, f := range flags {\n\t\tif rf, ok := f.(RequiredFlag); ok && "
                "rf.IsRequired() {\n\t\t\tmissing = append(missing, f.Names()[0])\n\t\t}\n\t}\n"
                "\treturn &errRequiredFlags{missingFlags: missing}\n}\n")
    assert CliRunner().invoke(cli, ["index", str(repo), "-q"]).exit_code == 0
    payload = json.loads(CliRunner().invoke(cli, ["search", "where are missing required flags detected", str(repo),
                                                  "--json", "-k", "10"]).output)
    getters = [r for r in payload["results"] if r["name"] == "IsRequired"]
    assert len(getters) == 1 and len(getters[0]["similar"]) == len(kinds) - 1, [r["qualname"] for r in getters]
    assert "checkRequiredFlags" in [r["name"] for r in payload["results"]]
    asked = json.loads(CliRunner().invoke(cli, ["search", "whether a Float64Flag is required", str(repo), "--json",
                                                "-k", "10"]).output)  # the class asked about is shown as itself
    assert "Float64Flag.IsRequired" in [r["qualname"] for r in asked["results"]], asked["results"]
    one = json.loads(CliRunner().invoke(cli, ["search", "IntFlag.IsRequired", str(repo), "--json"]).output)
    assert one["results"][0]["qualname"] == "IntFlag.IsRequired"  # a name asked for is still itself


def test_a_log_that_ends_no_transaction_is_no_foreign_one(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A run killed before its commit leaves frames of its own (a new log, other salts) and no commit: SQLite replays
    nothing of it, and the index is the run before's, as promised; it is not refused as a shipped log."""
    repo = _indexed_sample(tmp_path)
    index_dir = repo / ".codesearch"
    die_after(index_dir / "index.db", ["PRAGMA cache_size = 1", "BEGIN", "UPDATE chunk_rows SET doc = 'UNCOMMITTED'",
                                       "UPDATE files SET sha1 = 'x'"])  # frames, spilled before any commit
    with Searcher(index_dir) as searcher:
        docs = {row[0] for row in searcher.reader.conn.execute("SELECT doc FROM chunks")}
    assert "UNCOMMITTED" not in docs


def test_a_long_definition_is_shown_at_the_line_the_question_asks_about() -> None:
    """An agent's "parse rounds= parameter in sha512 crypt" got libxcrypt's `crypt_sha512crypt_rn` (lines 84-312) as
    its signature and an `ERANGE` check, the rounds parsed at line 118: a definition longer than
    `LONG_DEFINITION_LINES` is shown at its line holding question words its head does not; a short one, or one whose
    head says them, shows its head."""
    from codesearch.search.results import LONG_DEFINITION_LINES, SearchResult, best_lines

    body = ["void", "crypt_sha512crypt_rn (const char *phrase, size_t phr_size,", "    void *scratch)", "{",
            "  if (out_size < SHA512_HASH_LENGTH)", "    {", "      errno = ERANGE;", "      return;", "    }"]
    body += ["  x += 1;"] * 25 + ["  if (strncmp (salt, sha512_rounds_prefix, 7) == 0)", "    {"]
    body += ["  y += 1;"] * 30 + ["}"]

    def hit(code: list[str]) -> SearchResult:
        return SearchResult(rank=1, score=0.5, key="lib/crypt-sha512.c::crypt_sha512crypt_rn",
                            path="lib/crypt-sha512.c", root="/r", language="c", kind="function",
                            name="crypt_sha512crypt_rn", qualname="crypt_sha512crypt_rn", signature="", doc="",
                            code="\n".join(code),
                            start_line=84, end_line=84 + len(code) - 1)

    assert len(body) > LONG_DEFINITION_LINES
    shown = best_lines("parse rounds= parameter in sha512 crypt", [hit(body)])[0]
    assert shown.line == 84 + body.index("  if (strncmp (salt, sha512_rounds_prefix, 7) == 0)")
    assert best_lines("sha512 crypt function", [hit(body)])[0].line == 0  # its head names them
    short = body[:9] + ["  if (strncmp (salt, sha512_rounds_prefix, 7) == 0)", "}"]
    assert best_lines("parse rounds= parameter in sha512 crypt", [hit(short)])[0].line == 0


def test_a_codesearch_file_in_place_of_the_index_directory_names_the_fix(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A `.codesearch` that is a plain file: search said to run `codesearch index`, which then failed with "exists and
    is not a directory" and no way out (security review, thirteenth round, low)."""
    repo = tmp_path / "repo"
    write(repo, "a.py", "def a():\n    pass\n")
    write(repo, ".codesearch", "not an index\n")
    for command in (["search", "a", str(repo)], ["index", str(repo)]):
        result = CliRunner().invoke(cli, command)
        assert result.exit_code == 2 and "is not a directory" in result.output and "remove it" in result.output


def test_a_file_the_query_names_is_no_weak_answer() -> None:
    """regex-syntax's "general category table" had `unicode_tables/general_category.rs` first and `gencat` second,
    under "weak matches only ... the code may not be here" (an agent could drop a right answer): a hit in a file
    whose name the query spells in two words or more is no weak answer; one word is not enough."""
    from codesearch.render import weak_answer
    from codesearch.search.results import SearchResult

    def hit(path: str) -> SearchResult:
        return SearchResult(rank=1, score=0.2, key=f"{path}::BY_NAME", path=path, root="/r", language="rust",
                            kind="code", name="BY_NAME", qualname="BY_NAME", signature="", doc="", code="x",
                            start_line=1, end_line=1)

    assert weak_answer("general category table", [hit("src/unicode_tables/general_category.rs")], 0.2) == ""
    assert weak_answer("general category table", [hit("src/unicode_tables/category.rs")], 0.2).startswith("weak")
    assert weak_answer("general category table", [hit("src/tables.rs")], 0.2).startswith("weak")


def test_an_index_directory_the_repository_ships_is_made_yours_alone(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A `.codesearch/` that came with the repository kept its mode (0755 from git, 0777 from a tarball) while the one
    codesearch creates is 0700 (security review, thirteenth round, low)."""
    repo = tmp_path / "repo"
    write(repo, "a.py", "def a():\n    pass\n")
    (repo / ".codesearch").mkdir()
    os.chmod(repo / ".codesearch", 0o777)
    assert CliRunner().invoke(cli, ["index", str(repo), "-q"]).exit_code == 0
    assert stat.S_IMODE(os.stat(repo / ".codesearch").st_mode) == 0o700


def test_mcp_related_takes_an_include_filter_as_the_cli_does(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The CLI's `related --path '*_test.go'` asks for a definition's tests; MCP's `related` had no include filter,
    and an agent could not ask for them (an MCP agent's finding). `include` takes a glob or a list; one outside the
    repository is refused as search's `path` is."""
    import asyncio

    mcp = pytest.importorskip("mcp")
    from mcp.client.stdio import stdio_client

    from tests.test_mcp import _call, _server

    repo = tmp_path / "repo"
    shutil.copytree(SAMPLE_REPOS / "python", repo, ignore=shutil.ignore_patterns(".codesearch"))

    async def scenario() -> None:
        async with stdio_client(_server(repo)) as (read, write_), mcp.ClientSession(read, write_) as session:
            await session.initialize()
            error, found = await _call(session, "related", {"symbol": "retry_call", "k": 5})
            assert not error and {r["path"] for r in found["results"]} - {"httpkit/client.py"}, found["results"]
            error, found = await _call(session, "related", {"symbol": "retry_call", "k": 5, "include": "client.py"})
            assert not error and found["results"], found
            assert {r["path"] for r in found["results"]} == {"httpkit/client.py"}, found["results"]
            error, text = await _call(session, "related", {"symbol": "retry_call", "include": "../../etc/*"})
            assert error and "outside the repository" in text

    asyncio.run(scenario())


def test_a_rollback_journal_the_repository_ships_is_never_applied(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The recheck of the write-ahead log's fix found its twin: a shipped `.codesearch/index.db-journal` (a hot
    rollback journal of the changed pages), which SQLite rolls back into the database when `codesearch index` or a
    writable MCP server opens it; the index wrote forged code into the user's own index, `stale: false`. The index
    runs in WAL mode and never leaves one: any is refused by search, and deleted unread by the next index run."""
    repo = _indexed_sample(tmp_path)
    write(repo, ".codesearch/index.db-journal", b"\xd9\xd5\x05\xf9\x20\xa1\x63\xd7" + b"\x00" * 504)
    refused = CliRunner().invoke(cli, ["search", "retry a failed request", str(repo)])
    assert refused.exit_code == 2 and "index.db-journal was not written by codesearch" in refused.output
    ran = CliRunner().invoke(cli, ["index", str(repo)])
    assert ran.exit_code == 0 and "index.db-journal) was not left by your last run" in ran.output
    assert not (repo / ".codesearch" / "index.db-journal").exists()
    assert CliRunner().invoke(cli, ["search", "retry a failed request", str(repo)]).exit_code == 0


def test_a_gem_or_a_makefile_marks_a_package_top_and_a_monorepo_link_that_stays_inside_is_followed(
        tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The recheck: a gem (`x.gemspec`), a Hackage sdist (`x.cabal`), an autotools tarball (`Makefile`, `configure`)
    and more were no package tops, so their planted links were followed out; and a monorepo's own link below a
    nested package.json (`packages/app/shared -> ../lib`) was refused though it stays in the repository."""
    monkeypatch.delenv("PWD", raising=False)
    private = tmp_path / "private"
    write(private, "keys.py", "def private_key():\n    return 1\n")
    for n, marker in enumerate(("x.gemspec", "x.cabal", "Makefile", "x.csproj")):
        package = tmp_path / f"pkg{n}"
        write(package, marker, "\n")
        (package / "lib").mkdir()
        (package / "lib" / "ext").symlink_to("../../private")
        refused = CliRunner().invoke(cli, ["index", str(package / "lib" / "ext")])
        assert refused.exit_code == 2 and "leads out of the repository" in refused.output, (marker, refused.output)
    assert not (private / ".codesearch").exists()
    mono = tmp_path / "mono"
    (mono / ".git").mkdir(parents=True)
    write(mono, "packages/lib/date.js", "function parseDate(text) {\n  return new Date(text);\n}\n")
    write(mono, "packages/app/package.json", '{"name": "app"}\n')
    (mono / "packages" / "app" / "shared").symlink_to("../lib")
    assert CliRunner().invoke(cli, ["index", str(mono), "-q"]).exit_code == 0
    found = CliRunner().invoke(cli, ["search", "parse a date", str(mono / "packages" / "app" / "shared")])
    assert found.exit_code == 0 and "parseDate" in found.output, found.output
