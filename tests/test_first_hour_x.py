"""A new user's first hour X: what this round's users found, and what the last round left (2026-12-07, fifteenth
round). Each test fails on the commit before its fix."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from codesearch.cli import cli
from codesearch.errors import UnsafeIndexDir
from codesearch.manifest import Manifest
from codesearch.pipeline import build_index
from codesearch.query import analyse
from codesearch.ranking import phrase
from codesearch.search import Searcher
from codesearch.search.files import names_a_hit
from codesearch.search.results import _in_code
from indexer.discover import read_inside
from tests.conftest import write
from tests.test_real_queries import _codecs


def test_a_type_the_query_names_is_not_folded_as_a_near_copy(tmp_path: Path) -> None:
    """Near-copy folding (a type of the same name elsewhere whose vector is alike) hides every definition but the
    first; for a query that is the type's name each definition is an answer, as rg lists them: capacitor's encoder
    and decoder each have a private `KeyedContainer`, and the encoder's was '+1 near-copies' of the decoder's.
    Identical copies still fold; a sentence that does not name the type still folds its near-copies."""
    _codecs(tmp_path)
    build_index(tmp_path, workers=1)
    with Searcher(tmp_path / ".codesearch") as searcher:
        named = searcher.search("StreamReader", 10)
        topic = searcher.search("csv dict reader stream", 10)
    readers = [r for r in named if r.qualname == "StreamReader"]
    assert len(readers) == 9 and not any(r.similar for r in readers)  # 8 distinct readers of 12, 4 alike
    assert sum(len(r.duplicates) for r in readers) == 3  # the identical ones (cp000, cp003, ...) still fold
    assert len([r for r in topic if r.qualname == "StreamReader"]) == 1
    with Searcher(tmp_path / ".codesearch") as searcher:  # any case (the recheck: `keyedcontainer` still folded)
        assert len([r for r in searcher.search("streamreader", 10) if r.qualname == "StreamReader"]) == 9


def test_filters_that_each_match_but_not_together_are_named(tmp_path: Path) -> None:
    """`--kind class -p ops.py` where the index has classes and ops.py, but no class in ops.py, said only "No
    results."; so did `--kind class -l go` with classes only in Python. Now the note says no chunk passes them all."""
    write(tmp_path, "ops.py", "def roll_back(tag):\n    '''Roll back the release to tag.'''\n    return tag\n")
    write(tmp_path, "rel.py", "class Release:\n    '''A release.'''\n    tag = 1\n")
    write(tmp_path, "r.go", "package x\n\nfunc Roll() {}\n")
    assert CliRunner().invoke(cli, ["index", str(tmp_path), "-q"]).exit_code == 0
    run = CliRunner().invoke(cli, ["search", "roll back", str(tmp_path), "--kind", "class", "-p", "ops.py"])
    assert run.exit_code == 1
    assert "no indexed class chunk in a file matching path 'ops.py'" in run.output
    run = CliRunner().invoke(cli, ["search", "roll back", str(tmp_path), "--kind", "class", "-l", "go", "--json"])
    assert run.exit_code == 1 and json.loads(run.output)["note"].startswith("no indexed go class chunk")
    run = CliRunner().invoke(cli, ["search", "roll back", str(tmp_path), "--kind", "function", "-l", "go"])
    assert run.exit_code == 0 and "r.go" in run.output


