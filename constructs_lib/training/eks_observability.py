"""``HyperPodObservabilityAddon``: AWS's SageMaker HyperPod observability EKS add-on for an
EKS-orchestrated HyperPod cluster, remote-writing to an Amazon Managed Service for Prometheus workspace.

What AWS documents (SageMaker Developer Guide):

* "Setting up the SageMaker HyperPod observability add-on": the EKS Pod Identity Agent add-on must be
  installed (the add-on gets its credentials through EKS Pod Identity); the HyperPod cluster must have
  at least one node before the add-on is installed, and the smallest instance type that fits all of its
  pods is a ``4xlarge``.
* "Troubleshooting the Amazon SageMaker HyperPod observability add-on": the add-on is
  ``amazon-sagemaker-hyperpod-observability``; its pods run in namespace ``hyperpod-observability``; the
  Pod Identity association is for service account ``hyperpod-observability-operator-otel-collector``,
  with a role trusted by ``pods.eks.amazonaws.com`` (``sts:AssumeRole``, ``sts:TagSession``, conditions
  ``aws:SourceArn`` = the EKS cluster ARN and ``aws:SourceAccount``) allowed ``aps:RemoteWrite`` on the
  workspace and the CloudWatch Logs actions listed below on ``/aws/sagemaker/Clusters/*``.

The add-on's ``ConfigurationValues`` (``ampWorkspace``, ``metricsProvider.<category>.level`` and
``scrapeInterval``, ``logging.enabled``) follow AWS's own Terraform module for HyperPod on EKS
(aws-samples/awsome-distributed-training, ``hyperpod-eks-tf/modules/observability/eks_addon.tf``), with
its defaults; the add-on's configuration schema itself (``aws eks describe-addon-configuration``) cannot
be read offline, so EKS validates these keys at deploy time.

``AWS::EKS::Addon`` (CloudFormation schema bundled with cfn-lint): ``PodIdentityAssociations`` items are
``{RoleArn, ServiceAccount}``; ``AddonName`` and ``ClusterName`` are create-only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import Enum
from typing import TypedDict

from aws_cdk import Stack
from aws_cdk import aws_eks as eks
from aws_cdk import aws_iam as iam
from constructs import Construct

from constructs_lib.compliance import acknowledge
from constructs_lib.errors import Problems, is_token
from constructs_lib.training._cluster_role import CLUSTER_LOG_GROUP_PREFIX
from constructs_lib.training._cluster_spec import PrometheusRemoteWrite
from constructs_lib.training._iam import log_group_arn
from constructs_lib.training._nag import wildcard_resource

ADDON_NAME = "amazon-sagemaker-hyperpod-observability"
NAMESPACE = "hyperpod-observability"
SERVICE_ACCOUNT = "hyperpod-observability-operator-otel-collector"
# The guide: "The smallest Amazon EC2 instance type that works in this case is 4xlarge."
MIN_NODE_SIZE_XLARGE = 4
# The troubleshooting guide's CloudwatchLogsAccess statement, as listed there.
LOG_ACTIONS = (
    "logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogGroups", "logs:DescribeLogStreams",
    "logs:PutLogEvents", "logs:GetLogEvents", "logs:FilterLogEvents", "logs:GetLogRecord", "logs:StartQuery",
    "logs:StopQuery", "logs:GetQueryResults",
)
DEFAULT_SCRAPE_INTERVAL_S = 30


class MetricLevel(str, Enum):
    BASIC = "BASIC"
    ADVANCED = "ADVANCED"
    DISABLED = "DISABLED"


# Metric categories (ConfigurationValues metricsProvider keys) and the defaults of AWS's module; the
# SageMaker guide's "SageMaker HyperPod cluster metrics" describes each category.
DEFAULT_METRIC_LEVELS: Mapping[str, MetricLevel] = {
    "trainingMetrics": MetricLevel.BASIC,
    "inferenceMetrics": MetricLevel.BASIC,
    "taskGovernanceMetrics": MetricLevel.DISABLED,
    "scalingMetrics": MetricLevel.DISABLED,
    "customMetrics": MetricLevel.BASIC,
    "nodeMetrics": MetricLevel.BASIC,
    "acceleratedComputeMetrics": MetricLevel.BASIC,
    "networkMetrics": MetricLevel.DISABLED,
}
# Categories AWS's module only ever switches between DISABLED and ADVANCED.
_NO_BASIC = ("taskGovernanceMetrics", "scalingMetrics", "networkMetrics")


def node_size_xlarge(instance_type: str) -> float:
    """``ml.g5.8xlarge`` -> 8, ``ml.m5.xlarge`` -> 1, ``ml.t3.large`` -> 0.5 (``metal`` counts as large enough)."""
    size = instance_type.rsplit(".", 1)[-1]
    if size.startswith("metal"):
        return float("inf")
    match = re.fullmatch(r"(\d*)xlarge", size)
    if match:
        return float(match.group(1) or 1)
    return 0.5 if size == "large" else 0.25


class HyperPodObservabilityAddonOptions(TypedDict, total=False):
    """The keyword arguments of :class:`HyperPodObservabilityAddon` that its settings set (metric levels,
    scrape interval, logs), with the constructor's names, types and defaults:
    ``HyperPodObservabilityAddon(scope, id, cluster_name=..., cluster_arn=..., workspace=...,
    instance_types=..., **options)``. The platform's config builds it from ``eks.observability``
    (``EksObservabilitySection.to_spec()``)."""

    metric_levels: Mapping[str, str] | None
    scrape_interval_s: int
    logging: bool


def check_observability_addon_props(
    problems: Problems, *, metric_levels: Mapping[str, str], scrape_interval_s: int, instance_types: list[str],
) -> None:
    """Every rule of the add-on's props (one place: the construct and the config run it)."""
    for category, level in metric_levels.items():
        level = level.value if isinstance(level, MetricLevel) else level
        if not problems.check(category in DEFAULT_METRIC_LEVELS, f"metric_levels.{category}", category,
                              "one of " + ", ".join(DEFAULT_METRIC_LEVELS)):
            continue
        allowed = [m.value for m in MetricLevel if not (category in _NO_BASIC and m is MetricLevel.BASIC)]
        problems.check(str(level) in allowed, f"metric_levels.{category}", level, "one of " + ", ".join(allowed))
    problems.check(
        isinstance(scrape_interval_s, int) and 10 <= scrape_interval_s <= 300, "scrape_interval_s", scrape_interval_s,
        "10-300 seconds",
    )
    problems.check(
        any(node_size_xlarge(t) >= MIN_NODE_SIZE_XLARGE for t in instance_types), "instance_groups",
        ", ".join(instance_types) or "none",
        f"at least one instance group of size {MIN_NODE_SIZE_XLARGE}xlarge or larger (the add-on's pods need a "
        "node that large: SageMaker guide, 'Setting up the SageMaker HyperPod observability add-on')",
    )


