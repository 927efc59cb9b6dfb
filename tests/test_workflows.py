"""The GitHub workflows, checked offline: GitHub's schema, zizmor, and our own pinning rules."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from tests.dist_builder import console_script

REPO = Path(__file__).resolve().parent.parent
GITHUB = REPO / ".github"
WORKFLOWS = GITHUB / "workflows"
WORKFLOW_FILES = sorted(WORKFLOWS.glob("*.yml"))
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
VERSION_COMMENT = re.compile(r"uses: \S+@[0-9a-f]{40} # v\d+(\.\d+)*$")


def _load(path: Path) -> dict[str, Any]:
    data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), path
    return data


def _steps(workflow: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (job_id, step) for job_id, job in workflow["jobs"].items() for step in job.get("steps", [])
    ]


def test_both_workflows_exist():
    assert [p.name for p in WORKFLOW_FILES] == ["ci.yml", "release.yml"]


def test_github_workflow_schema():
    """`check-jsonschema` ships GitHub's workflow schema: no network needed."""
    proc = subprocess.run(  # noqa: S603
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.github-workflows",
            *map(str, WORKFLOW_FILES),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_dependabot_schema():
    proc = subprocess.run(  # noqa: S603
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.dependabot",
            str(GITHUB / "dependabot.yml"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_zizmor_offline_has_no_findings():
    """Workflows and dependabot.yml: pinning, permissions, template injection, cooldowns, ..."""
    proc = subprocess.run(  # noqa: S603
        [console_script("zizmor"), "--offline", "--format=json", str(GITHUB)],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )
    assert proc.stdout.strip(), proc.stderr
    findings = json.loads(proc.stdout)
    described = [
        f"{f['ident']} ({f['determinations']['severity']}): {f['desc']} "
        f"at {f['locations'][0]['symbolic']['key']}"
        for f in findings
    ]
    assert described == []


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_actions_pinned_by_commit_with_version_comment(path: Path):
    workflow = _load(path)
    for job_id, step in _steps(workflow):
        uses = step.get("uses")
        if uses is not None:
            assert PINNED.match(uses), f"{path.name} job `{job_id}`: `{uses}` is not pinned by SHA"
    for line in path.read_text(encoding="utf-8").splitlines():
        if "uses: " in line and "@" in line:
            assert VERSION_COMMENT.search(line.strip()), f"{path.name}: `{line.strip()}`"


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_least_permissions(path: Path):
    workflow = _load(path)
    assert workflow["permissions"] == {}, f"{path.name}: the default token must have no scopes"
    for job_id, job in workflow["jobs"].items():
        perms = job.get("permissions")
        assert perms is not None, f"{path.name} job `{job_id}`: no explicit permissions"
        writes = {k for k, v in perms.items() if v == "write"}
        allowed = {"pypi": {"id-token"}, "testpypi": {"id-token"}, "github-release": {"contents"}}
        assert writes <= allowed.get(job_id, set()), f"{path.name} job `{job_id}`: {writes}"


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_no_expressions_in_shell(path: Path):
    """Template injection: `run:` never expands `${{ }}`; values come in through `env:`."""
    for job_id, step in _steps(_load(path)):
        assert "${{" not in step.get("run", ""), f"{path.name} job `{job_id}`: {step.get('name')}"


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_checkout_does_not_persist_credentials(path: Path):
    for job_id, step in _steps(_load(path)):
        if step.get("uses", "").startswith("actions/checkout@"):
            assert step["with"]["persist-credentials"] is False, f"{path.name} job `{job_id}`"


def test_ci_builds_once_and_tests_the_wheel_everywhere():
    ci = _load(WORKFLOWS / "ci.yml")
    assert set(ci["on"]) == {"push", "pull_request", "workflow_call"}
    builds = [j for j, s in _steps(ci) if "python -m build" in s.get("run", "")]
    assert builds == ["build"]
    test = ci["jobs"]["test"]
    assert test["needs"] == "build"
    assert test["strategy"]["matrix"] == {
        "os": ["ubuntu-latest", "macos-latest", "windows-latest"],
        "python": ["3.10", "3.11", "3.12", "3.13"],
    }
    runs = "\n".join(s.get("run", "") for s in test["steps"])
    assert 'pip install -c dev-constraints.txt "${wheel}[test]"' in runs
    assert "python -m pytest" in runs
    assert "pip install -e" not in runs
    assert "pip install ." not in runs
    build_runs = "\n".join(s.get("run", "") for s in ci["jobs"]["build"]["steps"])
    for command in (
        "twine check --strict",
        "pip install -c dev-constraints.txt build twine packaging",
        "check-wheel-contents",
        "--target wasm32-unknown-unknown",
        "SOURCE_DATE_EPOCH",
    ):
        assert command in build_runs


def test_release_gates_and_publishes_by_trusted_publishing():
    release = _load(WORKFLOWS / "release.yml")
    assert release["on"]["push"] == {"tags": ["v*.*.*"]}
    assert "workflow_dispatch" in release["on"]
    jobs = release["jobs"]
    assert jobs["ci"]["uses"] == "$/.github/workflows/ci.yml"  # self-repository form
    assert set(jobs["pypi"]["needs"]) == {"ci", "abi-diff"}
    assert jobs["pypi"]["environment"]["name"] == "pypi"
    assert jobs["pypi"]["permissions"] == {"id-token": "write"}
    publish = [s for s in jobs["pypi"]["steps"] if "gh-action-pypi-publish" in s.get("uses", "")]
    assert len(publish) == 1
    assert publish[0]["with"] == {"attestations": True}  # no password: OIDC only
    test_publish = next(
        s for s in jobs["testpypi"]["steps"] if "gh-action-pypi-publish" in s.get("uses", "")
    )
    assert test_publish["with"]["repository-url"] == "https://test.pypi.org/legacy/"
    assert "abi-diff" in "\n".join(s.get("run", "") for s in jobs["abi-diff"]["steps"])
    assets = "\n".join(s.get("run", "") for s in jobs["github-release"]["steps"])
    for asset in ("extism-kernel.wasm", "extism-kernel-no-reference-types.wasm", "abi.json"):
        assert asset in assets
    assert "sha256sum" in assets
    assert "gh release create" in assets


def test_actionlint_where_available():
    """actionlint is optional here (its PyPI package downloads a binary at build time)."""
    actionlint = shutil.which("actionlint")
    if actionlint is None:
        pytest.skip("actionlint is not installed (optional)")
    proc = subprocess.run(  # noqa: S603
        [actionlint, *map(str, WORKFLOW_FILES)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


PUBLISH_ACTION = GITHUB / "publish-action.json"


def test_publish_action_pin_and_its_recorded_bundle_move_together():
    """Every use of the publish action is the recorded sha and tag; the constraints pin its bundle.

    The bundle (the twine and packaging inside the action) is what validates and uploads the
    artifact, so the tests check the artifact with exactly those versions (test_packaging).
    """
    data = json.loads(PUBLISH_ACTION.read_text(encoding="utf-8"))
    release = (WORKFLOWS / "release.yml").read_text(encoding="utf-8")
    uses = [line.strip() for line in release.splitlines() if f"uses: {data['action']}@" in line]
    assert len(uses) == 2  # PyPI and TestPyPI
    assert set(uses) == {f"- uses: {data['action']}@{data['sha']} # {data['tag']}"}
    for workflow in WORKFLOW_FILES:
        text = workflow.read_text(encoding="utf-8")
        assert all(data["action"] not in line or data["sha"] in line for line in text.splitlines())
    constraints = (REPO / "dev-constraints.txt").read_text(encoding="utf-8").splitlines()
    for name, pinned in data["bundles"].items():
        assert f"{name}=={pinned}" in constraints, f"dev-constraints.txt must pin {name}=={pinned}"