def test_a_script_with_an_extension_no_language_has_is_read_by_its_first_line(tmp_path: Path) -> None:
    """Debian's `invoke-rc.d` and bash-completion's `_mount.linux` have an extension no language has, and were
    left out though their `#!` line names the language; an image or a backup is still not opened to look."""
    write(tmp_path, "invoke-rc.d", "#!/bin/sh\n# start or stop a service\nrun_service() {\n  echo \"$1\"\n}\n")
    write(tmp_path, "_mount.linux", "#!/usr/bin/env python3\ndef mount_volume(dev):\n    return dev\n")
    write(tmp_path, "logo.png", "#!/bin/sh\nnot_a_script() { :; }\n")
    write(tmp_path, "deploy.sh.orig", "#!/bin/sh\nold_deploy() { :; }\n")
    for backup in ("run.old", "run.save", "run.dpkg-old", "run~"):  # the recheck: these were read
        write(tmp_path, backup, "#!/bin/sh\nold_run() { :; }\n")
    assert CliRunner().invoke(cli, ["index", str(tmp_path), "-q"]).exit_code == 0
    with Searcher(tmp_path / ".codesearch") as searcher:
        files = dict((p, language) for p, language in searcher.reader.conn.execute("SELECT path, language FROM files"))
    assert files == {"invoke-rc.d": "bash", "_mount.linux": "python"}


def test_a_hard_link_is_not_read_as_its_other_name_may_lie_outside(tmp_path: Path) -> None:
    """A hostile archive unpacked by Python's `tarfile` planted `deploy_key.sh` as a hard link to the user's
    `~/.ssh/id_rsa`, and a search printed the key (the red team). A file with several names is skipped with the
    reason, at index time and when a search reads a file again."""
    secret = tmp_path / "home" / "id_rsa"
    write(tmp_path / "home", "id_rsa", "deploy_key() { echo SECRET-MARKER-42; }\n")
    repo = tmp_path / "repo"
    write(repo, "a.py", "def retry_request(url):\n    '''Retry a failed http request.'''\n    return url\n")
    os.link(secret, repo / "deploy_key.sh")
    run = CliRunner().invoke(cli, ["index", str(repo)])
    assert run.exit_code == 0 and "deploy_key.sh: a hard link" in run.output
    run = CliRunner().invoke(cli, ["search", "deploy key secret marker", str(repo), "-k", "5"])
    assert "SECRET-MARKER" not in run.output
    assert isinstance(read_inside(repo, "deploy_key.sh", 1000), str)
    assert not isinstance(read_inside(repo, "a.py", 1000), str)


@pytest.mark.parametrize("sub", ["indexes", "packs"])
def test_a_workspace_whose_indexes_or_packs_is_a_symlink_is_refused(tmp_path: Path, sub: str) -> None:
    """A hostile workspace with `indexes -> ~/private` and an entry `indexes/.codesearch` had `search --workspace`
    print a private repository's code (its index is the user's own, registered for that root), and `index-many
    --out` write through the link (the red team). Only a link as the last part (`indexes/x`) was refused."""
    private = tmp_path / "private"
    write(private, "keys.py", "def deploy_key():\n    '''retry http request'''\n    return 'SECRET-MARKER-42'\n")
    assert CliRunner().invoke(cli, ["index", str(private), "-q"]).exit_code == 0
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / sub).symlink_to(private)
    (workspace / "workspace.json").write_text(json.dumps({"version": 1, "repos": {"x": {
        "root": str(private), "index": f"{sub}/.codesearch", "status": "indexed", "generation": 1}}}))
    with pytest.raises(UnsafeIndexDir, match="is a symlink; refusing to follow it"):
        Manifest.load(workspace)
    run = CliRunner().invoke(cli, ["search", "retry http request", "--workspace", str(workspace)])
    assert run.exit_code != 0 and "SECRET-MARKER" not in run.output and "refusing to follow" in run.output


@pytest.mark.parametrize("args", [["search", "retry", "--min-score", "nan"], ["index", "--wait", "nan"]])
def test_nan_is_not_a_number_in_a_range(tmp_path: Path, args: list[str]) -> None:
    """click's FloatRange lets `nan` through; `--min-score nan` filtered nothing without a word (the red team)."""
    write(tmp_path, "a.py", "def retry(url):\n    return url\n")
    run = CliRunner().invoke(cli, [*args, str(tmp_path)])
    assert run.exit_code == 2 and "'nan' is not a number in the range" in run.output


