"""Regenerate the CLI reference from the click commands: the command table of README.md and the
full reference in docs/CLI.md (each between its markers). tests/test_cli_reference.py fails when
either differs from what this writes.

    python scripts/cli_reference.py           # rewrite both blocks
    python scripts/cli_reference.py --check   # exit 1, naming the file, if one is out of date
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from codesearch.cli import cli
from codesearch.devcli import REFERENCE_MARKERS, SUMMARY_MARKERS, cli_reference, cli_summary, replace_block

ROOT = Path(__file__).resolve().parents[1]


def blocks() -> dict[Path, str]:
    """Each file with its generated block put in."""
    wanted = {ROOT / "README.md": (SUMMARY_MARKERS, cli_summary(cli)),
              ROOT / "docs" / "CLI.md": (REFERENCE_MARKERS, cli_reference(cli))}
    return {path: replace_block(path.read_text(), markers, body) for path, (markers, body) in wanted.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="Only check; exit 1 if a block is out of date.")
    args = parser.parse_args()
    stale = []
    for path, text in blocks().items():
        if path.read_text() != text:
            stale.append(path)
            if not args.check:
                path.write_text(text)
    for path in stale:
        print(f"{'out of date' if args.check else 'rewrote'}: {path.relative_to(ROOT)}", file=sys.stderr)  # noqa: T201
    sys.exit(1 if stale and args.check else 0)


if __name__ == "__main__":
    main()
