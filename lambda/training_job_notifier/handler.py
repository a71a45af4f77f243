"""Training job notifier and model registration.

Triggered by EventBridge for ``SageMaker Training Job State Change``:

* ``Failed`` / ``Stopped``: one SNS notification naming the job, its status, secondary status,
  ``FailureReason``, instances and times.
* ``Completed``: when ``MODEL_PACKAGE_GROUP`` is set and the event carries
  ``ModelArtifacts.S3ModelArtifacts``, registers a model package version in that group with
  ``ModelApprovalStatus=PendingManualApproval``, the serving image ``INFERENCE_IMAGE`` (only when it is
  not set, the job's ``AlgorithmSpecification.TrainingImage``, said so in the notification: the event
  always carries the training image, a training container that usually cannot serve) and the
  artifacts, then notifies that it registered. ``ClientToken`` is derived from the training job ARN, so
  a duplicate event does not create a second version. A completed job that cannot be registered (no
  image, no or no S3 artifacts) is notified as "completed, not registered", never dropped.
* Jobs tagged ``aiplatform:pipeline`` (``sagemaker_events.PlatformTag.PIPELINE``) are ignored: the
  training pipeline that started them registers and notifies them itself. The rule already filters
  them out; the handler checks again so a hand-made rule cannot double-notify.
* Anything else (InProgress, Stopping, other detail-types, malformed events): logged and ignored.

An AWS call that fails (CreateModelPackage, SNS Publish) raises after logging, so Lambda's retries and
on-failure destination get the event.

Environment: ``TOPIC_ARN``, ``PLATFORM_NAME`` (subject prefix, default ``aiplatform``),
``MODEL_PACKAGE_GROUP`` (optional), ``INFERENCE_IMAGE`` (optional), ``POWERTOOLS_METRICS_NAMESPACE``.
AWS calls: ``sns:Publish`` on the topic; ``sagemaker:CreateModelPackage`` in the group (only with
``MODEL_PACKAGE_GROUP``).
"""

from __future__ import annotations

import os
import re
import uuid
from dataclasses import dataclass
from functools import partial
from typing import Any

import lambda_common as common
import sagemaker_events as ev
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError
from lambda_common import Envelope, Notification, as_text, clip, format_time

SERVICE = "training-job-notifier"

# --- configuration, read once per execution environment -------------------------------------------
TOPIC_ARN = os.environ.get("TOPIC_ARN", "")
PLATFORM_NAME = os.environ.get("PLATFORM_NAME", "").strip() or "aiplatform"
MODEL_PACKAGE_GROUP = os.environ.get("MODEL_PACKAGE_GROUP", "").strip()
INFERENCE_IMAGE = os.environ.get("INFERENCE_IMAGE", "").strip()
METRICS_NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "") or "AIPlatform"

METRIC_REGISTERED = "ModelPackagesRegistered"

# Fixed namespace for the CreateModelPackage idempotency token (uuid5 of the training job ARN).
_CLIENT_TOKEN_NAMESPACE = uuid.UUID("6f1f7d2e-4a52-4c43-9a59-3b8f1c0a2d11")

LOGGER_SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME") or SERVICE

logger, tracer, metrics = common.powertools(SERVICE, METRICS_NAMESPACE, LOGGER_SERVICE)
publish = partial(common.publish, logger=logger)
ignored = partial(common.ignored, logger=logger)

sns_client, sagemaker_client = common.clients("sns", "sagemaker")

_S3_URI_RE = re.compile(r"^(https|s3)://([^/]+)/?(.*)$")  # ModelDataUrl pattern of the API
_TRAINING_STATUSES = common.known_values(ev.TrainingJobStatus)


# --- typed event -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class TrainingJobChange:
    name: str
    arn: str
    status: str
    secondary_status: str
    failure_reason: str
    artifacts: str
    training_image: str
    pipeline: str
    instance_type: str
    instance_count: str
    start_time: str | None
    end_time: str | None
    duration: str

    @classmethod
    def from_detail(cls, detail: dict[str, Any], resources: tuple[str, ...]) -> TrainingJobChange:
        arn = as_text(detail.get("TrainingJobArn")) or next(
            (r for r in resources if ":training-job/" in r), ""
        )
        name = as_text(detail.get("TrainingJobName")) or (
            arn.rsplit("/", 1)[-1] if ":training-job/" in arn else ""
        )
        artifacts = common.as_object(detail.get("ModelArtifacts"))
        algorithm = common.as_object(detail.get("AlgorithmSpecification"))
        resource_config = common.as_object(detail.get("ResourceConfig"))
        start, end = detail.get("TrainingStartTime"), detail.get("TrainingEndTime")
        return cls(
            name=name,
            arn=arn,
            status=common.canonical_status(detail.get("TrainingJobStatus"), _TRAINING_STATUSES),
            secondary_status=as_text(detail.get("SecondaryStatus")),
            failure_reason=as_text(detail.get("FailureReason")),
            artifacts=as_text(artifacts.get("S3ModelArtifacts")),
            training_image=as_text(algorithm.get("TrainingImage")),
            pipeline=as_text(common.as_object(detail.get("Tags")).get(ev.PlatformTag.PIPELINE)),
            instance_type=as_text(resource_config.get("InstanceType")),
            instance_count=as_text(resource_config.get("InstanceCount")),
            start_time=format_time(start),
            end_time=format_time(end),
            duration=_duration(start, end),
        )


