"""cfn-lint reports no error on any synthesized template (warnings are allowed)."""

from __future__ import annotations

from cfnlint.api import ManualArgs, lint_file

from tests.infra.synthesis import REGION, Synthesized


def test_given_each_synthesized_template_when_linted_then_cfn_lint_reports_no_error(
    synthesized: Synthesized,
) -> None:
    assert len(synthesized.template_files) == 2
    errors = []
    for name, path in synthesized.template_files.items():
        for match in lint_file(path, config=ManualArgs(regions=[REGION])):
            if match.rule.id.startswith("E"):
                errors.append(f"{name}: {match}")
    assert errors == []
