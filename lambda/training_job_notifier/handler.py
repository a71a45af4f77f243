"""Training job notifier and model registration.

Triggered by EventBridge for ``SageMaker Training Job State Change``:

* ``Failed`` / ``Stopped``: one SNS notification naming the job, its status, secondary status,
  ``FailureReason``, instances and times.
* ``Completed``: when ``MODEL_PACKAGE_GROUP`` is set and the event carries
  ``ModelArtifacts.S3ModelArtifacts``, registers a model package version in that group with
  ``ModelApprovalStatus=PendingManualApproval``, the job's image (``AlgorithmSpecification.TrainingImage``
  when the event has it, else ``INFERENCE_IMAGE``) and the artifacts, then notifies that it registered.
  ``ClientToken`` is derived from the training job ARN, so a duplicate event does not create a second
  version. Without an image the job is reported as completed but not registered.
* Anything else (InProgress, Stopping, other detail-types, malformed events): logged and ignored.

An AWS call that fails (CreateModelPackage, SNS Publish) raises after logging, so Lambda's retries and
on-failure destination get the event.

Environment: ``TOPIC_ARN``, ``PLATFORM_NAME`` (subject prefix, default ``aiplatform``),
``MODEL_PACKAGE_GROUP`` (optional), ``INFERENCE_IMAGE`` (optional), ``POWERTOOLS_METRICS_NAMESPACE``.
AWS calls: ``sns:Publish`` on the topic; ``sagemaker:CreateModelPackage`` in the group (only with
``MODEL_PACKAGE_GROUP``).
"""

from __future__ import annotations

import importlib.util
import os
import re
import uuid
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

SERVICE = "training-job-notifier"

# --- configuration, read once per execution environment -------------------------------------------
TOPIC_ARN = os.environ.get("TOPIC_ARN", "")
PLATFORM_NAME = os.environ.get("PLATFORM_NAME", "").strip() or "aiplatform"
MODEL_PACKAGE_GROUP = os.environ.get("MODEL_PACKAGE_GROUP", "").strip()
INFERENCE_IMAGE = os.environ.get("INFERENCE_IMAGE", "").strip()
METRICS_NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "") or "AIPlatform"

SUBJECT_MAX_CHARS = 99  # SNS: "must be less than 100 characters long"
MESSAGE_MAX_BYTES = 8 * 1024
FIELD_MAX_CHARS = 2000

METRIC_NOTIFIED = "NotificationsPublished"
METRIC_REGISTERED = "ModelPackagesRegistered"
METRIC_IGNORED = "EventsIgnored"
METRIC_FAILED = "ProcessingFailures"