class HyperPodObservabilityAddon(Construct):
    """The HyperPod observability add-on, its Pod Identity role and association.

    :param cluster_name: the EKS cluster (created or existing, same account and region).
    :param cluster_arn: its ARN (the role's ``aws:SourceArn`` condition).
    :param workspace: the Prometheus workspace the collector remote-writes to.
    :param instance_types: the HyperPod cluster's instance types (one must be a ``4xlarge`` or larger).
    :param metric_levels: level per metric category over :data:`DEFAULT_METRIC_LEVELS`.
    :param scrape_interval_s: scrape interval of every category. Default 30.
    :param logging: container logs to CloudWatch Logs (``/aws/sagemaker/Clusters/...``). Default off.

    Install it after the HyperPod cluster (:meth:`after`): the add-on needs a node to run on.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        cluster_name: str,
        cluster_arn: str,
        workspace: PrometheusRemoteWrite,
        instance_types: list[str],
        metric_levels: Mapping[str, str] | None = None,
        scrape_interval_s: int = DEFAULT_SCRAPE_INTERVAL_S,
        logging: bool = False,
    ) -> None:
        super().__init__(scope, id)
        problems = Problems(f"HyperPodObservabilityAddon {self.node.path}")
        check_observability_addon_props(
            problems, metric_levels=dict(metric_levels or {}), scrape_interval_s=scrape_interval_s,
            instance_types=[t for t in instance_types if not is_token(t)],
        )
        problems.raise_if_any()
        levels = {k: MetricLevel(v).value for k, v in {**DEFAULT_METRIC_LEVELS, **(metric_levels or {})}.items()}
        stack = Stack.of(self)
        log_groups = log_group_arn(self, f"{CLUSTER_LOG_GROUP_PREFIX}/*")
        log_streams = f"{log_groups}:log-stream:*"
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.SessionTagsPrincipal(iam.ServicePrincipal("pods.eks.amazonaws.com")).with_conditions({
                "StringEquals": {"aws:SourceArn": cluster_arn, "aws:SourceAccount": stack.account},
            }),
            description=f"HyperPod observability add-on of EKS cluster {cluster_name} (Pod Identity)",
        )
        # A customer managed policy (the NIST, HIPAA and PCI packs refuse inline policies).
        self.policy = iam.ManagedPolicy(
            self,
            "Policy",
            roles=[self.role],
            statements=[
                iam.PolicyStatement(sid="PrometheusAccess", actions=["aps:RemoteWrite"], resources=[workspace.workspace_arn]),
                iam.PolicyStatement(sid="CloudwatchLogsAccess", actions=list(LOG_ACTIONS), resources=[log_groups, log_streams]),
            ],
        )
        acknowledge(
            self.policy,
            "The add-on writes its logs to log groups /aws/sagemaker/Clusters/<cluster id> that HyperPod names "
            "after the cluster's generated id, unknown at synth (the statement AWS's troubleshooting guide lists).",
            wildcard_resource(self.policy, log_groups),
            wildcard_resource(self.policy, log_streams),
        )
        self.configuration: dict = {
            "ampWorkspace": {"prometheusEndpoint": workspace.prometheus_endpoint, "arn": workspace.workspace_arn},
            "metricsProvider": {
                category: {"level": level, "scrapeInterval": scrape_interval_s} for category, level in levels.items()
            },
            "logging": {"enabled": logging},
        }
        self.resource = eks.CfnAddon(
            self,
            "Resource",
            addon_name=ADDON_NAME,
            cluster_name=cluster_name,
            configuration_values=stack.to_json_string(self.configuration),
            pod_identity_associations=[
                eks.CfnAddon.PodIdentityAssociationProperty(role_arn=self.role.role_arn, service_account=SERVICE_ACCOUNT)
            ],
            resolve_conflicts="OVERWRITE",
        )

    def after(self, *dependencies: Construct) -> HyperPodObservabilityAddon:
        """Install the add-on only once these exist (the HyperPod cluster, the Pod Identity agent add-on)."""
        for dependency in dependencies:
            self.resource.node.add_dependency(dependency)
        return self


__all__ = [
    "ADDON_NAME",
    "DEFAULT_METRIC_LEVELS",
    "NAMESPACE",
    "SERVICE_ACCOUNT",
    "HyperPodObservabilityAddon",
    "MetricLevel",
    "check_observability_addon_props",
    "node_size_xlarge",
]
