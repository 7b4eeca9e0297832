"""Repository discovery: ignore files, limits, binary and minified files, symlinks."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from indexer.discover import FileEntry, Limits, content_problem, read_source, walk
from indexer.gitignore import is_ignored, parse_lines
from indexer.types import SkippedFile, SourceFile
from tests.conftest import write


def _walk(root: Path, limits: Limits = Limits()) -> tuple[set[str], dict[str, str]]:
    indexed, skipped = set(), {}
    for item in walk(root, limits):
        if isinstance(item, SkippedFile):
            skipped[item.path] = item.reason
        else:
            result = read_source(item, limits)
            if isinstance(result, SkippedFile):
                skipped[result.path] = result.reason
            else:
                indexed.add(result.path)
    return indexed, skipped


@pytest.mark.parametrize(
    ("pattern", "path", "is_dir", "ignored"),
    [
        ("*.log", "a/b/x.log", False, True),  # unanchored glob matches at any depth
        ("build/", "build", True, True),  # directory-only pattern
        ("build/", "build", False, False),  # ...does not match a file
        ("/top.py", "top.py", False, True),  # anchored to the root
        ("/top.py", "sub/top.py", False, False),
        ("docs/*.py", "docs/a.py", False, True),  # a slash anchors the pattern
        ("docs/*.py", "x/docs/a.py", False, False),
        ("**/gen", "a/b/gen", True, True),  # leading **/
        ("a/**/z.py", "a/z.py", False, True),  # /**/ matches zero directories
        ("a/**/z.py", "a/b/c/z.py", False, True),
        ("out/**", "out/x/y.py", False, True),  # trailing /**
        ("file?.py", "file1.py", False, True),
        ("file[0-3].py", "file4.py", False, False),
        ("\\#hash.py", "#hash.py", False, True),  # escaped comment character
    ],
)
def test_gitignore_patterns(pattern: str, path: str, is_dir: bool, ignored: bool) -> None:
    """gitignore globbing rules, one case per row."""
    assert is_ignored(parse_lines([pattern]), path, is_dir) is ignored


def test_gitignore_negation_and_order() -> None:
    """The last matching pattern wins, and ! re-includes."""
    patterns = parse_lines(["*.py", "!keep.py", "# comment", ""])
    assert is_ignored(patterns, "drop.py", False)
    assert not is_ignored(patterns, "keep.py", False)


def test_walk_respects_nested_gitignore_and_vendored_dirs(tmp_path: Path) -> None:
    """Root and nested .gitignore files apply; node_modules is reported as vendored."""
    write(tmp_path, ".gitignore", "generated/\n*.tmp.py\n")
    write(tmp_path, "src/app.py", "def a(): pass\n")
    write(tmp_path, "src/x.tmp.py", "def b(): pass\n")
    write(tmp_path, "generated/g.py", "def c(): pass\n")
    write(tmp_path, "src/.gitignore", "local.py\n")
    write(tmp_path, "src/local.py", "def d(): pass\n")
    write(tmp_path, "node_modules/lib/index.js", "function e() {}\n")
    write(tmp_path, "README.md", "# readme\n")
    indexed, skipped = _walk(tmp_path)
    assert indexed == {"src/app.py"}
    assert skipped == {"node_modules": "vendored dependencies"}


@pytest.mark.parametrize("directory", ["vendor", "_vendor", "vendored", "bower_components", "third_party",
                                       "thirdparty"])
def test_vendored_directories_are_skipped_by_their_name(tmp_path: Path, directory: str) -> None:
    """pip's `src/pip/_vendor/` (requests, urllib3, rich) is someone else's code, as `vendor/` and
    `node_modules/` are; `!_vendor/` in .codesearchignore brings it back."""
    write(tmp_path, "src/pip/_internal/session.py", "def a(): pass\n")
    write(tmp_path, f"src/pip/{directory}/urllib3/retry.py", "def b(): pass\n")
    indexed, skipped = _walk(tmp_path)
    assert indexed == {"src/pip/_internal/session.py"}
    assert skipped == {f"src/pip/{directory}": "vendored dependencies"}
    write(tmp_path, ".codesearchignore", f"!{directory}/\n")
    assert _walk(tmp_path)[0] == {"src/pip/_internal/session.py", f"src/pip/{directory}/urllib3/retry.py"}


def test_binary_minified_and_large_files_are_skipped_with_reasons(tmp_path: Path) -> None:
    """Each kind of bad file is skipped, and the reason says which."""
    write(tmp_path, "ok.js", "function ok() { return 1; }\n")
    write(tmp_path, "bin.py", b"\x00\x01\x02binary")
    write(tmp_path, "bundle.min.js", "function a(){}\n")
    write(tmp_path, "dense.js", "var a=1;" * 2000)
    write(tmp_path, "big.py", "x = 1\n" * 50_000)
    indexed, skipped = _walk(tmp_path, Limits(max_bytes=100_000))
    assert indexed == {"ok.js"}
    assert skipped["bin.py"].startswith("binary")
    assert skipped["bundle.min.js"].startswith("minified")
    assert skipped["dense.js"].startswith("minified")
    assert skipped["big.py"].startswith("too large")


def test_empty_and_non_utf8_files_are_indexed(tmp_path: Path) -> None:
    """An empty file and a Latin-1 file are read, not skipped."""
    write(tmp_path, "empty.py", "")
    write(tmp_path, "latin.py", b"# caf\xe9\ndef f(): pass\n")
    indexed, skipped = _walk(tmp_path)
    assert indexed == {"empty.py", "latin.py"} and not skipped


def test_symlinks_are_never_followed(tmp_path: Path) -> None:
    """Links out of the repo, links inside it and link loops are all skipped, with reasons."""
    outside = tmp_path / "outside"
    write(outside, "secret.py", "def secret(): pass\n")
    repo = tmp_path / "repo"
    write(repo, "a.py", "def a(): pass\n")
    os.symlink(outside / "secret.py", repo / "escape.py")
    os.symlink(outside, repo / "escape_dir")
    os.symlink(repo / "a.py", repo / "alias.py")
    os.symlink(repo / "loop", repo / "loop")
    write(repo, "doc/index.rst", "Retrying\n========\n")
    os.symlink(repo / "doc/index.rst", repo / "README.rst")  # tenacity's README: not indexed at its own path either
    os.symlink(repo / "doc/index.rst", repo / "intro.py")
    write(repo, "img/logo.png", b"\x89PNG\r\n")
    os.symlink(repo / "img/logo.png", repo / "logo.png")  # awesome's spec/ links 20 of them: no skip to report
    os.symlink(outside / "secret.py", repo / "secret.png")
    os.symlink(repo / "missing.png", repo / "gone.png")
    os.symlink(outside / "secret.py", repo / "vendored.py")
    write(repo, ".gitignore", "vendored.py\n")  # an ignored link is as an ignored file: not reported
    indexed, skipped = _walk(repo)
    assert indexed == {"a.py"}
    assert skipped["alias.py"] == "symlink inside the repository (not followed; a.py is indexed at its own path)"
    assert skipped["intro.py"] == "symlink inside the repository (not followed; doc/index.rst is no source file)"
    assert {"README.rst", "logo.png", "gone.png", "vendored.py"}.isdisjoint(skipped)  # no source, as the files they stand for
    assert skipped["secret.png"] == "symlink points outside the repository"  # its target's name is a source file's
    assert skipped["escape.py"] == "symlink points outside the repository"
    assert skipped["escape_dir"] == "symlink points outside the repository"
    assert skipped["alias.py"].startswith("symlink inside the repository")
    assert skipped["loop"] == "symlink is broken or loops"


def test_symlinked_gitignore_is_not_read(tmp_path: Path) -> None:
    """An ignore file that is a link could point anywhere; it is ignored."""
    outside = write(tmp_path / "outside", "ignore", "*.py\n")
    repo = tmp_path / "repo"
    write(repo, "a.py", "def a(): pass\n")
    os.symlink(outside, repo / ".gitignore")
    indexed, _ = _walk(repo)
    assert indexed == {"a.py"}


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read files without permission")
def test_unreadable_files_and_directories_are_reported(tmp_path: Path) -> None:
    """Permission errors skip the file or directory with a reason instead of crashing."""
    write(tmp_path, "ok.py", "def ok(): pass\n")
    locked = write(tmp_path, "locked.py", "def x(): pass\n")
    locked.chmod(0)
    (tmp_path / "closed").mkdir()
    write(tmp_path, "closed/in.py", "def y(): pass\n")
    (tmp_path / "closed").chmod(0)
    try:
        indexed, skipped = _walk(tmp_path)
    finally:
        (tmp_path / "closed").chmod(0o755)
        locked.chmod(0o644)
    assert indexed == {"ok.py"}
    assert "not readable" in skipped["locked.py"] and "not readable" in skipped["closed"]


def test_names_with_spaces_and_unicode(tmp_path: Path) -> None:
    """Paths with spaces and non-ASCII characters are indexed as they are."""
    write(tmp_path, "my dir/naïve café.py", "def f(): pass\n")
    indexed, _ = _walk(tmp_path)
    assert indexed == {"my dir/naïve café.py"}


def test_content_problem_accepts_normal_code() -> None:
    """Ordinary code has no content problem."""
    assert content_problem(b"def f():\n    return 1\n") is None


def test_file_entry_and_source_carry_language_and_mtime(tmp_path: Path) -> None:
    """A found file knows its language and mtime; reading keeps them."""
    write(tmp_path, "m.go", "package m\nfunc F() {}\n")
    (cand,) = [c for c in walk(tmp_path) if isinstance(c, FileEntry)]
    source = read_source(cand)
    assert isinstance(source, SourceFile)
    assert (cand.language, source.language, source.mtime_ns) == ("go", "go", cand.mtime_ns)


# -- hostile ignore files: every line compiles, matching is linear ---------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from indexer.gitignore import _Matcher, _regex, _tokenize  # noqa: E402

_GLOB = st.text(alphabet="ab/*?[]!-z\\", min_size=1, max_size=12)
_PATH = st.text(alphabet="ab/z-", min_size=1, max_size=12)


@settings(max_examples=400, deadline=None)
@given(_GLOB, _PATH)
def test_linear_matcher_agrees_with_the_regex(glob: str, path: str) -> None:
    """The NFA used for many-wildcard patterns matches exactly what the regular expression matches."""
    import re

    for tokens in (_tokenize(glob), [(4,), *_tokenize(glob)]):  # anchored, and unanchored (**/ prefix)
        expected = re.match(_regex(tokens), path, re.DOTALL) is not None
        assert _Matcher(tokens, None).matches(path) is expected, (glob, path, tokens)


def test_pathological_glob_is_matched_in_linear_time() -> None:
    """`*a*a*a*a*a*a*a*a*b` against a long run of a's: answered without backtracking."""
    import time

    patterns = parse_lines(["*a*a*a*a*a*a*a*a*b"])
    started = time.process_time()
    for n in (100, 1000, 4000):
        assert not is_ignored(patterns, "a" * n, False)
        assert is_ignored(patterns, "a" * n + "b", False)
    # The old regex needed seconds for 30 characters (it grows like n**8); this is milliseconds.
    assert time.process_time() - started < 2.0


