"""checkov (its own virtualenv, `make setup`) over the default platform's cdk.out: zero failed checks
outside SKIPS, each with its reason; a skip that no longer matches anything fails too (no stale entries).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# (check id, logical-id prefix) -> why the finding is accepted.
SKIPS = {
    ("CKV_AWS_117", "EndpointNotificationsHandler"): "EventBridge-invoked notifier; it calls only SNS/SageMaker APIs, "
    "a VPC would add NAT cost and no isolation",
    ("CKV_AWS_117", "TrainingJobNotificationsHandler"): "as above (SNS, SageMaker registry)",
    ("CKV_AWS_117", "ApprovedModelDeployerHandler"): "as above (SageMaker control plane, DynamoDB idempotency)",
    ("CKV_AWS_117", "IdleEndpointGuardHandler"): "as above (CloudWatch metrics, SageMaker, Application Auto Scaling)",
    ("CKV_AWS_117", "HyperPodEventNotificationsHandler"): "as above (SNS, SageMaker HyperPod node APIs)",
    ("CKV_AWS_117", "TrainingJobAlarmsHandler"): "as above (CloudWatch alarms of the pipeline's jobs, SageMaker "
    "DescribeTrainingJob)",
    ("CKV_AWS_117", "ApprovedModelDeployerStepHandler"): "the promotion state machine's steps: SageMaker control "
    "plane, DynamoDB, SNS and Step Functions APIs only",
    ("CKV_AWS_117", "EndpointScalingGuardFunction"): "the endpoint scaling guard custom resource: calls only the "
    "SageMaker and Application Auto Scaling APIs",
    ("CKV_AWS_115", "CustomCDKBucketDeployment"): "aws-cdk-lib's BucketDeployment handler (CloudFormation custom "
    "resource, invoked synchronously once per deploy): not ours to configure",
    ("CKV_AWS_116", "CustomCDKBucketDeployment"): "as above: a custom resource reports failure to CloudFormation, "
    "a DLQ would never be read",
    ("CKV_AWS_117", "CustomCDKBucketDeployment"): "as above: copies the lifecycle scripts between S3 buckets",
    ("CKV_AWS_173", "CustomCDKBucketDeployment"): "as above: its environment holds no secret",
    ("CKV_AWS_115", "CustomVpcRestrictDefaultSGCustomResourceProvider"): "aws-cdk-lib's restrictDefaultSecurityGroup "
    "custom resource provider (runs at deploy only)",
    ("CKV_AWS_116", "CustomVpcRestrictDefaultSGCustomResourceProvider"): "as above: failures go to CloudFormation",
    ("CKV_AWS_117", "CustomVpcRestrictDefaultSGCustomResourceProvider"): "as above: calls only the EC2 API",
    ("CKV_AWS_18", "ArtifactsAccessLogs"): "the access-log bucket itself: logging it would log the logs",
    ("CKV_AWS_370", "EmbeddingsEndpointModel"): "serverless endpoint: SageMaker refuses network isolation for "
    "serverless models (README, Serverless endpoints)",
}


def _checkov() -> Path:
    for venv in (REPO / ".venv-checkov", _main_worktree() / ".venv-checkov"):
        if (venv / "bin" / "checkov").exists():
            return venv / "bin" / "checkov"
    pytest.fail("checkov is not installed: run `make setup` (it creates .venv-checkov from requirements-checkov.txt)")


def _main_worktree() -> Path:
    common = subprocess.run(["git", "rev-parse", "--git-common-dir"], cwd=REPO, capture_output=True, text=True,
                            check=False).stdout.strip()
    return (REPO / common).resolve().parent if common else REPO


@pytest.mark.xdist_group("checkov")
def test_checkov_has_no_failure_outside_the_skip_list(default_platform):
    # The assembly's templates, each named (-f): with -d checkov also opens every JSON/YAML file of the
    # assets (the Powertools layer, the lifecycle scripts) to see whether it is a template; none is, the
    # findings are the same (compared: 498 passed, 16 failed, 0 parsing errors) in about 2-3 CPU-s less.
    templates = sorted(default_platform.outdir.glob("*.template.json"))
    assert len(templates) == len(default_platform.platform.stacks)
    run = subprocess.run(
        [str(_checkov()), *(arg for t in templates for arg in ("-f", str(t))), "--framework", "cloudformation",
         "--quiet", "--compact", "-o", "json", "--skip-download"],
        capture_output=True, text=True, timeout=600, check=False,
    )
    reports = json.loads(run.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    failed = {
        (f["check_id"], f["resource"].split(".", 1)[1], f["file_path"])
        for r in reports for f in r["results"]["failed_checks"]
    }
    assert reports[0]["summary"]["parsing_errors"] == 0
    unexplained = sorted(
        f for f in failed if not any(f[0] == check and f[1].startswith(prefix) for check, prefix in SKIPS)
    )
    assert unexplained == []
    stale = sorted(k for k in SKIPS if not any(f[0] == k[0] and f[1].startswith(k[1]) for f in failed))
    assert stale == [], "skip entries that match no finding any more: remove them"
