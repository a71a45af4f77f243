"""Compliance of the synthesized training stacks: every cdk-nag pack and cfn-lint, zero findings.

The ``training_app`` fixture synthesizes with all five nag packs as validation plugins, so reaching
these tests at all means synth raised nothing; the tests below also read the report and lint the
templates. Acknowledged findings are asserted here too, so a new acknowledgment is a visible change.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import lint_json

pytestmark = pytest.mark.xdist_group("training-synth")

# cfn-lint findings ignored, each for one kind of resource and with its reason. Everything else fails.
CFN_LINT_IGNORES = {
    # aws-cdk-lib's own providers (BucketDeployment handler, VPC default-SG restriction) add DependsOn
    # on their role next to a GetAtt of it; generated code we do not own.
    ("W3005", "CustomCDKBucketDeployment"): "aws-cdk-lib BucketDeployment handler",
    ("W3005", "CustomVpcRestrictDefaultSGCustomResourceProvider"): "aws-cdk-lib VPC default-SG provider",
    # The training network is deliberately pinned to the AZs holding the accelerated capacity (capacity
    # reservations and training plans are AZ-specific), so the subnets name their AZs.
    ("W3010", "NetworkVpc"): "explicit availability zones of the training network",
}


def _cfn_lint(*templates: Path) -> list[dict]:
    """cfn-lint's findings as ``make lint``'s CLI reports them in ``--format json`` (.cfnlintrc.yaml's
    ignores), from the suite's in-process helper (it agrees with the CLI: tests/test_compliance.py)."""
    return [finding for template in templates for finding in lint_json(template)]


def _ignored(finding: dict) -> bool:
    rule = finding["Rule"]["Id"]
    path = finding["Location"]["Path"]
    resource = path[1] if len(path) > 1 and path[0] == "Resources" else ""
    return any(rule == r and resource.startswith(prefix) for (r, prefix) in CFN_LINT_IGNORES)


def test_synth_with_every_nag_pack_leaves_no_finding(training_app):
    report = training_app.outdir / "validation-report.json"
    if report.exists():
        body = json.loads(report.read_text())
        violations = [v for plugin in body.get("pluginReports", []) for v in plugin.get("violations", [])]
        assert violations == []
    assert training_app.templates["slurm"]["Resources"] and training_app.templates["eks"]["Resources"]


def test_cfn_lint_reports_nothing_beyond_the_documented_ignores(training_app):
    templates = [training_app.outdir / f"{s.artifact_id}.template.json" for s in training_app.stacks.values()]
    findings = _cfn_lint(*templates)
    unexpected = [
        f"{f['Rule']['Id']} {f['Message']} @ {'/'.join(map(str, f['Location']['Path']))}"
        for f in findings
        if not _ignored(f)
    ]
    assert unexpected == []