def _git_check_ignore(tmp_path: Path, lines: list[str], paths: list[str]) -> set[str]:
    import subprocess

    repo = tmp_path / "gitrepo"
    repo.mkdir(exist_ok=True)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / ".gitignore").write_text("\n".join(lines) + "\n")
    out = subprocess.run(["git", "-C", str(repo), "check-ignore", "--no-index", "--stdin"],
                         input="\n".join(paths) + "\n", capture_output=True, text=True)
    return set(out.stdout.split())


@pytest.mark.skipif(__import__("shutil").which("git") is None, reason="git is the oracle")
def test_odd_gitignore_lines_match_like_git(tmp_path: Path) -> None:
    """Lines git accepts but Python's re rejects, classes and escapes: same answers as git check-ignore."""
    lines = ["[z-a]*.log", "*a*a*a*a*a*a*a*a*b", "x[[:digit:]]y", "q[!0-3]", "br[a-]c", "[]]r", "esc\\*", "m*/n"]
    paths = ["a.log", "z.log", "aaaaab", "aaaa", "x5y", "xay", "q4", "q1", "bra", "br-c", "brac", "]r",
             "esc*", "escx", "m1/n", "mm/n", "m/x/n"]
    ours = {p for p in paths if is_ignored(parse_lines(lines), p, False)}
    assert ours == _git_check_ignore(tmp_path, lines, paths)


