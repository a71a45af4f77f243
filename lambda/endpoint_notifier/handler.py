"""Endpoint failure and rollback notifier.

Triggered by EventBridge for ``SageMaker Endpoint State Change`` and ``SageMaker Endpoint Deployment
State Change``. Publishes ONE readable SNS notification when

* the endpoint status is ``Failed`` or ``UpdateRollbackFailed`` (``FAILED`` spellings too),
* the endpoint status is ``RollingBack`` (a blue/green or rolling deployment is being rolled back),
* a deployment-state event reports a variant status or status message that says rollback or failure.

Every other state is logged and ignored. The EventBridge rule does the filtering by source and account;
this function acts on whatever event it receives and never raises on a malformed one. When the event
carries no ``FailureReason`` for a failure, the function asks ``DescribeEndpoint`` for it (best effort:
a failing lookup is logged and the notification still goes out). A failing SNS publish raises, so
that Lambda's retries and on-failure destination get the event.

Environment: ``TOPIC_ARN`` (required to publish), ``PLATFORM_NAME`` (subject prefix, default
``aiplatform``), ``POWERTOOLS_METRICS_NAMESPACE`` (default ``AIPlatform``), ``POWERTOOLS_SERVICE_NAME``.
AWS calls: ``sns:Publish`` on the topic, ``sagemaker:DescribeEndpoint`` on the endpoint (optional).
"""

from __future__ import annotations

import dataclasses
import importlib.util
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

SERVICE = "endpoint-notifier"

# --- configuration, read once per execution environment -------------------------------------------
TOPIC_ARN = os.environ.get("TOPIC_ARN", "")
PLATFORM_NAME = os.environ.get("PLATFORM_NAME", "").strip() or "aiplatform"
METRICS_NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "") or "AIPlatform"

SUBJECT_MAX_CHARS = 99  # SNS: "must be less than 100 characters long"
MESSAGE_MAX_BYTES = 8 * 1024
FIELD_MAX_CHARS = 2000

HANDLED_DETAIL_TYPES = frozenset(
    {ev.DetailType.ENDPOINT_STATE_CHANGE, ev.DetailType.ENDPOINT_DEPLOYMENT_STATE_CHANGE}
)

METRIC_NOTIFIED = "NotificationsPublished"
METRIC_IGNORED = "EventsIgnored"
METRIC_FAILED = "ProcessingFailures"

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
_ROLLBACK_WORDS = re.compile(r"roll(ing)?[\s_-]*back|fail", re.IGNORECASE)


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
class VariantState:
    variant: str
    status: str
    message: str


@dataclass(frozen=True)
class EndpointChange:
    endpoint_name: str
    endpoint_arn: str
    status: str  # API spelling, e.g. "Failed"
    raw_status: str
    config_name: str
    pending_config_name: str
    failure_reason: str
    creation_time: str | None
    last_modified_time: str | None
    variant_states: tuple[VariantState, ...]

    @classmethod
    def from_detail(cls, detail: dict[str, Any], resources: tuple[str, ...]) -> EndpointChange:
        arn = _s(detail.get("EndpointArn")) or next((r for r in resources if ":endpoint/" in r), "")
        name = _s(detail.get("EndpointName")) or (arn.rsplit("/", 1)[-1] if ":endpoint/" in arn else "")
        pending = detail.get("PendingDeploymentSummary")
        pending = pending if isinstance(pending, dict) else {}
        states: list[VariantState] = []
        for variant in _dicts(pending.get("ProductionVariants")) + _dicts(detail.get("ProductionVariants")):
            for status in _dicts(variant.get("VariantStatus")):
                states.append(
                    VariantState(
                        variant=_s(variant.get("VariantName")),
                        status=ev.normalize_status(status.get("Status")),
                        message=_s(status.get("StatusMessage")),
                    )
                )
        return cls(
            endpoint_name=name,
            endpoint_arn=arn,
            status=canonical_status(detail.get("EndpointStatus"), _ENDPOINT_STATUSES),
            raw_status=_s(detail.get("EndpointStatus")),
            config_name=_s(detail.get("EndpointConfigName")),
            pending_config_name=_s(pending.get("EndpointConfigName")),
            failure_reason=_s(detail.get("FailureReason")),
            creation_time=format_time(detail.get("CreationTime")),
            last_modified_time=format_time(detail.get("LastModifiedTime")),
            variant_states=tuple(states),
        )


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
_ENDPOINT_STATUSES = tuple(v for k, v in vars(ev.EndpointStatus).items() if k.isupper())


def _same(status: str, expected: str) -> bool:
    """Case-insensitive comparison of normalised statuses (``failed`` == ``FAILED`` == ``Failed``)."""
    return bool(status) and status.casefold() == expected.casefold()


def console_url(region: str, endpoint_name: str) -> str:
    if not region or not _NAME_RE.match(endpoint_name or ""):
        return ""
    return (
        f"https://{region}.console.aws.amazon.com/sagemaker/home?region={region}#/endpoints/{endpoint_name}"
    )


