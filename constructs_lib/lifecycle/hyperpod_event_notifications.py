"""``HyperPodEventNotifications``: HyperPod cluster failures, error events and unhealthy nodes become
notifications; opted-in clusters get their unhealthy nodes replaced or rebooted."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from .. import limits
from ..errors import Problems, is_token
from ._wiring import (
    METRICS_NAMESPACE,
    add_function_target,
    allow_notifications,
    dead_letter_queue,
    deduplicated,
    json_environment,
)
from .events import on_hyperpod_events
from .reliable_function import ReliableFunction

# arn:<partition>:sagemaker:<region>:<account>:cluster/<id>: the id is generated (12 lower-case
# letters and digits), so a cluster's ARN cannot be derived from its name.
CLUSTER_ARN = re.compile(r"^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:cluster/[a-z0-9]{12}$")
REPAIR_ACTIONS = ("sagemaker:BatchReplaceClusterNodes", "sagemaker:BatchRebootClusterNodes")


@dataclass(frozen=True)
class HyperPodClusterRef:
    """A HyperPod cluster known by name and ARN (a token such as ``cluster.cluster_arn`` is fine)."""

    cluster_name: str
    cluster_arn: str

    @classmethod
    def of(cls, cluster: Any) -> HyperPodClusterRef:
        """From anything with ``cluster_name`` and ``cluster_arn``, e.g. a ``HyperPodCluster``."""
        return cls(cluster_name=cluster.cluster_name, cluster_arn=cluster.cluster_arn)


class HyperPodEventNotifications(Construct):
    """One EventBridge rule on the three HyperPod detail-types and the ``hyperpod_events`` function:

    * ``Cluster State Change`` to ``Failed`` and ``Cluster Event`` of level ``Error`` are notified;
    * every ``Cluster Node Health Event`` is notified; for a cluster in ``auto_repair`` whose event asks
      for ``Replace`` or ``Reboot`` of an unhealthy node, the function first calls
      ``BatchReplaceClusterNodes``/``BatchRebootClusterNodes`` for that one node and reports the outcome.

    Repair is opt-in per cluster: replacing a node destroys its instance volumes. The function may call
    the repair APIs on the ARNs of ``auto_repair`` clusters only. Exposes ``rule``, ``handler``
    (:class:`ReliableFunction`) and ``dead_letter_queue``.

    :param cluster_names: notify about these clusters only; default: every cluster of the account and
        region. ``auto_repair`` clusters must be among them when given.
    :param auto_repair: clusters whose unhealthy nodes are repaired; default none.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        topic: sns.ITopic,
        key: kms.IKey,
        cluster_names: Sequence[str] = (),
        auto_repair: Sequence[HyperPodClusterRef] = (),
        platform_name: str = "aiplatform",
        metrics_namespace: str = METRICS_NAMESPACE,
    ) -> None:
        super().__init__(scope, id)
        p = Problems(f"HyperPodEventNotifications {self.node.path}")
        for i, name in enumerate(cluster_names):
            p.check(bool(limits.NAME_PATTERN.match(name)), f"cluster_names[{i}]", name, limits.NAME_RULE)
        for i, cluster in enumerate(auto_repair):
            p.check(
                bool(limits.NAME_PATTERN.match(cluster.cluster_name)), f"auto_repair[{i}].cluster_name",
                cluster.cluster_name, limits.NAME_RULE,
            )
            p.check(
                bool(CLUSTER_ARN.match(cluster.cluster_arn)), f"auto_repair[{i}].cluster_arn", cluster.cluster_arn,
                "a HyperPod cluster ARN (arn:aws:sagemaker:<region>:<account>:cluster/<12-character id>)",
            )
            if cluster_names and not is_token(cluster.cluster_name) and cluster.cluster_name not in cluster_names:
                p.add(
                    f"auto_repair[{i}].cluster_name", cluster.cluster_name,
                    f"one of cluster_names ({', '.join(cluster_names)}): the rule delivers only their events",
                )
        p.raise_if_any()

        # The handler matches clusters by name or ARN; both are listed.
        repair_ids = [value for c in auto_repair for value in (c.cluster_name, c.cluster_arn)]
        environment = {"TOPIC_ARN": topic.topic_arn, "PLATFORM_NAME": platform_name}
        if repair_ids:
            environment["AUTO_REPAIR_CLUSTERS"] = json_environment(self, repair_ids)
        self.handler = ReliableFunction(
            self, "Handler",
            code_name="hyperpod_events",
            description="Notifies HyperPod cluster failures and node health events; repairs opted-in nodes",
            key=key,
            environment=environment,
            timeout=Duration.seconds(60),
            metrics_namespace=metrics_namespace,
        )
        allow_notifications(self.handler, topic, key)
        self.deduplication_table = deduplicated(self.handler, key)
        if auto_repair:
            self.handler.add_to_role_policy(
                iam.PolicyStatement(
                    sid="RepairOptedInClusterNodes",
                    actions=list(REPAIR_ACTIONS),
                    resources=sorted({c.cluster_arn for c in auto_repair}),
                )
            )
        self.dead_letter_queue = dead_letter_queue(self, key)
        self.rule = on_hyperpod_events(
            self, "Rule", cluster_names=cluster_names,
            description="SageMaker HyperPod cluster state changes, node health events and cluster events"
            + (f" of {', '.join(sorted(cluster_names))}" if cluster_names else ""),
        )
        add_function_target(self.rule, self.handler, self.dead_letter_queue)