# Every acknowledgment the training constructs make, per construct (stack-relative path). A new or
# vanished acknowledgment fails here, so it is reviewed like code. <hash> stands for the content hash of
# the lifecycle-script prefix.
_IAM_NO_INLINE = {f"{pack}-IAMNoInlinePolicy" for pack in ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321")}
_REPLICATION = {
    f"{pack}-S3BucketReplicationEnabled" for pack in ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321")
}
_ACCESS_LOGS = (
    {"AwsSolutions-S1"}
    | {f"{pack}-S3BucketLoggingEnabled" for pack in ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321")}
    | {f"{pack}-S3DefaultEncryptionKMS" for pack in ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321")}
    | _REPLICATION
)
_IGW_ROUTE = {
    f"{pack}-VPCNoUnrestrictedRouteToIGW" for pack in ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321")
}
_EFA_PORTS = {
    f"{pack}-EC2RestrictedCommonPorts" for pack in ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321")
}
_STAR = "AwsSolutions-IAM5[Resource::*]"
_ENI = (
    "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:network-interface/*]"
)
_LOGS = "arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:"
_HANDLER = "Custom::CDKBucketDeployment8693BB64968944B69AAFB0CC9EB8756C"
_HANDLER_ACKS = (
    {
        f"AwsSolutions-IAM5[Action::{a}]"
        for a in (
            "s3:GetObject*",
            "s3:GetBucket*",
            "s3:List*",
            "s3:DeleteObject*",
            "s3:Abort*",
            "kms:ReEncrypt*",
            "kms:GenerateDataKey*",
        )
    }
    | {
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*]",
        "AwsSolutions-IAM5[Resource::<ClusterLifecycleBucketE043E63A.Arn>/*]",
        "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
        "AwsSolutions-L1",
        "Serverless-LambdaLatestVersion",
        "Serverless-LambdaDLQ",
        "Serverless-LambdaTracing",
    }
    | _IAM_NO_INLINE
    | {
        f"{pack}-{rule}"
        for pack in ("HIPAA.Security", "NIST.800.53.R5")
        for rule in ("LambdaConcurrency", "LambdaDLQ")
    }
    | {f"{pack}-LambdaInsideVPC" for pack in ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321")}
)


def _cluster_acks(name: str, network: str) -> dict[str, set[str]]:
    return {
        f"{network}/Vpc/PublicSubnet1": _IGW_ROUTE,
        f"{network}/Vpc/PublicSubnet2": _IGW_ROUTE,
        f"{network}/EfaSecurityGroup": _EFA_PORTS,
        "Cluster/AccessLogs": _ACCESS_LOGS,
        "Cluster/LifecycleBucket": _REPLICATION,
        "Cluster/NetworkInterfacePolicy": {_STAR, _ENI},
        "Cluster/LifecycleScriptsPolicy": {
            f"AwsSolutions-IAM5[Resource::<ClusterLifecycleBucketE043E63A.Arn>/hyperpod-lifecycle/{name}/<hash>/*]"
        },
        "Cluster/TelemetryPolicy": {
            f"AwsSolutions-IAM5[Resource::{_LOGS}/aws/sagemaker/Clusters/{name}/*]",
            f"AwsSolutions-IAM5[Resource::{_LOGS}/aws/sagemaker/Clusters/{name}/*:log-stream:*]",
            _STAR,
        },
        "Cluster/ContainerRegistryPolicy": {_STAR},
        _HANDLER: _HANDLER_ACKS,
    }


EXPECTED_ACKNOWLEDGMENTS = {
    "slurm": {
        **_cluster_acks("llm-pretrain", "Network"),
        "Cluster/SharedStoragePolicy": {_STAR},
        "Cluster/PrometheusRemoteWritePolicy": {_STAR},  # ecr:GetAuthorizationToken (prometheus=...)
        "Platform/AccessLogsBucket": _ACCESS_LOGS,
        "Platform/ArtifactsBucket": _REPLICATION,
        "Platform/NetworkInterfacePolicy": {_STAR, _ENI},
        "Platform/TrainingJobPolicy": {
            "AwsSolutions-IAM5[Resource::<PlatformArtifactsBucketA3CDE2B6.Arn>/*]",
            f"AwsSolutions-IAM5[Resource::{_LOGS}/aws/sagemaker/TrainingJobs:log-stream:*]",
            _STAR,
        },
        # The test app's own principals (not the library's).
        "EventsDeadLetters": {"Serverless-SQSRedrivePolicy"},
        "Operators": _IAM_NO_INLINE,
    },
    "eks": {
        **_cluster_acks("eks-train", "Network"),
        # AmazonEKS_CNI_Policy actions (constructs_lib/training/eks.py add_vpc_cni_policy): describes take
        # no resource; interfaces and HyperPod instances get their ids at run time.
        "Cluster/VpcCniPolicy": {
            _STAR,
            _ENI,
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:*:instance/*]",
        },
    },
}


def _acknowledgments(stack) -> dict[str, set[str]]:
    from aws_cdk import Validations

    key = Validations.ACKNOWLEDGED_RULES_METADATA_KEY
    found: dict[str, set[str]] = {}
    prefix = stack.node.path + "/"
    for construct in stack.node.find_all():
        for entry in construct.node.metadata:
            if entry.type != key:
                continue
            for finding, reason in entry.data.items():
                if finding.startswith("CloudFormation-Validate::"):
                    continue  # aws-cdk-lib's own acknowledgments of its generated resources
                assert reason.strip(), finding
                path = construct.node.path.removeprefix(prefix)
                found.setdefault(path, set()).add(
                    re.sub(r"/[0-9a-f]{16}/", "/<hash>/", finding.removeprefix("Annotation::"))
                )
    return found


@pytest.mark.parametrize("stack", ["slurm", "eks"])
def test_acknowledgments_are_exactly_the_reviewed_ones(training_app, stack):
    assert _acknowledgments(training_app.stacks[stack]) == EXPECTED_ACKNOWLEDGMENTS[stack]
