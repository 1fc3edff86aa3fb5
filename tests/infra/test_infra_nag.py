"""cdk-nag's AwsSolutions pack: no unacknowledged finding, and every acknowledgment says why."""

from __future__ import annotations

from aws_cdk import Validations
from cdk_nag import AwsSolutionsChecks

from infra.catalog import STATE_MACHINE_ENTRIES
from tests.infra.synthesis import ACCOUNT, DOCUMENTS_BUCKET, PLATFORM_STACK, REGION, Synthesized


def _acknowledgments(synthesized: Synthesized) -> dict[tuple[str, str], str]:
    """(construct path, rule id) → reason, for every acknowledgment in the app."""
    key = Validations.ACKNOWLEDGED_RULES_METADATA_KEY
    found = {}
    for construct in synthesized.app.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == key:
                for rule_id, reason in dict(entry.data).items():
                    found[(construct.node.path, rule_id)] = reason
    return found


def test_given_the_app_when_checked_with_aws_solutions_then_no_finding_is_unacknowledged(
    synthesized: Synthesized,
) -> None:
    report = AwsSolutionsChecks().validate_scope(synthesized.app)
    violations = [
        f"{violation.rule_name}: {[r.construct_path for r in violation.violating_resources]}"
        for violation in report.violations
    ]
    assert violations == []
    assert report.success


def test_given_the_acknowledgments_then_each_names_an_aws_solutions_rule_and_has_a_reason(
    synthesized: Synthesized,
) -> None:
    acknowledgments = _acknowledgments(synthesized)
    assert acknowledgments, "the app acknowledges some findings"
    for (path, rule_id), reason in acknowledgments.items():
        assert "AwsSolutions-" in rule_id, (path, rule_id)
        assert isinstance(reason, str) and len(reason.strip()) >= 40, (path, rule_id, reason)


def test_given_the_acknowledgments_then_the_only_wildcard_resources_acknowledged_are_the_known_ones(
    synthesized: Synthesized,
) -> None:
    wildcard_findings = {
        rule_id.split("Resource::", 1)[1].rstrip("]")
        for _, rule_id in _acknowledgments(synthesized)
        if "IAM5[Resource::" in rule_id
    }
    uploads = f"arn:aws:s3:::{DOCUMENTS_BUCKET}/uploads/*"
    machines = tuple(f"-{entry.state_machine_name}:*" for entry in STATE_MACHINE_ENTRIES)
    # CDK's BucketDeployment (the operations console's files): the console bucket's objects and the CDK assets
    # bucket's (the zipped sources)
    (console_bucket,) = (
        logical_id
        for logical_id, bucket in synthesized.resources("AWS::S3::Bucket", PLATFORM_STACK).items()
        if "VersioningConfiguration" in bucket["Properties"]
    )
    console = {f"<{console_bucket}.Arn>/*", f"arn:aws:s3:::cdk-hnb659fds-assets-{ACCOUNT}-{REGION}/*"}
    assert uploads in wildcard_findings
    assert console <= wildcard_findings
    for resource in wildcard_findings - {"*", uploads} - console:
        assert ":states:" in resource and resource.endswith(machines), resource


def test_given_the_synthesis_then_the_validation_report_has_no_failure(synthesized: Synthesized) -> None:
    report = (synthesized.outdir / "validation-report.json").read_text()
    assert '"conclusion": "failure"' not in report
