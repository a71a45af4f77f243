"""The gates: every nag pack really runs, and every synthesized template passes cfn-lint."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from aws_cdk import Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs

from constructs_lib import add_compliance_checks
from tests.conftest import REPO, lint_assembly, new_app

PACKS = ("AwsSolutions", "HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321", "Serverless")


@pytest.fixture(scope="module")
def noncompliant_report(tmp_path_factory) -> dict:
    """One deliberately non-compliant stack, synthesized with every pack: synth must fail."""
    outdir = tmp_path_factory.mktemp("noncompliant")
    app = new_app(outdir)
    stack = Stack(app, "Noncompliant")
    sns.Topic(stack, "PlainTopic")  # no KMS, no TLS-only policy
    s3.Bucket(stack, "PlainBucket")  # no logging, no KMS, no TLS-only
    sqs.Queue(stack, "PlainQueue")  # no DLQ
    lambda_.Function(
        stack, "PlainFunction", runtime=lambda_.Runtime.PYTHON_3_9, handler="index.handler",
        code=lambda_.Code.from_inline("def handler(e, c): pass"),
    )
    add_compliance_checks(app)
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    return json.loads((outdir / "validation-report.json").read_text())


def _findings(report) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for plugin in report["pluginReports"]:
        out[plugin["pluginName"]] = {v["ruleName"] for v in plugin.get("violations", [])}
    return out


@pytest.mark.parametrize(
    ("pack", "finding"),
    [
        ("AwsSolutions", "AwsSolutions-SNS3"),
        ("HIPAA.Security", "HIPAA.Security-SNSEncryptedKMS"),
        ("NIST.800.53.R5", "NIST.800.53.R5-S3BucketLoggingEnabled"),
        ("PCI.DSS.321", "PCI.DSS.321-SNSEncryptedKMS"),
        ("Serverless", "Serverless-LambdaDLQ"),
    ],
)
def test_each_pack_runs_and_fails_synth(noncompliant_report, pack, finding):
    findings = _findings(noncompliant_report)
    assert finding in findings[pack]


def test_all_five_packs_reported(noncompliant_report):
    assert set(PACKS) <= {p["pluginName"] for p in noncompliant_report["pluginReports"]}


def test_default_platform_has_no_unacknowledged_findings(default_platform):
    # Synth raised nothing (the fixture would have failed); any report written must hold no violation.
    report_file = default_platform.outdir / "validation-report.json"
    if report_file.exists():
        report = json.loads(report_file.read_text())
        assert [v for p in report["pluginReports"] for v in p.get("violations", [])] == []


def _cfn_lint(templates: list[Path]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), "--format", "json", "--", *map(str, templates)],
        cwd=REPO, capture_output=True, text=True, check=False,
    )


def test_cfn_lint_clean_on_default_platform(default_platform):
    templates = sorted(default_platform.outdir.glob("*.template.json"))
    assert len(templates) == len(default_platform.platform.stacks)
    assert lint_assembly(default_platform.outdir) == []


@pytest.mark.xdist_group("prod")  # one worker builds prod_platform once
def test_cfn_lint_clean_on_prod_platform(prod_platform):
    assert lint_assembly(prod_platform.outdir) == []


def test_shared_helper_and_cli_agree_on_findings_and_ignores(tmp_path):
    """``make lint`` runs the cfn-lint CLI with .cfnlintrc.yaml; the in-process helper (one rule
    collection reused across templates) must report what the CLI reports: the same error, and
    nothing for a finding .cfnlintrc.yaml ignores (W3005, a DependsOn next to a GetAtt).

    Two small templates instead of the default platform: the platform itself is linted by the helper
    above, and the CLI over it cost 30 s of the suite for a comparison of two empty lists.
    """
    from tests.conftest import lint_assembly, lint_json

    (tmp_path / "Bad.template.json").write_text(json.dumps({
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicNam": "x"}}},
    }))
    (tmp_path / "Ignored.template.json").write_text(json.dumps({"Resources": {
        "Topic": {"Type": "AWS::SNS::Topic"},
        "Sub": {"Type": "AWS::SNS::Subscription", "DependsOn": "Topic",
                "Properties": {"TopicArn": {"Ref": "Topic"}, "Protocol": "email", "Endpoint": "a@example.com"}},
    }}))
    helper = lint_assembly(tmp_path)
    cli = _cfn_lint(sorted(tmp_path.glob("*.template.json")))
    assert [line.split(": ", 1)[1].split(" ", 1)[0] for line in helper] == ["E3002"]
    assert cli.returncode != 0 and "E3002" in cli.stdout and "TopicNam" in cli.stdout, cli.stdout + cli.stderr
    assert "W3005" not in cli.stdout and "Ignored.template.json" not in cli.stdout, cli.stdout
    # The helper's JSON (what tests that filter findings by rule and path read) is the CLI's --format json.
    fields = ("Rule", "Location", "Level", "Message", "Filename")
    helper_json = [{k: f[k] for k in fields} for t in sorted(tmp_path.glob("*.template.json")) for f in lint_json(t)]
    assert helper_json == [{k: f[k] for k in fields} for f in json.loads(cli.stdout)]


def test_lint_assembly_reports_findings_beyond_the_ignore_list(tmp_path):
    """The shared helper every synthesizing test calls really fails: a wrong property is an E3002."""
    from tests.conftest import lint_assembly

    (tmp_path / "Bad.template.json").write_text(json.dumps({
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicNam": "x"}}},
    }))
    (finding,) = lint_assembly(tmp_path)
    assert finding.startswith("Bad.template.json:") and " E3002 " in finding and "TopicNam" in finding


def test_cfn_lint_ignore_list_is_short_and_explained():
    text = (REPO / ".cfnlintrc.yaml").read_text()
    ignored = [line.strip()[2:] for line in text.splitlines() if line.strip().startswith("- W") or line.strip().startswith("- E")]
    assert ignored == ["W3005", "W3010"]
    assert "DependsOn" in text and "credentials" in text


def test_schema_validation_flag_is_on():
    context = json.loads((REPO / "cdk.json").read_text())["context"]
    assert context["@aws-cdk/core:validateAgainstDefaultRules"] is True