def test_a_link_out_of_the_repository_does_not_tell_whether_its_target_exists(tmp_path: Path) -> None:
    """Links to an outside file that exists and to one that does not had different skip reasons ("points outside"
    and "broken or loops"), shown to an MCP agent by `index_status`: an oracle for any path on the machine."""
    write(tmp_path / "outside", "secret.txt", "x\n")
    repo = tmp_path / "repo"
    write(repo, "a.py", "def retry_request(url):\n    return url\n")
    (repo / "probe_exists.py").symlink_to(tmp_path / "outside" / "secret.txt")
    (repo / "probe_missing.py").symlink_to(tmp_path / "outside" / "no-such-file.txt")
    (repo / "inside_broken.py").symlink_to(repo / "gone.py")
    # ... nor through `..` from a place outside back into the repository (the recheck: `/root/.cache/../../repo/a.py`
    # was "inside" when /root/.cache existed, "broken" when not)
    climb = "/".join([".."] * len(repo.parts))
    (repo / "through_existing.py").symlink_to(f"{tmp_path}/outside/../repo/a.py")
    (repo / "through_missing.py").symlink_to(f"{tmp_path}/no-such-dir/../repo/a.py")
    (repo / "climbing.py").symlink_to(f"{climb}{tmp_path}/no-such-dir/../repo/a.py")
    (repo / "alias.py").symlink_to("./a.py")
    run = CliRunner().invoke(cli, ["index", str(repo)])
    assert run.exit_code == 0
    for probe in ("probe_exists", "probe_missing", "through_existing", "through_missing", "climbing"):
        assert f"{probe}.py: symlink points outside the repository" in run.output, probe
    assert "inside_broken.py: symlink is broken or loops" in run.output
    assert "alias.py: symlink inside the repository" in run.output


def test_grammars_are_read_their_generated_parsers_and_automake_helpers_are_not(tmp_path: Path) -> None:
    """tmux's `cmd-parse.y` was left out without a word and every parser question went to the generated
    `cmd-parse.c`; automake's `etc/depcomp` took first place for "base64 encode". A grammar, `Makefile.am` and
    `configure.ac` are read as text; C generated from a grammar beside it and automake's helpers are skipped, with
    the reason. A script that is only named like a helper is kept."""
    write(tmp_path, "cmd-parse.y", "%{\n#include <stdio.h>\n%}\n%token ERROR\n%%\nlines : line ;\n%%\n"
                                   "int cmd_parse_from_file(FILE *f) { return 0; }\n")
    write(tmp_path, "cmd-parse.c", "#define YYBYACC 1\nint cmd_parse_from_file(FILE *f) { return 0; }\n")
    write(tmp_path, "Makefile.am", "bin_PROGRAMS = tmux\n")
    write(tmp_path, "configure.ac", "AC_INIT([tmux], 3.3a)\n")
    write(tmp_path, "etc/depcomp", "#! /bin/sh\n# depcomp - compile a program\n\nscriptversion=2016-01-11.22; # UTC\n"
                                   "set_base_from () {\n  base=$1\n}\n")
    write(tmp_path, "tools/compile", "#!/bin/sh\n# our own build wrapper\nbuild_all() { make; }\n")
    write(tmp_path, "base64.c", "int b64_ntop(const unsigned char *src) { return 0; }\n")
    # the recheck: a hand-written `calc.c` beside `calc.y` was skipped too (told by name only); yacc's default
    # output `y.tab.c` was not
    write(tmp_path, "calc/calc.y", "%token NUM\n%%\nexpr : NUM ;\n%%\n")
    write(tmp_path, "calc/calc.c", "int main(void) { return yyparse(); }\n")
    write(tmp_path, "calc/y.tab.c", "/* A Bison parser, made by GNU Bison 3.8.2. */\nint yyparse(void) { return 0; }\n")
    run = CliRunner().invoke(cli, ["index", str(tmp_path)])
    assert run.exit_code == 0
    assert "cmd-parse.c: build output (generated from cmd-parse.y)" in run.output
    assert "etc/depcomp: build tooling (a helper script automake copies into a project)" in run.output
    with Searcher(tmp_path / ".codesearch") as searcher:
        files = dict(searcher.reader.conn.execute("SELECT path, language FROM files"))
    assert files == {"cmd-parse.y": "text", "Makefile.am": "text", "configure.ac": "text", "tools/compile": "bash",
                     "base64.c": "c", "calc/calc.y": "text", "calc/calc.c": "c"}
    assert "calc/y.tab.c: build output (generated from calc.y)" in run.output


