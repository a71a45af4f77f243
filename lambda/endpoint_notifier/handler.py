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

SERVICE = "endpoint-notifier"

# --- configuration, read once per execution environment -------------------------------------------
TOPIC_ARN = os.environ.get("TOPIC_ARN", "")
PLATFORM_NAME = os.environ.get("PLATFORM_NAME", "").strip() or "aiplatform"
METRICS_NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "") or "AIPlatform"

HANDLED_DETAIL_TYPES = frozenset(
    {ev.DetailType.ENDPOINT_STATE_CHANGE, ev.DetailType.ENDPOINT_DEPLOYMENT_STATE_CHANGE}
)

LOGGER_SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME") or SERVICE

logger, tracer, metrics = common.powertools(SERVICE, METRICS_NAMESPACE, LOGGER_SERVICE)
publish = partial(common.publish, logger=logger)
ignored = partial(common.ignored, logger=logger)

sns_client, sagemaker_client = common.clients("sns", "sagemaker")

_ROLLBACK_WORDS = re.compile(r"roll(ing)?[\s_-]*back|fail", re.IGNORECASE)
_ENDPOINT_STATUSES = common.known_values(ev.EndpointStatus)


# --- typed event -----------------------------------------------------------------------------------
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
        arn = as_text(detail.get("EndpointArn")) or next((r for r in resources if ":endpoint/" in r), "")
        name = as_text(detail.get("EndpointName")) or (arn.rsplit("/", 1)[-1] if ":endpoint/" in arn else "")
        pending = detail.get("PendingDeploymentSummary")
        pending = pending if isinstance(pending, dict) else {}
        states: list[VariantState] = []
        variants = as_objects(pending.get("ProductionVariants")) + as_objects(detail.get("ProductionVariants"))
        for variant in variants:
            for status in as_objects(variant.get("VariantStatus")):
                states.append(
                    VariantState(
                        variant=as_text(variant.get("VariantName")),
                        status=ev.normalize_status(status.get("Status")),
                        message=as_text(status.get("StatusMessage")),
                    )
                )
        return cls(
            endpoint_name=name,
            endpoint_arn=arn,
            status=common.canonical_status(detail.get("EndpointStatus"), _ENDPOINT_STATUSES),
            raw_status=as_text(detail.get("EndpointStatus")),
            config_name=as_text(detail.get("EndpointConfigName")),
            pending_config_name=as_text(pending.get("EndpointConfigName")),
            failure_reason=as_text(detail.get("FailureReason")),
            creation_time=format_time(detail.get("CreationTime")),
            last_modified_time=format_time(detail.get("LastModifiedTime")),
            variant_states=tuple(states),
        )


# --- this handler's logic --------------------------------------------------------------------------
def _same(status: str, expected: str) -> bool:
    """Case-insensitive comparison of normalised statuses (``failed`` == ``FAILED`` == ``Failed``)."""
    return bool(status) and status.casefold() == expected.casefold()


def console_url(region: str, endpoint_name: str) -> str:
    if not region or not common.NAME_RE.match(endpoint_name or ""):
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
    lines += common.origin_lines(envelope)
    if change.last_modified_time:
        lines.append(f"Last modified:    {change.last_modified_time}")
    if change.endpoint_arn:
        lines.append(f"Endpoint ARN:     {clip(change.endpoint_arn, 512)}")
    url = console_url(envelope.region, change.endpoint_name)
    if url:
        lines.append(f"Console:          {url}")
    lines += [f"Event:            {clip(envelope.detail_type, 128)} ({clip(envelope.id, 128)})"]
    label = {"RollingBack": "RollingBack", "DeploymentRollback": "deployment rollback"}.get(kind, status)
    return Notification.compose(f"[{platform}] Endpoint {name} {label}", lines)


# --- AWS actions (clients injected) ----------------------------------------------------------------
def lookup_failure_reason(sagemaker: Any, endpoint_name: str) -> str:
    """``FailureReason`` from DescribeEndpoint; ``""`` when unavailable (never raises)."""
    if not common.NAME_RE.match(endpoint_name):
        return ""
    try:
        return as_text(sagemaker.describe_endpoint(EndpointName=endpoint_name).get("FailureReason"))
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
    unhandled = envelope.unhandled(HANDLED_DETAIL_TYPES)
    if unhandled:
        return ignored(unhandled)
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
