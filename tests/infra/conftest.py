"""Synthesizes the CDK app once per test session; the tests read the templates (and the construct tree)."""

from __future__ import annotations

import os

# Before anything imports aws_cdk (and starts the jsii runtime).
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.infra.synthesis import CONTEXT, Synthesized


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synthesized]:
    from infra.stacks import build_app

    outdir = tmp_path_factory.mktemp("cdk.out")
    app = build_app(context=CONTEXT, outdir=str(outdir))
    assembly = app.synth()
    stacks = {stack.stack_name: stack for stack in assembly.stacks}
    yield Synthesized(
        app=app,
        outdir=outdir,
        templates={name: stack.template for name, stack in stacks.items()},
        template_files={name: Path(stack.template_full_path) for name, stack in stacks.items()},
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """With ``-n`` (pytest-xdist, ``--dist loadgroup``), every infra test runs on one worker, so the
    CDK app is synthesized once per test run, not once per worker."""
    for item in items:
        if item.path.parent.name == "infra" and item.path.parent.parent.name == "tests":
            item.add_marker(pytest.mark.xdist_group("cdk-synthesis"))
