"""checkov (pinned, run on the synthesized templates beside cdk-nag and cfn-lint) finds nothing unacknowledged:
every check either passes or is skipped on its resource with a written reason (``Metadata.checkov.skip``)."""

from __future__ import annotations

import json
import re
import subprocess

from infra.catalog import ROOT
from tests.infra.synthesis import Synthesized

# make install puts checkov (CHECKOV_VERSION in the Makefile) in a tool environment of its own.
CHECKOV = ROOT / ".tools" / "bin" / "checkov"
PINNED = re.search(r"^CHECKOV_VERSION := (\S+)$", (ROOT / "Makefile").read_text(), re.MULTILINE)


def test_given_the_synthesized_templates_when_checkov_scans_them_then_every_finding_is_fixed_or_acknowledged(
    synthesized: Synthesized,
) -> None:
    # Given checkov at the version the Makefile pins
    assert CHECKOV.exists(), "checkov is missing: run make install"
    assert PINNED is not None
    version = subprocess.run([str(CHECKOV), "--version"], capture_output=True, text=True, check=True).stdout.strip()
    assert version == PINNED.group(1)
    # When it scans the two templates (offline: no download of Prisma Cloud's metadata)
    result = subprocess.run(
        [
            str(CHECKOV),
            *(argument for path in synthesized.template_files.values() for argument in ("-f", str(path))),
            "--framework",
            "cloudformation",
            "--skip-download",
            "--compact",
            "--output",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    reports = json.loads(result.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    # Then nothing failed, and what it skipped was skipped for a reason written on the resource
    failed = [
        f"{check['check_id']} {check['resource']}" for report in reports for check in report["results"]["failed_checks"]
    ]
    assert failed == []
    skipped = [check for report in reports for check in report["results"]["skipped_checks"]]
    assert skipped, "the acknowledgments were read"
    unexplained = [
        f"{check['check_id']} {check['resource']}"
        for check in skipped
        if len(check["check_result"].get("suppress_comment") or "") < 40
    ]
    assert unexplained == []
    passed = sum(report["summary"]["passed"] for report in reports)
    assert passed > 300
