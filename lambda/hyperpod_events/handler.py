"""HyperPod cluster notifications and opt-in node repair.

Triggered by EventBridge for the three HyperPod detail-types:

* ``SageMaker HyperPod Cluster State Change``: notify when ``ClusterStatus`` is ``Failed`` (with
  ``FailureMessage`` and the instance groups); other statuses are ignored.
* ``SageMaker HyperPod Cluster Event``: notify when ``EventDetails.EventLevel`` is ``Error``
  (``EventTime`` is epoch milliseconds); other levels are ignored.
* ``SageMaker HyperPod Cluster Node Health Event``: always notify. When the cluster is listed in
  ``AUTO_REPAIR_CLUSTERS`` and the event's structured ``HealthSummary.RepairAction`` is exactly
  ``Replace`` or ``Reboot`` (letter case aside) for an unhealthy node, call
  ``BatchReplaceClusterNodes`` / ``BatchRebootClusterNodes`` for that one instance first and report the
  outcome in the same notification. The free-text ``Recommendation`` is shown, never parsed.

Repair is opt-in per cluster because replacing a node destroys its instance volumes, and a cluster with
``NodeRecovery: Automatic`` may already be repairing the node (SageMaker then reports the node as failed
in the response, which is notified, not raised). Duplicate node-health events lead to a second request
that SageMaker rejects for the node in the same way.

Malformed events are logged and ignored. A failing AWS call (SNS Publish, the repair call) raises after
logging (the repair failure is notified first), so Lambda retries and dead-letters the event.

Environment: ``TOPIC_ARN``, ``PLATFORM_NAME`` (subject prefix, default ``aiplatform``),
``AUTO_REPAIR_CLUSTERS`` (JSON list of cluster names or ARNs, default none),
``POWERTOOLS_METRICS_NAMESPACE``.
AWS calls: ``sns:Publish``; ``sagemaker:BatchReplaceClusterNodes`` and ``sagemaker:BatchRebootClusterNodes``
on the opted-in clusters only. These operations need a boto3 recent enough to know them (botocore 1.44.8
here); an older runtime boto3 is reported as a repair failure.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from functools import partial
from typing import Any

import lambda_common as common
import sagemaker_events as ev
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError
from lambda_common import Envelope, Notification, as_objects, as_text, clip, format_time

SERVICE = "hyperpod-events"

METRIC_REPAIR_REQUESTED = "NodeRepairsRequested"
METRIC_REPAIR_REJECTED = "NodeRepairsRejected"

HANDLED_DETAIL_TYPES = frozenset(
    {
        ev.DetailType.HYPERPOD_CLUSTER_STATE_CHANGE,
        ev.DetailType.HYPERPOD_CLUSTER_EVENT,
        ev.DetailType.HYPERPOD_NODE_HEALTH_EVENT,
    }
)
REPAIR_METHODS = {
    ev.RepairAction.REPLACE: "batch_replace_cluster_nodes",
    ev.RepairAction.REBOOT: "batch_reboot_cluster_nodes",
}


def parse_cluster_list(raw: str) -> tuple[frozenset[str], list[str]]:
    """``AUTO_REPAIR_CLUSTERS`` JSON list -> names/ARNs, plus problems found."""
    if not raw.strip():
        return frozenset(), []
    try:
        data = json.loads(raw)
    except ValueError as error:
        return frozenset(), [f"AUTO_REPAIR_CLUSTERS is not JSON: {error}"]
    if isinstance(data, str):
        data = [data]
    if not isinstance(data, list):
        return frozenset(), [f"AUTO_REPAIR_CLUSTERS must be a JSON list, got {type(data).__name__}"]
    names = [item.strip() for item in data if isinstance(item, str) and item.strip()]
    problems = [
        f"AUTO_REPAIR_CLUSTERS[{i}]: {item!r} is not a cluster name"
        for i, item in enumerate(data)
        if not (isinstance(item, str) and item.strip())
    ]
    return frozenset(names), problems


# --- configuration, read once per execution environment -------------------------------------------
TOPIC_ARN = os.environ.get("TOPIC_ARN", "")
PLATFORM_NAME = os.environ.get("PLATFORM_NAME", "").strip() or "aiplatform"
AUTO_REPAIR_CLUSTERS, AUTO_REPAIR_PROBLEMS = parse_cluster_list(os.environ.get("AUTO_REPAIR_CLUSTERS", ""))
METRICS_NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "") or "AIPlatform"

LOGGER_SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME") or SERVICE

logger, tracer, metrics = common.powertools(SERVICE, METRICS_NAMESPACE, LOGGER_SERVICE)
publish = partial(common.publish, logger=logger)
ignored = partial(common.ignored, logger=logger)

sns_client, sagemaker_client = common.clients("sns", "sagemaker")

_CLUSTER_ARN_RE = re.compile(r"^arn:aws[a-z\-]*:sagemaker:[a-z0-9\-]*:[0-9]{12}:cluster/[a-z0-9]{12}$")
_INSTANCE_ID_RE = re.compile(r"^i-[a-f0-9]{8}(?:[a-f0-9]{9})?$")  # ClusterNodeId pattern of the API
_CLUSTER_STATUSES = common.known_values(ev.ClusterStatus)
# Instance group fields of a cluster state change shown in the notification, with their length limits.
_GROUP_FIELDS = {
    "InstanceGroupName": 63, "Status": 32, "CurrentCount": 8, "TargetCount": 8, "InstanceType": 64
}

if AUTO_REPAIR_PROBLEMS:
    logger.error("AUTO_REPAIR_CLUSTERS has problems", extra={"problems": AUTO_REPAIR_PROBLEMS})


# --- typed event -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ClusterRef:
    name: str
    arn: str

    @classmethod
    def from_fields(cls, fields: dict[str, Any], resources: tuple[str, ...]) -> ClusterRef:
        arn = as_text(fields.get("ClusterArn")) or next((r for r in resources if ":cluster/" in r), "")
        return cls(name=as_text(fields.get("ClusterName")), arn=arn)

    @property
    def label(self) -> str:
        return self.name or self.arn.rsplit("/", 1)[-1]

    @property
    def api_id(self) -> str:
        """What the Batch*ClusterNodes APIs accept: the name, else the ARN; ``""`` if neither is valid."""
        if common.NAME_RE.match(self.name):
            return self.name
        return self.arn if _CLUSTER_ARN_RE.match(self.arn) else ""


# --- this handler's logic --------------------------------------------------------------------------
def _footer(envelope: Envelope, cluster: ClusterRef) -> list[str]:
    lines = common.origin_lines(envelope)
    if cluster.arn:
        lines.append(f"Cluster ARN:      {clip(cluster.arn, 512)}")
    if envelope.region and common.NAME_RE.match(cluster.name):
        region = envelope.region
        lines.append(
            f"Console:          https://{region}.console.aws.amazon.com/sagemaker/home?region={region}"
            f"#/cluster-management/{cluster.name}"
        )
    lines.append(f"Event:            {clip(envelope.detail_type, 128)} ({clip(envelope.id, 128)})")
    return lines


def cluster_failed_notification(envelope: Envelope, detail: dict[str, Any], platform: str) -> Notification:
    cluster = ClusterRef.from_fields(detail, envelope.resources)
    lines = [
        f"SageMaker HyperPod cluster {cluster.label} is Failed.",
        "",
        f"Cluster:          {clip(cluster.label, 256)}",
        "Status:           Failed",
        f"Failure message:  {clip(as_text(detail.get('FailureMessage'))) or '(not given)'}",
    ]
    if as_text(detail.get("NodeRecovery")):
        lines.append(f"Node recovery:    {clip(as_text(detail.get('NodeRecovery')), 32)}")
    groups = as_objects(detail.get("InstanceGroups"))
    for group in groups[:20]:
        field = {key: clip(as_text(group.get(key)), limit) or "?" for key, limit in _GROUP_FIELDS.items()}
        lines.append(
            f"Instance group {field['InstanceGroupName']}: {field['Status']}, "
            f"{field['CurrentCount']}/{field['TargetCount']} x {field['InstanceType']}"
        )
    if len(groups) > 20:
        lines.append(f"... and {len(groups) - 20} more instance groups")
    lines += _footer(envelope, cluster)
    return Notification.compose(f"[{platform}] HyperPod cluster {cluster.label} Failed", lines)


def cluster_event_notification(envelope: Envelope, details: dict[str, Any], platform: str) -> Notification:
    cluster = ClusterRef.from_fields(details, envelope.resources)
    description = as_text(details.get("Description"))
    lines = [
        f"SageMaker HyperPod cluster {cluster.label} reported an error event.",
        "",
        f"Cluster:          {clip(cluster.label, 256)}",
        f"Level:            {clip(as_text(details.get('EventLevel')), 32)}",
        f"Description:      {clip(description) or '(not given)'}",
        f"Instance group:   {clip(as_text(details.get('InstanceGroupName')), 63) or '-'}",
        f"Instance:         {clip(as_text(details.get('InstanceId')), 64) or '-'}",
        f"Resource type:    {clip(as_text(details.get('ResourceType')), 64) or '-'}",
        f"Event time:       {format_time(details.get('EventTime')) or '(unknown)'}",
        f"Cluster event id: {clip(as_text(details.get('EventId')), 128) or '-'}",
        *_footer(envelope, cluster),
    ]
    subject = f"[{platform}] HyperPod cluster {cluster.label} error: {description or 'event'}"
    return Notification.compose(subject, lines)


def requested_repair(summary: dict[str, Any]) -> str | None:
    """``Replace`` / ``Reboot`` when the structured ``HealthSummary.RepairAction`` says exactly that
    (any letter case), else None.

    ``Recommendation`` is free text for people and is never parsed: "No need to replace or reboot"
    contains both words, and ``BatchReplaceClusterNodes`` destroys the node's volumes.
    """
    action = as_text(summary.get("RepairAction")).casefold()
    return next((known for known in REPAIR_METHODS if known.casefold() == action), None)


@dataclass(frozen=True)
class RepairOutcome:
    action: str
    status: str  # requested, rejected, call-failed, not-attempted, not-opted-in, not-applicable
    detail: str = ""


@tracer.capture_method(capture_response=False)
def repair_node(sagemaker: Any, *, cluster_id: str, instance_id: str, action: str) -> RepairOutcome:
    """Call BatchReplaceClusterNodes / BatchRebootClusterNodes for one node. Raises on call failure."""
    method = getattr(sagemaker, REPAIR_METHODS[action], None)
    if method is None:
        raise RuntimeError(f"this boto3 has no SageMaker {REPAIR_METHODS[action]}; bundle a newer boto3")
    response = method(ClusterName=cluster_id, NodeIds=[instance_id])
    for failure in as_objects(response.get("Failed")):
        if as_text(failure.get("NodeId")) in ("", instance_id):
            text = f"{as_text(failure.get('ErrorCode')) or 'Error'}: {as_text(failure.get('Message'))}"
            return RepairOutcome(action, "rejected", clip(text, 1000))
    return RepairOutcome(action, "requested")


def node_health_notification(
    envelope: Envelope, detail: dict[str, Any], outcome: RepairOutcome, platform: str
) -> Notification:
    cluster = ClusterRef.from_fields(detail, envelope.resources)
    summary = common.as_object(detail.get("HealthSummary"))
    instance = as_text(detail.get("InstanceId")) or "(unknown instance)"
    health = as_text(summary.get("HealthStatus")) or "(unknown)"
    repair_line = {
        "requested": f"{outcome.action} requested for {instance} (AUTO_REPAIR_CLUSTERS)",
        "rejected": f"{outcome.action} requested but rejected: {outcome.detail}",
        "call-failed": f"{outcome.action} call FAILED: {outcome.detail}",
        "not-opted-in": f"none: cluster not in AUTO_REPAIR_CLUSTERS (suggested: {outcome.action})",
        "not-attempted": f"{outcome.action} not attempted: {outcome.detail}",
    }.get(outcome.status, "none")
    lines = [
        f"SageMaker HyperPod node {instance} in cluster {cluster.label} is {health}.",
        "",
        f"Cluster:          {clip(cluster.label, 256)}",
        f"Instance:         {clip(instance, 64)}",
        f"Health status:    {clip(health, 64)}",
        f"Reason:           {clip(as_text(summary.get('HealthStatusReason'))) or '(not given)'}",
        f"Repair action:    {clip(as_text(summary.get('RepairAction')), 128) or '-'}",
        f"Recommendation:   {clip(as_text(summary.get('Recommendation')), 512) or '-'}",
        f"Automatic repair: {repair_line}",
        *_footer(envelope, cluster),
    ]
    suffix = {
        "requested": f", {outcome.action.lower()} requested",
        "call-failed": ", repair FAILED",
        "rejected": ", repair rejected",
    }.get(outcome.status, "")
    subject = f"[{platform}] HyperPod {cluster.label} node {instance} {health}{suffix}"
    return Notification.compose(subject, lines)


def _handle_node_health(
    envelope: Envelope,
    detail: dict[str, Any],
    *,
    sns: Any,
    sagemaker: Any,
    topic_arn: str,
    auto_repair: frozenset[str],
    platform: str,
) -> dict[str, Any]:
    cluster = ClusterRef.from_fields(detail, envelope.resources)
    instance_id = as_text(detail.get("InstanceId"))
    if not cluster.label:
        return ignored("node health event names no cluster")
    summary = common.as_object(detail.get("HealthSummary"))
    action = requested_repair(summary)
    unhealthy = as_text(summary.get("HealthStatus")).casefold() != "healthy"
    outcome = RepairOutcome(action or "", "not-applicable")
    error: Exception | None = None
    if action and unhealthy:
        opted_in = bool({cluster.name, cluster.arn} & auto_repair)
        if not opted_in:
            outcome = RepairOutcome(action, "not-opted-in")
        elif not cluster.api_id or not _INSTANCE_ID_RE.match(instance_id):
            outcome = RepairOutcome(
                action, "not-attempted", "invalid cluster name or instance id in the event"
            )
        else:
            try:
                outcome = repair_node(
                    sagemaker, cluster_id=cluster.api_id, instance_id=instance_id, action=action
                )
            except (ClientError, BotoCoreError, RuntimeError) as exc:
                logger.exception(
                    "Node repair call failed", extra={"cluster": cluster.label, "instance": instance_id}
                )
                outcome, error = RepairOutcome(action, "call-failed", clip(str(exc), 1000)), exc
            if outcome.status == "requested":
                common.count(metrics, METRIC_REPAIR_REQUESTED)
            elif outcome.status == "rejected":
                common.count(metrics, METRIC_REPAIR_REJECTED)
    notification = node_health_notification(envelope, detail, outcome, platform)
    message_id = publish(sns, topic_arn, notification)
    if error is not None:
        raise error
    return {
        "action": "notified",
        "kind": "node-health",
        "cluster": cluster.label,
        "instance": instance_id,
        "repair": outcome.action or None,
        "repair_status": outcome.status,
        "subject": notification.subject,
        "message_id": message_id,
    }


@tracer.capture_method(capture_response=False)
def process(
    envelope: Envelope,
    *,
    sns: Any,
    sagemaker: Any,
    topic_arn: str,
    auto_repair: frozenset[str] = AUTO_REPAIR_CLUSTERS,
    platform: str = PLATFORM_NAME,
) -> dict[str, Any]:
    """Decide and act on one parsed event. Returns what was done."""
    unhandled = envelope.unhandled(HANDLED_DETAIL_TYPES)
    if unhandled:
        return ignored(unhandled)
    detail = envelope.detail

    if envelope.detail_type == ev.DetailType.HYPERPOD_NODE_HEALTH_EVENT:
        return _handle_node_health(
            envelope,
            detail,
            sns=sns,
            sagemaker=sagemaker,
            topic_arn=topic_arn,
            auto_repair=auto_repair,
            platform=platform,
        )

    if envelope.detail_type == ev.DetailType.HYPERPOD_CLUSTER_STATE_CHANGE:
        cluster = ClusterRef.from_fields(detail, envelope.resources)
        status = common.canonical_status(detail.get("ClusterStatus"), _CLUSTER_STATUSES)
        if status != ev.ClusterStatus.FAILED:
            return ignored(f"cluster status {clip(status, 64) or '(none)'} needs no notification")
        if not cluster.label:
            return ignored("cluster state change names no cluster")
        notification = cluster_failed_notification(envelope, detail, platform)
        kind = "cluster-failed"
    else:  # HyperPod Cluster Event
        details = detail.get("EventDetails")
        if not isinstance(details, dict):
            return ignored("cluster event has no EventDetails object")
        cluster = ClusterRef.from_fields(details, envelope.resources)
        level = as_text(details.get("EventLevel"))
        if level.casefold() != "error":
            return ignored(f"event level {clip(level, 32) or '(none)'} needs no notification")
        if not cluster.label:
            return ignored("cluster event names no cluster")
        notification = cluster_event_notification(envelope, details, platform)
        kind = "cluster-event-error"
    message_id = publish(sns, topic_arn, notification)
    return {
        "action": "notified",
        "kind": kind,
        "cluster": cluster.label,
        "subject": notification.subject,
        "message_id": message_id,
    }


# --- entry point -----------------------------------------------------------------------------------
def run(envelope: Envelope, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = process(envelope, sns=sns_client, sagemaker=sagemaker_client, topic_arn=TOPIC_ARN)
    return common.count_outcome(metrics, result)


# A redelivered event (same id) notifies once (DEDUPLICATION_TABLE; without it, every delivery).
handler = common.lambda_handler(
    common.once_per_event(
        run,
        table_name=os.environ.get("DEDUPLICATION_TABLE", "").strip(),
        expiry_seconds=int(os.environ.get("DEDUPLICATION_EXPIRY_SECONDS", "") or 24 * 3600),
        key_prefix=SERVICE,
    ),
    logger=logger,
    tracer=tracer,
    metrics=metrics,
)