def _message_and_sessions(root: Path) -> None:
    """A long function that prints "can't find session: %s" on its line 28, and four functions that find sessions
    (tmux's `cmd_find_target` and its neighbours), indexed."""
    targets = "\n".join(f"    if kind == {n}:\n        item.note('step {n} of the lookup')" for n in range(12))
    write(root, "cmd_find.py", f"def find_target(item, kind, session):\n    '''Resolve a target.'''\n"
                                   f"{targets}\n    if session is None:\n"
                                   "        item.error(\"can't find session: %s\" % session)\n    return item\n")
    for n, name in enumerate(["find_session", "best_session", "session_find_by_id", "find_client_session"]):
        write(root, f"session{n}.py", f"def {name}(sessions, name):\n    '''Find a session by its name.'''\n"
                                          "    for session in sessions:\n        if session.name == name:\n"
                                          "            return session\n    return None\n")
    build_index(root, workers=1)


def test_a_message_pasted_from_the_code_finds_the_line_that_prints_it(tmp_path: Path) -> None:
    """A new user pasted tmux's "can't find session" and hyper's "connection closed before message completed":
    neither was in the first thirty, though grep finds each in one line (functions about finding sessions took
    the places). Code that holds the message as written comes first, its `line` on the message."""
    _message_and_sessions(tmp_path)
    with Searcher(tmp_path / ".codesearch") as searcher:
        hits = searcher.search("can't find session", 3)
        plain = searcher.search("find the session by name", 3)
    assert hits[0].path == "cmd_find.py" and hits[0].line == 28
    assert plain[0].path.startswith("session")  # no message pasted: nothing changes
    # ... and an answer that holds the message is no weak one (mobx's "Cycle detected in computation" came 2nd
    # under "weak matches only ... the code may not be here")
    assert names_a_hit("can't find session", hits) and not names_a_hit("find the session by name", plain)


def test_a_c_prototype_counts_as_a_chunk_of_its_definitions_file(tmp_path: Path) -> None:
    """tmux's `void log_add_level(void);` in tmux.h came 3rd for "-v increase log verbosity", its definition 10th
    (log.c's second chunk, after `log_get_level`): a header's prototype whose one definition the pool holds now
    counts as a chunk of the definition's file, and follows it."""
    write(tmp_path, "log.c", "#include <stdio.h>\n\nstatic int log_level;\n\n/* Increment log level. */\nvoid\n"
                             "log_add_level(void)\n{\n\tlog_level++;\n}\n\n/* Get log level. */\nint\n"
                             "log_get_level(void)\n{\n\treturn (log_level);\n}\n")
    write(tmp_path, "tmux.h", "/* log.c */\nvoid\tlog_add_level(void);\nint\tlog_get_level(void);\n"
                              "void\tlog_open(const char *);\n")
    for n in range(3):
        write(tmp_path, f"cmd{n}.c",
              f"/* Resize window {n}. */\nint\ncmd_resize_{n}(int x)\n{{\n\treturn x + {n};\n}}\n")
    build_index(tmp_path, workers=1)
    with Searcher(tmp_path / ".codesearch") as searcher:
        hits = searcher.search("increase log verbosity level", 10)
    places = [(h.path, h.qualname) for h in hits]
    assert places.index(("log.c", "log_add_level")) < places.index(("tmux.h", "log_add_level"))


