"""The CLI reference cannot drift: README.md's command table and docs/CLI.md are generated from the
click commands (scripts/cli_reference.py), every option says what it accepts, help names no
internal constant, and the developer commands are listed apart from the user's."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from codesearch.cli import cli
from codesearch.devcli import (REFERENCE_MARKERS, SUMMARY_MARKERS, accepts, cli_reference, cli_summary,
                               replace_block)

ROOT = Path(__file__).resolve().parents[1]
REGENERATE = "out of date: run `python scripts/cli_reference.py` and commit the result"
DEVELOPER = {"bench", "distill", "train-reranker"}
# Names a user may set: environment variables, not the code's constants.
USER_NAMES = re.compile(r"CODESEARCH_[A-Z_]+|NO_COLOR")


def _block(text: str, markers: tuple[str, str]) -> str:
    start, end = markers
    return text[text.index(start) + len(start):text.index(end)].strip()


def _options() -> list[tuple[str, click.Option, click.Context]]:
    ctx = click.Context(cli, info_name="codesearch", **cli.context_settings)
    found = []
    for name, command in sorted(cli.commands.items()):
        sub = click.Context(command, info_name=name, parent=ctx)
        found += [(name, p, sub) for p in command.params if isinstance(p, click.Option)]
    return found


@pytest.mark.parametrize(("path", "markers", "render"), [
    ("README.md", SUMMARY_MARKERS, cli_summary),
    ("docs/CLI.md", REFERENCE_MARKERS, cli_reference),
], ids=["README.md", "docs/CLI.md"])
def test_the_checked_in_reference_is_the_generated_one(path: str, markers: tuple[str, str], render) -> None:
    """The block between the markers equals what the commands generate today."""
    text = (ROOT / path).read_text()
    assert _block(text, markers) == render(cli).strip(), f"{path}: {REGENERATE}"


def test_the_reference_lists_every_command_and_option() -> None:
    """Each command has a section in docs/CLI.md, and each of its options a row there."""
    reference = (ROOT / "docs" / "CLI.md").read_text()
    for name, option, _ in _options():
        section = reference[reference.index(f"### codesearch {name}\n"):]
        section = section[:section.find("\n### ", 1) if "\n### " in section[1:] else len(section)]
        assert f"| `{option.opts[0]}`" in section or f", `{option.opts[-1]}`" in section, (name, option.opts)


def test_the_script_checks_and_regenerates(tmp_path: Path) -> None:
    """scripts/cli_reference.py --check passes on the checked-in files; replace_block rewrites only the block."""
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "cli_reference.py"), "--check"],
                            capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    text = f"before\n{REFERENCE_MARKERS[0]}\nold\n{REFERENCE_MARKERS[1]}\nafter\n"
    assert replace_block(text, REFERENCE_MARKERS, "new") == \
        f"before\n{REFERENCE_MARKERS[0]}\nnew\n{REFERENCE_MARKERS[1]}\nafter\n"
    with pytest.raises(ValueError, match="cli-reference start"):
        replace_block("no markers here", REFERENCE_MARKERS, "new")


@pytest.mark.parametrize(("name", "option", "ctx"), _options(),
                         ids=lambda v: v if isinstance(v, str) else v.name if isinstance(v, click.Option) else "")
def test_every_option_has_help_that_says_what_it_accepts(name: str, option: click.Option, ctx: click.Context) -> None:
    """Help text on every option; a value is a flag, a choice, a range, a path or a named format
    (a bare TEXT says nothing)."""
    record = option.get_help_record(ctx)
    assert record is not None and option.help and option.help.strip(), (name, option.opts)
    assert accepts(option) != "TEXT", f"codesearch {name} {option.opts[-1]}: give it a metavar or a type"
    if not option.is_flag and option.type.name == "text":
        assert option.metavar and option.metavar in record[0], (name, option.opts)


def test_help_names_no_internal_constant() -> None:
    """No help text mentions a constant of the code (DEFAULT_RERANK, MAX_QUERY_CHARS...): users cannot see them.
    Environment variables (CODESEARCH_*, NO_COLOR) are for users and may be named."""
    texts = [cli.help or ""] + [c.help or "" for c in cli.commands.values()]
    texts += [option.get_help_record(ctx)[1] for _, option, ctx in _options()]
    names = {n for text in texts for n in re.findall(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b", text)}
    assert {n for n in names if not USER_NAMES.fullmatch(n)} == set()


def test_developer_commands_are_listed_apart() -> None:
    """`codesearch -h` lists bench, distill and train-reranker under their own heading, after the user's
    commands; each still runs as `codesearch NAME`."""
    text = CliRunner().invoke(cli, ["-h"]).output
    user, _, developer = text.partition("Developer commands:")
    listed = lambda part: {line.split()[0] for line in part.split("Commands:")[-1].splitlines() if line.startswith("  ")}  # noqa: E731
    assert listed(developer) == DEVELOPER, text
    assert DEVELOPER.isdisjoint(listed(user)) and {"index", "search", "related", "mcp"} <= listed(user)
    for name in DEVELOPER:
        result = CliRunner().invoke(cli, [name, "-h"])
        assert result.exit_code == 0 and f"codesearch {name}" in result.output


def test_bench_help_names_every_ranking_signal() -> None:
    """`codesearch bench` takes `hybrid-<signal>` for every field of ``Signals``; its help lists them all
    (`twins` and `declared` were added to the ranking after the list was written)."""
    from codesearch.bench.configs import SIGNAL_NAMES

    text = " ".join(CliRunner().invoke(cli, ["bench", "--help"], terminal_width=200).output.split())
    listed = re.search(r"one ranking signal off: ([^;]+);", text)
    assert listed is not None
    assert sorted(n.strip() for n in listed.group(1).split(",")) == sorted(SIGNAL_NAMES)
