"""The mutation tooling: the catalogue is current, samples are reproducible, files come back."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from tooling.mutation import cli
from tooling.mutation.catalogue import Catalogue, Mutant, load_catalogue
from tooling.mutation.runner import run_mutant

AREAS = {"kernel", "host", "validators"}


def test_the_catalogue_is_current_and_large_enough() -> None:
    catalogue = load_catalogue()
    assert catalogue.stale() == []
    assert len(catalogue.mutants) >= 60
    assert {m.area for m in catalogue.mutants} == AREAS
    assert all(m.doc for m in catalogue.mutants)


def test_a_sample_is_reproducible_and_covers_every_area() -> None:
    catalogue = load_catalogue()
    first = catalogue.sample(6, "0123abcd")
    assert first == catalogue.sample(6, "0123abcd")
    assert len(first) == 6
    assert {m.area for m in first} == AREAS
    assert first != catalogue.sample(6, "fedc9876")


def _catalogue_file(tmp_path: Path, mutants: list[dict[str, str]]) -> Path:
    path = tmp_path / "catalogue.json"
    areas = {"validators": ["tests/test_check_cases.py", "-k", "kernel-wrong-param-type"]}
    path.write_text(json.dumps({"format": 1, "doc": "", "areas": areas, "mutants": mutants}))
    return path


def test_a_stale_mutant_fails_the_run_and_is_never_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stale = {
        "id": "validators/gone",
        "area": "validators",
        "file": "dist_kernel/extism_kernel/_check.py",
        "search": "this text is not in the file",
        "replace": "anything",
        "doc": "a mutant whose code has changed since it was written",
    }
    path = _catalogue_file(tmp_path, [stale])
    monkeypatch.setattr(cli, "load_catalogue", lambda: load_catalogue(path))
    args = argparse.Namespace(area=None, ids=None, sample=None, seed=None, json=False)
    assert cli.run(args) == cli.EXIT_BROKEN
    out = capsys.readouterr().out
    assert "stale: validators/gone" in out
    assert "killed" not in out


def test_a_planted_bug_is_killed_and_the_file_restored(tmp_path: Path) -> None:
    mutant = Mutant(
        id="validators/params",
        area="validators",
        file="dist_kernel/extism_kernel/_abi_match.py",
        search="and found.param_types == want.param_types",
        replace="and len(found.param_types) == len(want.param_types)",
        doc="signatures are compared by the number of parameters only",
    )
    before = mutant.path.read_text(encoding="utf-8")
    catalogue = load_catalogue(_catalogue_file(tmp_path, [mutant.__dict__]))
    assert isinstance(catalogue, Catalogue)
    result = run_mutant(mutant, catalogue)
    assert result.outcome == "killed"
    assert "kernel-wrong-param-type" in result.detail
    assert mutant.path.read_text(encoding="utf-8") == before
