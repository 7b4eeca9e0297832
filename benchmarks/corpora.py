"""Fetch real source code for benchmarks from what the registries install, into a cache.

Nothing here is committed: the code lands in ``~/.cache/codesearch/corpora/speed``
(``$CODESEARCH_CACHE`` overrides ``~/.cache/codesearch``). Sources:

- ``jdk``: the JDK's ``lib/src.zip`` (GPLv2 with Classpath Exception). Debian's
  ``openjdk-17-source`` package provides it; any installed JDK's src.zip is used.
- ``python-stdlib``: the running interpreter's standard library (PSF licence).
- ``monorepo``: one folder of about a million chunks for issue 24's monorepo measurements: every
  JDK ``src.zip`` on the machine (each under its JDK's name), the Python standard library, the Go
  standard library from Debian's ``golang-1.19-src`` (BSD-3-Clause), and ``KERNEL_DIRS`` of the
  Linux kernel from Debian's ``linux-source-6.1`` (GPL-2.0); Debian packages are fetched with
  ``apt-get download`` and unpacked with ``dpkg-deb``, nothing installed.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sysconfig
import tempfile
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


KERNEL_DIRS = ("drivers/net", "sound", "fs", "net", "drivers/scsi", "drivers/usb", "kernel", "lib", "mm")


def _debian_package(name: str, into: Path) -> Path:
    """Download a Debian package (nothing installed) and unpack it under ``into``; the unpacked root."""
    subprocess.run(["apt-get", "download", name], cwd=into, check=True, capture_output=True)
    deb = next(into.glob(f"{name}_*.deb"))
    subprocess.run(["dpkg-deb", "-x", str(deb), str(into / "x")], check=True)
    return into / "x"


def monorepo(go_package: str = "golang-1.19-src", kernel_package: str = "linux-source-6.1") -> Path:
    """One folder holding every JDK's sources, the Python and Go standard libraries and part of Linux."""
    dest = cache_dir() / "monorepo"
    if (dest / ".complete").exists():
        return dest
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    zips = sorted({Path(p).resolve() for pattern in JDK_SRC_GLOBS for p in glob.glob(pattern) if zipfile.is_zipfile(p)})
    for archive in zips:  # /usr/lib/jvm/NAME/lib/src.zip -> jdk/NAME
        name = archive.parent.parent.name if archive.parent.name == "lib" else archive.parent.name
        with zipfile.ZipFile(archive) as opened:
            opened.extractall(dest / "jdk" / name)
    shutil.copytree(python_stdlib(), dest / "python-stdlib", symlinks=True)
    with tempfile.TemporaryDirectory() as tmp:
        unpacked = _debian_package(go_package, Path(tmp))
        source = next(p for p in unpacked.rglob("src") if p.is_dir() and (p / "net" / "http").is_dir())
        shutil.copytree(source, dest / "go", symlinks=True)
    with tempfile.TemporaryDirectory() as tmp:
        if not KERNEL_DIRS:  # the 468,601-chunk corpus of docs/SCALE.md's table
            (dest / ".complete").write_text("\n".join([*map(str, zips), go_package]))
            return dest
        tarball = next(_debian_package(kernel_package, Path(tmp)).rglob("linux-source-*.tar.xz"))
        top = tarball.name.removesuffix(".tar.xz")
        subprocess.run(["tar", "-xJf", str(tarball), "-C", str(dest), *(f"{top}/{d}" for d in KERNEL_DIRS)],
                       check=True)
        (dest / top).rename(dest / "linux")
    (dest / ".complete").write_text("\n".join([*map(str, zips), go_package, kernel_package, *KERNEL_DIRS]))
    return dest


CORPORA = {"jdk": jdk, "python-stdlib": python_stdlib, "monorepo": monorepo}