def test_several_subdirectories_of_one_repository_are_searched_below_each(tmp_path: Path) -> None:
    """`search "keep alive" src/proto/h1 src/proto/h2` was refused ("give one PATH per repository"), where rg
    searches both: several subdirectories of one repository now search below each of them, and nowhere else."""
    for part in ("h1", "h2", "h3"):
        write(tmp_path, f"src/{part}/conn.py",
              f"def keep_alive_{part}(conn):\n    '''Keep the {part} connection alive.'''\n    return conn\n")
    assert CliRunner().invoke(cli, ["index", str(tmp_path), "-q"]).exit_code == 0
    run = CliRunner().invoke(cli, ["search", "keep the connection alive", str(tmp_path / "src/h1"),
                                   str(tmp_path / "src/h2"), "--json"])
    assert run.exit_code == 0, run.output
    assert sorted(r["qualname"] for r in json.loads(run.output)["results"]) == ["keep_alive_h1", "keep_alive_h2"]
    run = CliRunner().invoke(cli, ["search", "keep alive", str(tmp_path / "src/h1"), str(tmp_path / "src")])
    assert run.exit_code == 2 and "is inside" in run.output  # one inside the other: refused, as before
    # ... with a path filter too (the recheck: `-p` brought the old refusal back)
    write(tmp_path, "src/h1/conn_test.txt", "keep the h1 connection alive in tests\n")
    run = CliRunner().invoke(cli, ["search", "keep the connection alive", str(tmp_path / "src/h1"),
                                   str(tmp_path / "src/h2"), "-p", "*.py", "--json"])
    assert run.exit_code == 0, run.output
    assert sorted(r["qualname"] for r in json.loads(run.output)["results"]) == ["keep_alive_h1", "keep_alive_h2"]


def test_a_function_renamed_in_place_is_found_when_its_old_name_is_also_a_type_it_uses(tmp_path: Path) -> None:
    """tmux's `window_pane_resize` declares a `struct window_pane_resize`; renamed `window_pane_set_size(` (the
    function only), its hit was dropped until the next index run: every use of the old name had to be renamed for
    the definition to be re-located. Its first use (the definition's own name) is enough now."""
    write(tmp_path, "window.c", "/* Resize a pane. */\nvoid\nwindow_pane_resize(struct window_pane *wp, int sx)\n{\n"
                                "\tstruct window_pane_resize\t*r;\n\n\tr = xmalloc(sizeof *r);\n\twp->sx = sx;\n}\n\n"
                                "int\nwindow_pane_visible(struct window_pane *wp)\n{\n\treturn (wp->flags & 1);\n}\n")
    build_index(tmp_path, workers=1)
    text = (tmp_path / "window.c").read_text()
    (tmp_path / "window.c").write_text("/* one */\n/* two */\n" + text.replace("window_pane_resize(",
                                                                               "window_pane_set_size("))
    with Searcher(tmp_path / ".codesearch") as searcher:
        hits = searcher.search("window_pane_resize", 3)
    assert (hits[0].qualname, hits[0].start_line, hits[0].stale) == ("window_pane_set_size", 4, True)