# Fixed namespace for the CreateModelPackage idempotency token (uuid5 of the training job ARN).
_CLIENT_TOKEN_NAMESPACE = uuid.UUID("6f1f7d2e-4a52-4c43-9a59-3b8f1c0a2d11")

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
_S3_URI_RE = re.compile(r"^(https|s3)://([^/]+)/?(.*)$")  # ModelDataUrl pattern of the API
_TRAINING_STATUSES = tuple(v for k, v in vars(ev.TrainingJobStatus).items() if k.isupper())


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
class TrainingJobChange:
    name: str
    arn: str
    status: str
    secondary_status: str
    failure_reason: str
    artifacts: str
    training_image: str
    instance_type: str
    instance_count: str
    start_time: str | None
    end_time: str | None
    duration: str

    @classmethod
    def from_detail(cls, detail: dict[str, Any], resources: tuple[str, ...]) -> TrainingJobChange:
        arn = _s(detail.get("TrainingJobArn")) or next((r for r in resources if ":training-job/" in r), "")
        name = _s(detail.get("TrainingJobName")) or (
            arn.rsplit("/", 1)[-1] if ":training-job/" in arn else ""
        )
        artifacts = _obj(detail.get("ModelArtifacts"))
        algorithm = _obj(detail.get("AlgorithmSpecification"))
        resource_config = _obj(detail.get("ResourceConfig"))
        start, end = detail.get("TrainingStartTime"), detail.get("TrainingEndTime")
        return cls(
            name=name,
            arn=arn,
            status=canonical_status(detail.get("TrainingJobStatus"), _TRAINING_STATUSES),
            secondary_status=_s(detail.get("SecondaryStatus")),
            failure_reason=_s(detail.get("FailureReason")),
            artifacts=_s(artifacts.get("S3ModelArtifacts")),
            training_image=_s(algorithm.get("TrainingImage")),
            instance_type=_s(resource_config.get("InstanceType")),
            instance_count=_s(resource_config.get("InstanceCount")),
            start_time=format_time(start),
            end_time=format_time(end),
            duration=_duration(start, end),
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
def _duration(start: object, end: object) -> str:
    begin, finish = _epoch_seconds(start), _epoch_seconds(end)
    if begin is None or finish is None or finish < begin:
        return ""
    minutes, seconds = divmod(int(finish - begin), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m {seconds:02d}s"


def console_url(region: str, job_name: str) -> str:
    if not region or not _NAME_RE.match(job_name or ""):
        return ""
    return f"https://{region}.console.aws.amazon.com/sagemaker/home?region={region}#/jobs/{job_name}"


def client_token(job: TrainingJobChange) -> str:
    """Deterministic CreateModelPackage idempotency token (36 chars, ``[a-zA-Z0-9-]+``)."""
    return str(uuid.uuid5(_CLIENT_TOKEN_NAMESPACE, job.arn or job.name))


def _job_lines(envelope: Envelope, job: TrainingJobChange) -> list[str]:
    lines = [
        f"Training job:     {clip(job.name, 256)}",
        f"Status:           {clip(job.status, 64) or '(unknown)'}",
    ]
    if job.secondary_status:
        lines.append(f"Secondary status: {clip(job.secondary_status, 128)}")
    if job.instance_type:
        lines.append(
            f"Instances:        {clip(job.instance_count, 8) or '?'} x {clip(job.instance_type, 64)}"
        )
    if job.start_time:
        lines.append(f"Started:          {job.start_time}")
    if job.end_time:
        lines.append(f"Ended:            {job.end_time}" + (f" (ran {job.duration})" if job.duration else ""))
    lines += [
        f"Region:           {envelope.region or '(unknown)'}",
        f"Account:          {envelope.account or '(unknown)'}",
        f"Time:             {format_time(envelope.time) or '(unknown)'}",
    ]
    if job.arn:
        lines.append(f"Job ARN:          {clip(job.arn, 512)}")
    url = console_url(envelope.region, job.name)
    if url:
        lines.append(f"Console:          {url}")
    lines.append(f"Event:            {clip(envelope.detail_type, 128)} ({clip(envelope.id, 128)})")
    return lines


def failure_notification(envelope: Envelope, job: TrainingJobChange, platform: str) -> Notification:
    verb = "failed" if job.status == ev.TrainingJobStatus.FAILED else "was stopped"
    lines = [
        f"SageMaker training job {job.name} {verb}.",
        "",
        f"Failure reason:   {clip(job.failure_reason) or '(not given)'}",
        *_job_lines(envelope, job),
    ]
    subject = sns_subject(f"[{platform}] Training job {job.name} {job.status}")
    return Notification(subject=subject, message=bounded_message("\n".join(lines)))


def registered_notification(
    envelope: Envelope, job: TrainingJobChange, *, group: str, package_arn: str, image: str, platform: str
) -> Notification:
    lines = [
        f"SageMaker training job {job.name} completed; its model was registered for approval.",
        "",
        f"Model package:    {clip(package_arn, 512)}",
        f"Package group:    {clip(group, 256)}",
        f"Approval status:  {ev.ModelApprovalStatus.PENDING_MANUAL_APPROVAL}",
        f"Image:            {clip(image, 512)}",
        f"Model artifacts:  {clip(job.artifacts, 1024)}",
        *_job_lines(envelope, job),
        "",
        "Approve the package version in the model registry to deploy it.",
    ]
    subject = sns_subject(f"[{platform}] Training job {job.name} registered in {group}")
    return Notification(subject=subject, message=bounded_message("\n".join(lines)))


def unregistered_notification(
    envelope: Envelope, job: TrainingJobChange, *, why: str, platform: str
) -> Notification:
    lines = [
        f"SageMaker training job {job.name} completed, but its model was NOT registered: {why}.",
        "",
        f"Model artifacts:  {clip(job.artifacts, 1024)}",
        *_job_lines(envelope, job),
    ]
    subject = sns_subject(f"[{platform}] Training job {job.name} completed, not registered")
    return Notification(subject=subject, message=bounded_message("\n".join(lines)))


def register_model_package(sagemaker: Any, job: TrainingJobChange, *, group: str, image: str) -> str:
    """CreateModelPackage (PendingManualApproval); returns the package ARN. Raises on AWS failure."""
    metadata = {"TrainingJobName": job.name}
    if job.arn and re.fullmatch(r"[\w.:/=+\-@]{1,256}", job.arn):
        metadata["TrainingJobArn"] = job.arn
    request = {
        "ModelPackageGroupName": group,
        "ModelPackageDescription": clip(f"Registered from SageMaker training job {job.name}", 1024),
        "ModelApprovalStatus": ev.ModelApprovalStatus.PENDING_MANUAL_APPROVAL,
        "InferenceSpecification": {"Containers": [{"Image": image, "ModelDataUrl": job.artifacts}]},
        "CustomerMetadataProperties": metadata,
        "ClientToken": client_token(job),
    }
    try:
        response = sagemaker.create_model_package(**request)
    except (ClientError, BotoCoreError):
        logger.exception("CreateModelPackage failed", extra={"group": group, "training_job": job.name})
        raise
    return _s(response.get("ModelPackageArn"))


@tracer.capture_method(capture_response=False)
def process(
    envelope: Envelope,
    *,
    sns: Any,
    sagemaker: Any,
    topic_arn: str,
    model_package_group: str = MODEL_PACKAGE_GROUP,
    inference_image: str = INFERENCE_IMAGE,
    platform: str = PLATFORM_NAME,
) -> dict[str, Any]:
    """Decide and act on one parsed event. Returns what was done."""
    if not envelope.is_object:
        return ignored(envelope.detail_error or "event is not an object")
    if envelope.detail_type != ev.DetailType.TRAINING_JOB_STATE_CHANGE:
        return ignored(f"unhandled detail-type {clip(envelope.detail_type, 128)!r}")
    if envelope.detail is None:
        return ignored(envelope.detail_error or "detail missing")
    job = TrainingJobChange.from_detail(envelope.detail, envelope.resources)
    if not _NAME_RE.match(job.name):
        return ignored("event names no valid training job")

    if job.status in (ev.TrainingJobStatus.FAILED, ev.TrainingJobStatus.STOPPED):
        notification = failure_notification(envelope, job, platform)
        message_id = publish(sns, topic_arn, notification)
        return {
            "action": "notified",
            "training_job": job.name,
            "status": job.status,
            "subject": notification.subject,
            "message_id": message_id,
        }

    if job.status != ev.TrainingJobStatus.COMPLETED:
        return ignored(f"status {clip(job.status, 64) or '(none)'} needs no action")
    if not model_package_group:
        return ignored("completed; MODEL_PACKAGE_GROUP is not set, nothing to register")
    if not job.artifacts:
        return ignored("completed without ModelArtifacts.S3ModelArtifacts")
    if not _S3_URI_RE.match(job.artifacts) or len(job.artifacts) > 1024:
        return ignored("ModelArtifacts.S3ModelArtifacts is not an S3 URI")

    image = job.training_image or inference_image
    if not image or len(image) > 255 or re.search(r"\s", image):
        notification = unregistered_notification(
            envelope,
            job,
            why="no container image (the event has none and INFERENCE_IMAGE is not set)",
            platform=platform,
        )
        message_id = publish(sns, topic_arn, notification)
        return {
            "action": "notified",
            "training_job": job.name,
            "status": job.status,
            "registered": False,
            "subject": notification.subject,
            "message_id": message_id,
        }

    package_arn = register_model_package(sagemaker, job, group=model_package_group, image=image)
    metrics.add_metric(name=METRIC_REGISTERED, unit=MetricUnit.Count, value=1)
    logger.info(
        "Model package registered", extra={"model_package_arn": package_arn, "training_job": job.name}
    )
    notification = registered_notification(
        envelope, job, group=model_package_group, package_arn=package_arn, image=image, platform=platform
    )
    message_id = publish(sns, topic_arn, notification)
    return {
        "action": "registered",
        "training_job": job.name,
        "status": job.status,
        "registered": True,
        "model_package_arn": package_arn,
        "image": image,
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
    if result["action"] == "ignored":
        metrics.add_metric(name=METRIC_IGNORED, unit=MetricUnit.Count, value=1)
    else:
        metrics.add_metric(name=METRIC_NOTIFIED, unit=MetricUnit.Count, value=1)
    return result
