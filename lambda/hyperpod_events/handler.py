"""HyperPod cluster notifications and opt-in node repair.

Triggered by EventBridge for the three HyperPod detail-types:

* ``SageMaker HyperPod Cluster State Change``: notify when ``ClusterStatus`` is ``Failed`` (with
  ``FailureMessage`` and the instance groups); other statuses are ignored.
* ``SageMaker HyperPod Cluster Event``: notify when ``EventDetails.EventLevel`` is ``Error``
  (``EventTime`` is epoch milliseconds); other levels are ignored.
* ``SageMaker HyperPod Cluster Node Health Event``: always notify. When the cluster is listed in
  ``AUTO_REPAIR_CLUSTERS`` and the event's ``HealthSummary.RepairAction`` (or, lacking it, its
  ``Recommendation``) asks for ``Replace`` or ``Reboot`` of an unhealthy node, call
  ``BatchReplaceClusterNodes`` / ``BatchRebootClusterNodes`` for that one instance first and report the
  outcome in the same notification.

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

import importlib.util
import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

try:
    import sagemaker_events as ev  # bundled copy inside the Lambda asset
except ImportError:  # running from the repository (tests)
    from constructs_lib import sagemaker_events as ev

SERVICE = "hyperpod-events"

SUBJECT_MAX_CHARS = 99  # SNS: "must be less than 100 characters long"
MESSAGE_MAX_BYTES = 8 * 1024
FIELD_MAX_CHARS = 2000

METRIC_NOTIFIED = "NotificationsPublished"
METRIC_IGNORED = "EventsIgnored"
METRIC_FAILED = "ProcessingFailures"
METRIC_REPAIR_REQUESTED = "NodeRepairsRequested"
METRIC_REPAIR_REJECTED = "NodeRepairsRejected"

HANDLED_DETAIL_TYPES = frozenset(
    {
        ev.DetailType.HYPERPOD_CLUSTER_STATE_CHANGE,
        ev.DetailType.HYPERPOD_CLUSTER_EVENT,
        ev.DetailType.HYPERPOD_NODE_HEALTH_EVENT,
    }
)
REPAIR_METHODS = {"Replace": "batch_replace_cluster_nodes", "Reboot": "batch_reboot_cluster_nodes"}


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

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME") or SERVICE)


class _NoTracer:
    """Stands in for Powertools' Tracer when the X-Ray SDK is not importable: Tracer() imports
    ``aws_xray_sdk`` even when tracing is disabled, and the asset vendors Powertools without it."""

    disabled = True

    def capture_lambda_handler(self, function: Any = None, **_: Any) -> Any:
        return function if function is not None else (lambda decorated: decorated)

    capture_method = capture_lambda_handler

    def put_annotation(self, *_: Any, **__: Any) -> None:
        return None


tracer: Any = Tracer(service=SERVICE) if importlib.util.find_spec("aws_xray_sdk") is not None else _NoTracer()
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE)

_BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=20)
sns_client = boto3.client("sns", config=_BOTO_CONFIG)
sagemaker_client = boto3.client("sagemaker", config=_BOTO_CONFIG)

_NAME_RE = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
_CLUSTER_ARN_RE = re.compile(r"^arn:aws[a-z\-]*:sagemaker:[a-z0-9\-]*:[0-9]{12}:cluster/[a-z0-9]{12}$")
_INSTANCE_ID_RE = re.compile(r"^i-[a-f0-9]{8}(?:[a-f0-9]{9})?$")  # ClusterNodeId pattern of the API
_CLUSTER_STATUSES = tuple(v for k, v in vars(ev.ClusterStatus).items() if k.isupper())

if AUTO_REPAIR_PROBLEMS:
    logger.error("AUTO_REPAIR_CLUSTERS has problems", extra={"problems": AUTO_REPAIR_PROBLEMS})


# --- typed event -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Envelope:
    """The EventBridge envelope; every field tolerates absence and wrong types."""

    id: str
    detail_type: str
    account: str
    region: str
    time: str
    resources: tuple[str, ...]
    detail: dict[str, Any] | None
    detail_error: str | None
    is_object: bool = True

    @classmethod
    def parse(cls, event: object) -> Envelope:
        raw = event if isinstance(event, dict) else {}
        detail = raw.get("detail")
        detail_error = None
        if not isinstance(event, dict):
            detail_error = f"event is a {type(event).__name__}, not an object"
        elif "detail" not in raw:
            detail_error = "event has no detail"
        elif not isinstance(detail, dict):
            detail_error = f"detail is a {type(detail).__name__}, not an object"
        resources = raw.get("resources")
        return cls(
            id=_s(raw.get("id")),
            detail_type=_s(raw.get("detail-type")),
            account=_s(raw.get("account")),
            region=_s(raw.get("region")),
            time=_s(raw.get("time")),
            resources=tuple(r for r in resources if isinstance(r, str))
            if isinstance(resources, list)
            else (),
            detail=detail if isinstance(detail, dict) else None,
            detail_error=detail_error,
            is_object=isinstance(event, dict),
        )


@dataclass(frozen=True)
class ClusterRef:
    name: str
    arn: str

    @classmethod
    def from_fields(cls, fields: dict[str, Any], resources: tuple[str, ...]) -> ClusterRef:
        arn = _s(fields.get("ClusterArn")) or next((r for r in resources if ":cluster/" in r), "")
        return cls(name=_s(fields.get("ClusterName")), arn=arn)

    @property
    def label(self) -> str:
        return self.name or self.arn.rsplit("/", 1)[-1]

    @property
    def api_id(self) -> str:
        """What the Batch*ClusterNodes APIs accept: the name, else the ARN; ``""`` if neither is valid."""
        if _NAME_RE.match(self.name):
            return self.name
        return self.arn if _CLUSTER_ARN_RE.match(self.arn) else ""


@dataclass(frozen=True)
class Notification:
    subject: str
    message: str


# --- shared helpers (identical in every handler; tests/lambda checks that they agree) -------------
def _s(value: object) -> str:
    """A scalar as stripped text; anything else (dicts, lists, None) as ``""``."""
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, (str, int, float)):
        return str(value).strip()
    return ""


def _obj(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _dicts(value: object) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def canonical_status(value: object, known: tuple[str, ...]) -> str:
    """``FAILED``/``failed``/``Failed`` -> ``Failed`` for known statuses; others as normalised."""
    status = ev.normalize_status(value)
    return next((k for k in known if k.casefold() == status.casefold()), status)


def clip(text: str, limit: int = FIELD_MAX_CHARS) -> str:
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "\u2026"


def _epoch_seconds(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    if isinstance(value, str) and not re.fullmatch(r"\s*\d+(\.\d+)?\s*", value):
        return None
    try:
        seconds = float(value)
        if seconds > 1e11:  # epoch milliseconds (1e11 s is the year 5138)
            seconds /= 1000.0
        datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return seconds


def format_time(value: object) -> str | None:
    """ISO 8601 UTC text from epoch seconds/milliseconds (number or digit string) or ISO text."""
    seconds = _epoch_seconds(value)
    if seconds is not None:
        return datetime.fromtimestamp(seconds, tz=UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    if not isinstance(value, str) or isinstance(value, bool) or not value.strip():
        return None
    text = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return None  # digits out of range
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return clip(text, 64)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def sns_subject(text: str) -> str:
    """A valid SNS subject: printable ASCII, one line, fewer than 100 characters."""
    ascii_text = text.encode("ascii", "replace").decode("ascii")
    one_line = re.sub(r"[\x00-\x1f\x7f\s]+", " ", ascii_text).strip()
    if len(one_line) > SUBJECT_MAX_CHARS:
        one_line = one_line[: SUBJECT_MAX_CHARS - 3].rstrip() + "..."
    return one_line or "SageMaker notification"


def bounded_message(text: str, max_bytes: int = MESSAGE_MAX_BYTES) -> str:
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    marker = "\n[message truncated]"
    return data[: max_bytes - len(marker.encode())].decode("utf-8", "ignore") + marker


def publish(sns: Any, topic_arn: str, notification: Notification) -> str:
    """Publish to SNS; raises (after logging) so Lambda retries and dead-letters the event."""
    if not topic_arn:
        logger.error("TOPIC_ARN is not configured; cannot notify")
        raise RuntimeError("TOPIC_ARN is not configured")
    try:
        response = sns.publish(TopicArn=topic_arn, Subject=notification.subject, Message=notification.message)
    except (ClientError, BotoCoreError):
        logger.exception(
            "SNS publish failed", extra={"topic_arn": topic_arn, "subject": notification.subject}
        )
        raise
    return _s(response.get("MessageId"))


def ignored(reason: str) -> dict[str, Any]:
    logger.info("Event ignored", extra={"reason": reason})
    return {"action": "ignored", "reason": reason}


# --- this handler's logic --------------------------------------------------------------------------
def _footer(envelope: Envelope, cluster: ClusterRef) -> list[str]:
    lines = [
        f"Region:           {envelope.region or '(unknown)'}",
        f"Account:          {envelope.account or '(unknown)'}",
        f"Time:             {format_time(envelope.time) or '(unknown)'}",
    ]
    if cluster.arn:
        lines.append(f"Cluster ARN:      {clip(cluster.arn, 512)}")
    if envelope.region and _NAME_RE.match(cluster.name):
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
        f"Failure message:  {clip(_s(detail.get('FailureMessage'))) or '(not given)'}",
    ]
    if _s(detail.get("NodeRecovery")):
        lines.append(f"Node recovery:    {clip(_s(detail.get('NodeRecovery')), 32)}")
    groups = _dicts(detail.get("InstanceGroups"))
    for group in groups[:20]:
        lines.append(
            f"Instance group {clip(_s(group.get('InstanceGroupName')), 63) or '?'}: "
            f"{clip(_s(group.get('Status')), 32) or '?'}, {clip(_s(group.get('CurrentCount')), 8) or '?'}"
            f"/{clip(_s(group.get('TargetCount')), 8) or '?'} x {clip(_s(group.get('InstanceType')), 64) or '?'}"
        )
    if len(groups) > 20:
        lines.append(f"... and {len(groups) - 20} more instance groups")
    lines += _footer(envelope, cluster)
    subject = sns_subject(f"[{platform}] HyperPod cluster {cluster.label} Failed")
    return Notification(subject=subject, message=bounded_message("\n".join(lines)))


def cluster_event_notification(envelope: Envelope, details: dict[str, Any], platform: str) -> Notification:
    cluster = ClusterRef.from_fields(details, envelope.resources)
    description = _s(details.get("Description"))
    lines = [
        f"SageMaker HyperPod cluster {cluster.label} reported an error event.",
        "",
        f"Cluster:          {clip(cluster.label, 256)}",
        f"Level:            {clip(_s(details.get('EventLevel')), 32)}",
        f"Description:      {clip(description) or '(not given)'}",
        f"Instance group:   {clip(_s(details.get('InstanceGroupName')), 63) or '-'}",
        f"Instance:         {clip(_s(details.get('InstanceId')), 64) or '-'}",
        f"Resource type:    {clip(_s(details.get('ResourceType')), 64) or '-'}",
        f"Event time:       {format_time(details.get('EventTime')) or '(unknown)'}",
        f"Cluster event id: {clip(_s(details.get('EventId')), 128) or '-'}",
        *_footer(envelope, cluster),
    ]
    subject = sns_subject(f"[{platform}] HyperPod cluster {cluster.label} error: {description or 'event'}")
    return Notification(subject=subject, message=bounded_message("\n".join(lines)))


def requested_repair(summary: dict[str, Any]) -> str | None:
    """``Replace`` / ``Reboot`` when the health summary asks for it (RepairAction first), else None."""
    for text in (_s(summary.get("RepairAction")), _s(summary.get("Recommendation"))):
        lowered = text.casefold()
        if "replace" in lowered:
            return "Replace"
        if "reboot" in lowered or "restart" in lowered:
            return "Reboot"
    return None


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
    for failure in _dicts(response.get("Failed")):
        if _s(failure.get("NodeId")) in ("", instance_id):
            text = f"{_s(failure.get('ErrorCode')) or 'Error'}: {_s(failure.get('Message'))}"
            return RepairOutcome(action, "rejected", clip(text, 1000))
    return RepairOutcome(action, "requested")


def node_health_notification(
    envelope: Envelope, detail: dict[str, Any], outcome: RepairOutcome, platform: str
) -> Notification:
    cluster = ClusterRef.from_fields(detail, envelope.resources)
    summary = _obj(detail.get("HealthSummary"))
    instance = _s(detail.get("InstanceId")) or "(unknown instance)"
    health = _s(summary.get("HealthStatus")) or "(unknown)"
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
        f"Reason:           {clip(_s(summary.get('HealthStatusReason'))) or '(not given)'}",
        f"Repair action:    {clip(_s(summary.get('RepairAction')), 128) or '-'}",
        f"Recommendation:   {clip(_s(summary.get('Recommendation')), 512) or '-'}",
        f"Automatic repair: {repair_line}",
        *_footer(envelope, cluster),
    ]
    suffix = {
        "requested": f", {outcome.action.lower()} requested",
        "call-failed": ", repair FAILED",
        "rejected": ", repair rejected",
    }.get(outcome.status, "")
    subject = sns_subject(f"[{platform}] HyperPod {cluster.label} node {instance} {health}{suffix}")
    return Notification(subject=subject, message=bounded_message("\n".join(lines)))


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
    instance_id = _s(detail.get("InstanceId"))
    if not cluster.label:
        return ignored("node health event names no cluster")
    summary = _obj(detail.get("HealthSummary"))
    action = requested_repair(summary)
    unhealthy = _s(summary.get("HealthStatus")).casefold() != "healthy"
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
                metrics.add_metric(name=METRIC_REPAIR_REQUESTED, unit=MetricUnit.Count, value=1)
            elif outcome.status == "rejected":
                metrics.add_metric(name=METRIC_REPAIR_REJECTED, unit=MetricUnit.Count, value=1)
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
    if not envelope.is_object:
        return ignored(envelope.detail_error or "event is not an object")
    if envelope.detail_type not in HANDLED_DETAIL_TYPES:
        return ignored(f"unhandled detail-type {clip(envelope.detail_type, 128)!r}")
    detail = envelope.detail
    if detail is None:
        return ignored(envelope.detail_error or "detail missing")

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
        status = canonical_status(detail.get("ClusterStatus"), _CLUSTER_STATUSES)
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
        level = _s(details.get("EventLevel"))
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
@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    envelope = Envelope.parse(event)
    logger.append_keys(event_id=envelope.id or None, detail_type=envelope.detail_type or None)
    try:
        result = process(envelope, sns=sns_client, sagemaker=sagemaker_client, topic_arn=TOPIC_ARN)
    except Exception:
        metrics.add_metric(name=METRIC_FAILED, unit=MetricUnit.Count, value=1)
        raise
    metrics.add_metric(
        name=METRIC_NOTIFIED if result["action"] == "notified" else METRIC_IGNORED,
        unit=MetricUnit.Count,
        value=1,
    )
    return result