def test_a_names_line_is_where_code_names_it_not_a_comment(tmp_path: Path) -> None:
    """faraday's `# uncomment to trigger stubs.verify_stubbed_calls failure` took the `line` of the test that calls
    `stubs.verify_stubbed_calls` five lines below (the coding agent): a comment's mention counts only when no
    line of code names it."""
    write(tmp_path, "stubs.py", "def verify_stubbed_calls(stubs):\n    '''Check every stub was called.'''\n"
                                "    return all(stubs)\n")
    write(tmp_path, "test_client.py", "def test_sushi_name(stubs):\n    client = make(stubs)\n"
                                      "    # uncomment to trigger stubs.verify_stubbed_calls failure\n"
                                      "    stubs.reset()  # so verify_stubbed_calls sees none yet\n"
                                      "    name = client.sushi('salmon')\n    assert name\n"
                                      "    verify_stubbed_calls(stubs)\n")
    build_index(tmp_path, workers=1)
    with Searcher(tmp_path / ".codesearch") as searcher:
        hits = searcher.search("what calls verify_stubbed_calls", 5)
    caller = next(h for h in hits if h.path == "test_client.py")
    assert caller.line == 7  # not the comment's line 3, nor the trailing comment's line 4 (the recheck)


def test_a_file_given_as_a_symbol_is_told_how_to_start_from_a_file(tmp_path: Path) -> None:
    """An agent's `related` with `symbol: "Parser/Cursor.php"` read only "no definition named ... in the index"."""
    write(tmp_path, "Parser/Cursor.php", "<?php\nclass Cursor\n{\n    public function advance(): void {}\n}\n")
    assert CliRunner().invoke(cli, ["index", str(tmp_path), "-q"]).exit_code == 0
    run = CliRunner().invoke(cli, ["related", "-C", str(tmp_path), "-s", "Parser/Cursor.php"])
    assert run.exit_code == 2 and "to start from a file, give its path and a line in it" in run.output
    run = CliRunner().invoke(cli, ["related", "-C", str(tmp_path), "-s", "Nowhere"])
    assert run.exit_code == 2 and "to start from a file" not in run.output


def test_related_from_a_type_puts_its_implementations_first(tmp_path: Path) -> None:
    """mobx's `related IDerivation`: nine functions that take an `IDerivation` came first, `ComputedValue` (which
    `implements ... IDerivation`) 10th and `Reaction` 23rd (the coding agent). A type that names the source type in
    its head, after its own name, gets the name signal's lift."""
    write(tmp_path, "derivation.ts", "export interface IDerivation {\n  observing: IObservable[]\n"
                                     "  runId: number\n  onBecomeStale(): void\n}\n" + "".join(
        f"export function derivationStep{n}(derivation: IDerivation): number {{\n"
        f"  derivation.onBecomeStale()\n  return derivation.runId + {n}\n}}\n" for n in range(3)))
    write(tmp_path, "computed.ts", "export class ComputedValue<T> implements IObservable, IDerivation {\n"
                                   "  observing: IObservable[] = []\n  runId = 0\n  value?: T\n"
                                   "  computeValue(track: boolean): T {\n    return this.getter(track)\n  }\n"
                                   "  toString(): string {\n    return `${this.name}[${this.getter}]`\n  }\n}\n")
    assert CliRunner().invoke(cli, ["index", str(tmp_path), "-q"]).exit_code == 0
    run = CliRunner().invoke(cli, ["related", "-C", str(tmp_path), "-s", "IDerivation", "--json", "-k", "5"])
    assert run.exit_code == 0, run.output
    names = [r["qualname"] for r in json.loads(run.output)["results"]]
    assert names[0] == "ComputedValue", names


def test_a_query_with_a_dash_and_spaces_is_not_called_an_option_named_dash_space() -> None:
    """`search '-v increase verbosity'` said "No such option '- '" (click read `-v`, then `- `)."""
    run = CliRunner().invoke(cli, ["search", "-v increase verbosity"])
    assert run.exit_code == 2 and "'- '" not in run.output
    assert "an argument that starts with a dash and holds a space is no option" in run.output
    assert "goes after -e or --" in run.output


