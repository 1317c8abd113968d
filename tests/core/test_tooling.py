"""Reproducible tooling: the lock file pins what pyproject.toml asks for, and make installs it."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]


def _lock() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"not an exact pin: {line}"
            pins[canonicalize_name(name)] = version
    return pins


def _requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    listed = project["dependencies"] + [
        r for rs in project["optional-dependencies"].values() for r in rs
    ]
    return [Requirement(r) for r in listed]


def test_every_dependency_is_locked_within_its_range():
    pins = _lock()
    for requirement in _requirements():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is not in requirements.lock (run make lock)"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"{name}=={pins[name]} in requirements.lock is outside {requirement.specifier}"
        )


def test_linter_is_pinned_exactly():
    ruff = next(r for r in _requirements() if r.name == "ruff")
    assert re.fullmatch(r"==[\d.]+", str(ruff.specifier)), ruff
    assert _lock()["ruff"] == str(ruff.specifier)[2:]


def test_make_installs_from_the_lock_file():
    makefile = (ROOT / "Makefile").read_text()
    installs = [line for line in makefile.splitlines() if "pip install" in line and "-e" in line]
    project_installs = [line for line in installs if "lock-venv" not in line]
    assert project_installs
    for line in project_installs:
        assert "--constraint $(LOCK)" in line, line
    assert "LOCK := requirements.lock" in makefile