def test_utf16_text_is_not_called_binary() -> None:
    """A UTF-16 source (with its byte-order mark) was reported as "binary (contains NUL bytes)"."""
    source = "def wait():\n    return 1\n"
    for data in (b"\xff\xfe" + source.encode("utf-16-le"), b"\xfe\xff" + source.encode("utf-16-be"),
                 b"\xff\xfe\x00\x00" + source.encode("utf-32-le")):
        assert content_problem(data) == "UTF-16 or UTF-32 text (only UTF-8 and ASCII-compatible encodings are read)"
    assert content_problem(b"\x7fELF\x02\x01\x01\x00\x00") == "binary (contains NUL bytes)"


def test_ignore_patterns_past_the_limit_are_reported_and_not_used(tmp_path: Path) -> None:
    """Every pattern is tried on every path: a crafted .codesearchignore and .gitignore of 100,000 lines each made an
    index of 1,000 files run past 400 s. Patterns past MAX_IGNORE_PATTERNS (and past MAX_SIMULATED_PATTERNS of three
    wildcards or more) are reported with the ignore file and not used."""
    from indexer.discover import MAX_IGNORE_PATTERNS, MAX_SIMULATED_PATTERNS

    for name in ("early.py", "late.py", "starry.py", "kept.py"):
        write(tmp_path, name, "def f():\n    return 1\n")
    plain = [f"unused_{i}.py" for i in range(MAX_IGNORE_PATTERNS - 1)]
    write(tmp_path, ".gitignore", "\n".join(["early.py", *plain, "late.py"]) + "\n")
    indexed, skipped = _walk(tmp_path)
    assert "early.py" not in indexed and "late.py" in indexed  # the first 1,000 patterns apply, the rest not
    assert skipped[".gitignore"].startswith("1 ignore patterns not used")
    other = tmp_path / "other"
    starry = [f"*q*q*q*q{i}" for i in range(MAX_SIMULATED_PATTERNS)]
    write(other, ".codesearchignore", "\n".join([*starry, "*s*t*a*r*r*y.py", "plain.py"]) + "\n")
    for name in ("starry.py", "plain.py"):
        write(other, name, "def g():\n    return 2\n")
    indexed, skipped = _walk(other)
    assert "starry.py" in indexed and "plain.py" not in indexed  # only the 51st starry pattern is left out
    assert skipped[".codesearchignore"].startswith("1 ignore patterns not used")