# --- this handler's logic --------------------------------------------------------------------------
def _duration(start: object, end: object) -> str:
    begin, finish = common.epoch_seconds(start), common.epoch_seconds(end)
    if begin is None or finish is None or finish < begin:
        return ""
    minutes, seconds = divmod(int(finish - begin), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m {seconds:02d}s"


def console_url(region: str, job_name: str) -> str:
    if not region or not common.NAME_RE.match(job_name or ""):
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
    lines += common.origin_lines(envelope)
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
    return Notification.compose(f"[{platform}] Training job {job.name} {job.status}", lines)


def registered_notification(
    envelope: Envelope,
    job: TrainingJobChange,
    *,
    group: str,
    package_arn: str,
    image: str,
    platform: str,
    image_source: str = "INFERENCE_IMAGE",
) -> Notification:
    lines = [
        f"SageMaker training job {job.name} completed; its model was registered for approval.",
        "",
        f"Model package:    {clip(package_arn, 512)}",
        f"Package group:    {clip(group, 256)}",
        f"Approval status:  {ev.ModelApprovalStatus.PENDING_MANUAL_APPROVAL}",
        f"Image:            {clip(image, 512)} ({image_source})",
        f"Model artifacts:  {clip(job.artifacts, 1024)}",
        *_job_lines(envelope, job),
        "",
        *(
            ["WARNING: no INFERENCE_IMAGE is configured; the training image was registered and may not serve.", ""]
            if image_source != "INFERENCE_IMAGE"
            else []
        ),
        "Approve the package version in the model registry to deploy it.",
    ]
    return Notification.compose(f"[{platform}] Training job {job.name} registered in {group}", lines)


def unregistered_notification(
    envelope: Envelope, job: TrainingJobChange, *, why: str, platform: str
) -> Notification:
    lines = [
        f"SageMaker training job {job.name} completed, but its model was NOT registered: {why}.",
        "",
        f"Model artifacts:  {clip(job.artifacts, 1024) or '(none in the event)'}",
        *_job_lines(envelope, job),
    ]
    return Notification.compose(f"[{platform}] Training job {job.name} completed, not registered", lines)


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
    return as_text(response.get("ModelPackageArn"))


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
    unhandled = envelope.unhandled((ev.DetailType.TRAINING_JOB_STATE_CHANGE,))
    if unhandled:
        return ignored(unhandled)
    job = TrainingJobChange.from_detail(envelope.detail, envelope.resources)
    if not common.NAME_RE.match(job.name):
        return ignored("event names no valid training job")

    if job.pipeline:
        return ignored(
            f"job of training pipeline {clip(job.pipeline, 128)!r}: the pipeline registers and notifies it"
        )

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

    # The configured serving image wins: the event always names the TrainingImage (REFERENCE.md).
    image, image_source = (inference_image, "INFERENCE_IMAGE") if inference_image else (
        job.training_image, "the job's training image"
    )
    why = ""
    if not job.artifacts:
        why = "the event has no ModelArtifacts.S3ModelArtifacts"
    elif not _S3_URI_RE.match(job.artifacts) or len(job.artifacts) > 1024:
        why = "ModelArtifacts.S3ModelArtifacts is not an S3 URI of at most 1024 characters"
    elif not image or len(image) > 255 or re.search(r"\s", image):
        why = "no container image (INFERENCE_IMAGE is not set and the event names no valid training image)"
    if why:
        notification = unregistered_notification(envelope, job, why=why, platform=platform)
        message_id = publish(sns, topic_arn, notification)
        return {
            "action": "notified",
            "training_job": job.name,
            "status": job.status,
            "registered": False,
            "reason": why,
            "subject": notification.subject,
            "message_id": message_id,
        }

    package_arn = register_model_package(sagemaker, job, group=model_package_group, image=image)
    common.count(metrics, METRIC_REGISTERED)
    logger.info(
        "Model package registered", extra={"model_package_arn": package_arn, "training_job": job.name}
    )
    notification = registered_notification(
        envelope,
        job,
        group=model_package_group,
        package_arn=package_arn,
        image=image,
        platform=platform,
        image_source=image_source,
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
def run(envelope: Envelope, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = process(envelope, sns=sns_client, sagemaker=sagemaker_client, topic_arn=TOPIC_ARN)
    return common.count_outcome(metrics, result)  # "registered" counts as notified: it notifies too


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