@pytest.mark.parametrize("index", ["indexes/x", "packs/pack-00001"])
def test_a_workspace_index_linked_one_level_down_is_refused(tmp_path: Path, index: str) -> None:
    """The recheck: with `indexes/` and `packs/` refused as links, `packs/NAME` linked to another workspace's pack
    was still read by `search --workspace` and written by `index-many --out`, and `indexes/NAME` written by it.
    No part of an index's place below the workspace directory may be a link."""
    elsewhere = tmp_path / "victim" / index
    elsewhere.mkdir(parents=True)
    workspace = tmp_path / "ws"
    (workspace / index).parent.mkdir(parents=True)
    (workspace / index).symlink_to(elsewhere)
    (workspace / "workspace.json").write_text(json.dumps({"version": 1, "repos": {"x": {
        "root": str(tmp_path / "repo"), "index": index, "status": "indexed", "generation": 1}}}))
    manifest = Manifest.load(workspace)
    with pytest.raises(UnsafeIndexDir, match="is a symlink; refusing to follow it"):
        manifest.index_dir(manifest.repos["x"])


@pytest.mark.parametrize("pasted", ["can't find session: work", "error: can't find session: main",
                                    "Can't find session."])
def test_a_message_as_a_user_sees_it_finds_the_code_that_prints_it(tmp_path: Path, pasted: str) -> None:
    """The recheck: a message with its value filled in after a colon, an `error:` in front or a full stop after
    it was not in the first twenty; and "resize the pane", a task, was taken for a message (key binding strings
    that say it came first)."""
    _message_and_sessions(tmp_path)
    with Searcher(tmp_path / ".codesearch") as searcher:
        hits = searcher.search(pasted, 3)
    assert hits[0].path == "cmd_find.py" and hits[0].line == 28


def test_a_task_is_no_pasted_message() -> None:
    """"resize the pane" starts with a verb: a task, not a message (key binding strings that say it came first)."""
    assert phrase(analyse("resize the pane")) is None
    assert phrase(analyse("connection closed before message completed")) is not None
    assert phrase(analyse("can't resize pane")) is not None  # written like a message


def test_a_shebang_is_no_doc_of_the_function_below_it(tmp_path: Path) -> None:
    """The recheck: `#!/usr/bin/env python3` right above a function was shown as its doc (`/usr/bin/env python3`);
    a comment below the shebang still is the function's doc."""
    write(tmp_path, "p.py", "#!/usr/bin/env python3\ndef f():\n    return 1\n")
    write(tmp_path, "q.py", "#!/usr/bin/env python3\n# Compute the answer.\ndef g():\n    return 42\n")
    build_index(tmp_path, workers=1)
    with Searcher(tmp_path / ".codesearch") as searcher:
        docs = {r.qualname: r.doc for r in searcher.search("function", 10)}
    assert docs["f"] == "" and docs["g"] == "Compute the answer."


@pytest.mark.parametrize("outside", ["exists", "missing"])
def test_no_chain_of_links_or_source_map_tells_what_exists_outside(tmp_path: Path, outside: str) -> None:
    """The second security recheck: a chain of 41 links inside the repository, ending outside, was resolved by
    Python (no hop limit) and told whether the outside path exists; a source map naming `esc/etc/passwd` beside a
    link `esc -> /` told it by whether its JavaScript was build output. Both answers are the same whatever is
    outside now."""
    write(tmp_path / "out", "there.txt", "x\n")
    repo = tmp_path / "repo"
    write(repo, "a.py", "def a():\n    return 1\n")
    target = tmp_path / "out" / ("there.txt" if outside == "exists" else "missing.txt")
    (repo / "c41").symlink_to(f"{tmp_path}/out/../out/{target.name}")
    for n in range(41, 0, -1):
        (repo / f"c{n - 1}").symlink_to(f"c{n}")
    (repo / "esc").symlink_to(tmp_path / "out")
    write(repo, "dist/app.js", "function app() { return 1 }\n//# sourceMappingURL=app.js.map\n")
    write(repo, "dist/app.js.map", json.dumps({"version": 3, "sources": [f"../esc/{target.name}"], "mappings": ""}))
    run = CliRunner().invoke(cli, ["index", str(repo), "--json"])
    assert run.exit_code == 0, run.output
    report = json.loads(run.output)
    skipped = {entry["path"]: entry["reason"] for entry in report["skipped"]}
    assert skipped["c0"] == "symlink is broken or loops"  # more than 40 links: a loop, whatever is at the end
    assert skipped["c41"] == "symlink points outside the repository"
    assert "dist/app.js" not in skipped  # its map's source is not in the tree (reached through a link: absent)