# --- decisions -------------------------------------------------------------------------------------
def classify(detail_type: str, change: EndpointChange) -> str | None:
    """Why this change deserves a notification, or ``None``."""
    for status in sorted(ev.ENDPOINT_FAILURE_STATUSES):
        if _same(change.status, status):
            return status
    if _same(change.status, ev.EndpointStatus.ROLLING_BACK):
        return "RollingBack"
    if detail_type == ev.DetailType.ENDPOINT_DEPLOYMENT_STATE_CHANGE:
        for state in change.variant_states:
            if _ROLLBACK_WORDS.search(state.status) or _ROLLBACK_WORDS.search(state.message):
                return "DeploymentRollback"
    return None


def build_notification(
    envelope: Envelope, change: EndpointChange, kind: str, *, platform: str = PLATFORM_NAME
) -> Notification:
    name = change.endpoint_name or "(unknown endpoint)"
    status = change.status or change.raw_status or "(unknown)"
    headline = {
        "RollingBack": f"SageMaker endpoint {name} is rolling back a deployment.",
        "DeploymentRollback": f"A deployment to SageMaker endpoint {name} reports a rollback or failure.",
        ev.EndpointStatus.UPDATE_ROLLBACK_FAILED: (
            f"SageMaker endpoint {name} failed to roll back an update (UpdateRollbackFailed)."
        ),
    }.get(kind, f"SageMaker endpoint {name} is {status}.")
    lines = [
        headline,
        "",
        f"Endpoint:         {clip(name, 256)}",
        f"Status:           {clip(status, 64)}",
        f"Endpoint config:  {clip(change.config_name, 256) or '(not in event)'}",
    ]
    if change.pending_config_name and change.pending_config_name != change.config_name:
        lines.append(f"Pending config:   {clip(change.pending_config_name, 256)}")
    lines.append(f"Failure reason:   {clip(change.failure_reason) or '(not given)'}")
    for state in change.variant_states[:10]:
        text = f"{state.status or '?'}" + (f" - {clip(state.message, 512)}" if state.message else "")
        lines.append(f"Variant {clip(state.variant, 63) or '?'}: {text}")
    lines += [
        f"Region:           {envelope.region or '(unknown)'}",
        f"Account:          {envelope.account or '(unknown)'}",
        f"Time:             {format_time(envelope.time) or '(unknown)'}",
    ]
    if change.last_modified_time:
        lines.append(f"Last modified:    {change.last_modified_time}")
    if change.endpoint_arn:
        lines.append(f"Endpoint ARN:     {clip(change.endpoint_arn, 512)}")
    url = console_url(envelope.region, change.endpoint_name)
    if url:
        lines.append(f"Console:          {url}")
    lines += [f"Event:            {clip(envelope.detail_type, 128)} ({clip(envelope.id, 128)})"]
    label = {"RollingBack": "RollingBack", "DeploymentRollback": "deployment rollback"}.get(kind, status)
    subject = sns_subject(f"[{platform}] Endpoint {name} {label}")
    return Notification(subject=subject, message=bounded_message("\n".join(lines)))


# --- AWS actions (clients injected) ----------------------------------------------------------------
def lookup_failure_reason(sagemaker: Any, endpoint_name: str) -> str:
    """``FailureReason`` from DescribeEndpoint; ``""`` when unavailable (never raises)."""
    if not _NAME_RE.match(endpoint_name):
        return ""
    try:
        return _s(sagemaker.describe_endpoint(EndpointName=endpoint_name).get("FailureReason"))
    except (ClientError, BotoCoreError) as error:
        logger.warning(
            "DescribeEndpoint failed; notifying without a failure reason", extra={"error": str(error)}
        )
        return ""


@tracer.capture_method(capture_response=False)
def process(
    envelope: Envelope, *, sns: Any, sagemaker: Any, topic_arn: str, platform: str = PLATFORM_NAME
) -> dict[str, Any]:
    """Decide and act on one parsed event. Returns what was done."""
    if not envelope.is_object:
        return ignored(envelope.detail_error or "event is not an object")
    if envelope.detail_type not in HANDLED_DETAIL_TYPES:
        return ignored(f"unhandled detail-type {clip(envelope.detail_type, 128)!r}")
    if envelope.detail is None:
        return ignored(envelope.detail_error or "detail missing")
    change = EndpointChange.from_detail(envelope.detail, envelope.resources)
    if not change.endpoint_name:
        return ignored("event names no endpoint")
    kind = classify(envelope.detail_type, change)
    if kind is None:
        return ignored(
            f"status {clip(change.status or change.raw_status, 64) or '(none)'} needs no notification"
        )
    if not change.failure_reason and kind in ev.ENDPOINT_FAILURE_STATUSES:
        reason = lookup_failure_reason(sagemaker, change.endpoint_name)
        if reason:
            change = dataclasses.replace(change, failure_reason=reason)
    notification = build_notification(envelope, change, kind, platform=platform)
    message_id = publish(sns, topic_arn, notification)
    logger.info("Notification published", extra={"endpoint": change.endpoint_name, "kind": kind})
    return {
        "action": "notified",
        "endpoint": change.endpoint_name,
        "status": change.status,
        "kind": kind,
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
