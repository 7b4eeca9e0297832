"""Fetch real source code for benchmarks from what the registries install, into a cache.

Nothing here is committed: the code lands in ``~/.cache/codesearch/corpora/speed``
(``$CODESEARCH_CACHE`` overrides ``~/.cache/codesearch``). Sources:

- ``jdk``: the JDK's ``lib/src.zip`` (GPLv2 with Classpath Exception). Debian's
  ``openjdk-17-source`` package provides it; any installed JDK's src.zip is used.
- ``python-stdlib``: the running interpreter's standard library (PSF licence).
"""

from __future__ import annotations

import glob
import os
import shutil
import sysconfig
import zipfile
from pathlib import Path

JDK_SRC_GLOBS = ("/usr/lib/jvm/*/lib/src.zip", "/usr/lib/jvm/*/src.zip")


def cache_dir() -> Path:
    """Where corpora are unpacked."""
    return Path(os.environ.get("CODESEARCH_CACHE", Path.home() / ".cache" / "codesearch")) / "corpora"


def jdk_src_zip() -> Path:
    """The first readable JDK src.zip on this machine.

    :raises FileNotFoundError: with the apt-get command that installs one.
    """
    for pattern in JDK_SRC_GLOBS:
        for candidate in sorted(glob.glob(pattern), reverse=True):
            path = Path(candidate)
            if path.is_file() and zipfile.is_zipfile(path):
                return path.resolve()
    raise FileNotFoundError("no JDK src.zip found; install one with: apt-get install -y openjdk-17-source")


def jdk() -> Path:
    """The JDK sources, unpacked once."""
    dest = cache_dir() / "speed" / "jdk"
    if not (dest / ".complete").exists():
        shutil.rmtree(dest, ignore_errors=True)
        dest.mkdir(parents=True)
        with zipfile.ZipFile(jdk_src_zip()) as archive:
            archive.extractall(dest)
        (dest / ".complete").write_text(str(jdk_src_zip()))
    return dest


def python_stdlib() -> Path:
    """A copy of this interpreter's standard library (without site-packages)."""
    dest = cache_dir() / "speed" / "python-stdlib"
    if not (dest / ".complete").exists():
        shutil.rmtree(dest, ignore_errors=True)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(
            sysconfig.get_paths()["stdlib"],
            dest,
            ignore=shutil.ignore_patterns("site-packages", "__pycache__", "*.pyc"),
            symlinks=True,
        )
        (dest / ".complete").write_text(sysconfig.get_paths()["stdlib"])
    return dest


CORPORA = {"jdk": jdk, "python-stdlib": python_stdlib}