@pytest.mark.parametrize("kind", ["link", "fifo", "long name"])
def test_a_workspace_manifest_is_read_as_a_plain_file_of_its_own(tmp_path: Path, kind: str) -> None:
    """The second security recheck: `workspace.json` was read through a link (to /dev/zero: the memory filled; the
    errors told what lay at the target), a FIFO held `search --workspace`, and an index name of 300 characters
    was a traceback."""
    workspace = tmp_path / "ws"
    workspace.mkdir()
    manifest = workspace / "workspace.json"
    entry = {"root": str(tmp_path), "index": "indexes/x", "status": "indexed", "generation": 1}
    if kind == "link":
        write(tmp_path, "elsewhere.json", json.dumps({"version": 1, "repos": {"x": entry}}))
        manifest.symlink_to(tmp_path / "elsewhere.json")
    elif kind == "fifo":
        os.mkfifo(manifest)
    else:
        manifest.write_text(json.dumps({"version": 1, "repos": {"x": dict(entry, index="indexes/" + "a" * 300)}}))
    run = CliRunner().invoke(cli, ["search", "retry", "--workspace", str(workspace)])
    assert run.exit_code == 2 and "Traceback" not in run.output
    assert {"link": "is a symlink; refusing to follow it", "fifo": "workspace.json is not a regular file",
            "long name": "is damaged"}[kind] in run.output


def test_the_path_searched_is_named_among_filters_and_all_takes_several_subdirectories(tmp_path: Path) -> None:
    """The recheck: `search container --kind class d` said "no indexed class chunk (each filter matches, not all
    of them together)", the PATH not named; and `--all` with two subdirectories of one repository was refused."""
    write(tmp_path, "d/f.py", "def container():\n    return 1\n")
    write(tmp_path, "e/g.py", "def other():\n    return 2\n")
    write(tmp_path, "top.py", "class Container:\n    pass\n")
    assert CliRunner().invoke(cli, ["index", str(tmp_path), "-q"]).exit_code == 0
    run = CliRunner().invoke(cli, ["search", "container", "--kind", "class", str(tmp_path / "d")])
    assert run.exit_code == 1 and "no indexed class chunk below d " in run.output
    run = CliRunner().invoke(cli, ["search", "container", str(tmp_path / "d"), str(tmp_path / "e"), "--all",
                                   "--json"])
    assert run.exit_code == 0, run.output
    assert "top.py" in {r["path"] for r in json.loads(run.output)["results"]}  # the whole repository


def test_a_macros_line_is_its_define_not_a_later_use() -> None:
    """A C preprocessor line is no comment (`#define SDS_MAX_PREALLOC` is where the name is defined), nor is a
    pointer's `*out = verify(x);` a comment's continuation; a trailing `/* ... */` or ` # ...` is, and Ruby's
    `"#{x}"` is not."""
    cases = [("#define SDS_MAX_PREALLOC (1024*1024)\nint x = SDS_MAX_PREALLOC;\n", "SDS_MAX_PREALLOC", 0),
             (" * uses verify later\n *out = verify(x);\n", "verify", 1),
             ("int r = 0; /* frob_init later */\nfrob_init();\n", "frob_init", 1),
             ('puts "#{verify}"\nverify()\n', "verify", 0)]
    for code, name, line in cases:
        found = _in_code(re.compile(rf"\b{name}\b"), code)
        assert found is not None and code.count("\n", 0, found.start()) == line, (code, name)
