"""scripts/build_datasets.py's package lists: specs name packages, folders split a package, the splits are disjoint."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from indexer.languages import spec_for

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "build_datasets.py"


@pytest.fixture(scope="module")
def build() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_datasets", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("build_datasets", module)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(("spec", "name"), [
    ("requests==2.32.3", "requests"), ("@tanstack/query-core@5.108.0", "tanstack/query-core"), ("effect", "effect"),
    ("mono:external/rx", "mono"), ("ziglang:ziglang/lib/std", "ziglang"),
    ("libboost1.81-dev:usr/include", "libboost1.81-dev"),
])
def test_a_spec_names_its_package_without_pin_or_folder(build: ModuleType, spec: str, name: str) -> None:
    assert build._name(spec) == name


@pytest.mark.parametrize(("first", "second", "shared"), [
    ("mono", "mono:external/rx", True),  # the whole package holds every folder
    ("mono:external/rx", "mono:external/rx/Source", True),
    ("mono:external/rx", "mono:external/rxjs", False),  # a name prefix is not a parent folder
    ("mono:external/rx", "mono:mcs/class", False),
    ("mono:external/rx", "dbus-sharp", False),
])
def test_specs_overlap_when_one_folder_holds_the_other(build: ModuleType, first: str, second: str,
                                                       shared: bool) -> None:
    assert build.overlaps(first, second) is shared
    assert build.overlaps(second, first) is shared


def test_the_shipped_lists_are_disjoint_and_cover_every_registered_language(build: ModuleType) -> None:
    build.check_disjoint()  # raises SystemExit on a package in both splits
    for split in ("eval", "train"):
        for language, sources in build.SPLITS[split].items():
            assert spec_for(language).name == language
            assert set(sources) <= set(build.SOURCES), language
    assert set(build.SPLITS["eval"]) == set(build.SPLITS["train"])


def test_a_package_in_both_splits_is_refused(build: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    splits = {"eval": {"lua": {"debian": ["lua-penlight"]}}, "train": {"lua": {"debian": ["lua-penlight:usr/share"]}}}
    monkeypatch.setattr(build, "SPLITS", splits)
    with pytest.raises(SystemExit, match="lua-penlight"):
        build.check_disjoint()
