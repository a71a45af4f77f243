"""Deploy approved model package versions to their endpoints.

Triggered by EventBridge for ``SageMaker Model Package State Change``. Only events whose
``ModelApprovalStatus`` is ``Approved`` (any spelling) and whose group is listed in ``DEPLOY_TARGETS``
are acted on; everything else is logged and ignored. For each target endpoint of the group:

1. ``DescribeModelPackage`` (still Approved and Completed?) gives the containers (image, model data, env);
2. ``DescribeEndpoint``: if the endpoint already runs (or is already deploying) the config built for this
   package version, nothing more is done for it;
3. ``CreateModel`` with the execution role ``MODEL_EXECUTION_ROLE_ARN`` and network isolation on, under
   a deterministic name (endpoint + package version + hash of package ARN and endpoint, <= 63 chars);
   an existing model of that name (``DescribeModel``) is reused;
4. ``DescribeEndpointConfig`` of the endpoint's current config; its production variants are copied with
   the new model name (variant names, instance types, counts and every other setting kept; ``KmsKeyId``,
   ``DataCaptureConfig``, ``AsyncInferenceConfig`` and the other config-level settings copied too) and
   ``CreateEndpointConfig`` creates it under a deterministic name (reused when it exists);
5. ``UpdateEndpoint`` with ``RetainAllVariantProperties=True`` (autoscaled instance counts survive) and
   the target's ``DeploymentConfig`` from ``DEPLOY_TARGETS``, else the endpoint's ``LastDeploymentConfig``.

Then ONE SNS notification summarises what happened. Duplicate deliveries of an event are absorbed
twice over: Powertools idempotency keyed on the EventBridge ``id`` (DynamoDB table ``IDEMPOTENCY_TABLE``,
partition key ``id``, TTL attribute ``expiration``), and the actions themselves are idempotent (SageMaker
also sends several events with different ids for one change). If an AWS call fails the summary says so and
the function raises, so Lambda retries (the idempotency record is released) and finally dead-letters.

Environment:
  ``DEPLOY_TARGETS``  JSON: ``{"<group>": ["<endpoint>", {"EndpointName": "<endpoint>",
                       "DeploymentConfig": {...UpdateEndpoint DeploymentConfig...},
                       "VariantNames": ["<variant>", ...]}]}``; a single string or object is accepted too.
                       ``VariantNames`` limits which variants get the new model (default: all that have one).
  ``MODEL_EXECUTION_ROLE_ARN`` role for CreateModel (required to deploy);
  ``TOPIC_ARN``; ``PLATFORM_NAME``; ``IDEMPOTENCY_TABLE`` (optional; without it only the actions are
  idempotent); ``IDEMPOTENCY_EXPIRY_SECONDS`` (default 86400); ``POWERTOOLS_METRICS_NAMESPACE``.
AWS calls: sagemaker:DescribeModelPackage, DescribeEndpoint, DescribeModel, CreateModel,
DescribeEndpointConfig, CreateEndpointConfig, UpdateEndpoint; iam:PassRole on the execution role;
sns:Publish; dynamodb:GetItem/PutItem/UpdateItem/DeleteItem on the idempotency table.

Limits: endpoints whose variants carry no ``ModelName`` (inference-component endpoints) are reported,
not changed. A config built earlier for the same package and endpoint is reused as is.
"""

from __future__ import annotations

import copy
import hashlib
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
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from botocore.model import NoShapeFoundError

try:
    import sagemaker_events as ev  # bundled copy inside the Lambda asset
except ImportError:  # running from the repository (tests)
    from constructs_lib import sagemaker_events as ev

SERVICE = "model-deployer"

SUBJECT_MAX_CHARS = 99  # SNS: "must be less than 100 characters long"
MESSAGE_MAX_BYTES = 8 * 1024
FIELD_MAX_CHARS = 2000

METRIC_NOTIFIED = "NotificationsPublished"
METRIC_IGNORED = "EventsIgnored"
METRIC_FAILED = "ProcessingFailures"
METRIC_MODEL_CREATED = "ModelsCreated"
METRIC_CONFIG_CREATED = "EndpointConfigsCreated"
METRIC_ENDPOINT_UPDATED = "EndpointUpdatesStarted"
METRIC_ALREADY_DEPLOYED = "DeploymentsAlreadyDone"

_NAME_RE = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
_MODEL_PACKAGE_ARN_RE = re.compile(r":model-package/(?P<group>[^/]+)/(?P<version>\d+)$")

# Fields copied from a model package container into CreateModel's ContainerDefinition.
_CONTAINER_FIELDS = (
    "ContainerHostname",
    "Image",
    "ModelDataUrl",
    "ModelDataSource",
    "AdditionalModelDataSources",
    "Environment",
)
# Inputs of CreateEndpointConfig / ProductionVariant (botocore 1.44.8); the live client's service model
# is preferred (see _input_members), these are the fallback for stub clients.
_ENDPOINT_CONFIG_FIELDS = (
    "EndpointConfigName",
    "ProductionVariants",
    "DataCaptureConfig",
    "Tags",
    "KmsKeyId",
    "AsyncInferenceConfig",
    "ExplainerConfig",
    "ShadowProductionVariants",
    "ExecutionRoleArn",
    "VpcConfig",
    "EnableNetworkIsolation",
    "MetricsConfig",
    "CrossRegionTrafficConfig",
)
_VARIANT_FIELDS = (
    "VariantName",
    "ModelName",
    "InitialInstanceCount",
    "InstanceType",
    "InstancePools",
    "VariantInstanceProvisionTimeoutInSeconds",
    "InitialVariantWeight",
    "AcceleratorType",
    "CoreDumpConfig",
    "ServerlessConfig",
    "VolumeSizeInGB",
    "ModelDataDownloadTimeoutInSeconds",
    "ContainerStartupHealthCheckTimeoutInSeconds",
    "EnableSSMAccess",
    "ManagedInstanceScaling",
    "RoutingConfig",
    "InferenceAmiVersion",
    "CapacityReservationConfig",
    "AcceleratorPartitionLayouts",
)


# --- typed configuration ---------------------------------------------------------------------------
@dataclass(frozen=True)
class DeployTarget:
    endpoint_name: str
    deployment_config: dict[str, Any] | None = None
    variant_names: tuple[str, ...] = ()


def parse_deploy_targets(raw: str) -> tuple[dict[str, tuple[DeployTarget, ...]], list[str]]:
    """``DEPLOY_TARGETS`` JSON -> targets by model package group name, plus every problem found."""
    problems: list[str] = []
    if not raw.strip():
        return {}, problems
    try:
        data = json.loads(raw)
    except ValueError as error:
        return {}, [f"DEPLOY_TARGETS is not JSON: {error}"]
    if not isinstance(data, dict):
        return {}, [f"DEPLOY_TARGETS must be a JSON object, got {type(data).__name__}"]
    targets: dict[str, tuple[DeployTarget, ...]] = {}
    for key, value in data.items():
        group = key.strip().rsplit("model-package-group/", 1)[-1]
        entries = value if isinstance(value, list) else [value]
        parsed: list[DeployTarget] = []
        for index, entry in enumerate(entries):
            path = f"DEPLOY_TARGETS[{key!r}][{index}]"
            if isinstance(entry, str):
                entry = {"EndpointName": entry}
            if not isinstance(entry, dict):
                problems.append(f"{path}: expected an endpoint name or an object, got {type(entry).__name__}")
                continue
            name = entry.get("EndpointName")
            if not isinstance(name, str) or not _NAME_RE.match(name):
                problems.append(f"{path}.EndpointName: {name!r} is not a valid endpoint name")
                continue
            deployment = entry.get("DeploymentConfig")
            if deployment is not None and not isinstance(deployment, dict):
                problems.append(
                    f"{path}.DeploymentConfig: expected an object, got {type(deployment).__name__}"
                )
                deployment = None
            variants = entry.get("VariantNames") or []
            if not isinstance(variants, list) or not all(isinstance(v, str) for v in variants):
                problems.append(f"{path}.VariantNames: expected a list of variant names")
                variants = []
            parsed.append(DeployTarget(name, deployment or None, tuple(variants)))
        if parsed:
            targets[group] = tuple(parsed)
    return targets, problems


def _int(raw: str, default: int) -> int:
    try:
        return int(raw) if raw.strip() else default
    except ValueError:
        return default


# --- configuration, read once per execution environment -------------------------------------------
TOPIC_ARN = os.environ.get("TOPIC_ARN", "")
PLATFORM_NAME = os.environ.get("PLATFORM_NAME", "").strip() or "aiplatform"
MODEL_EXECUTION_ROLE_ARN = os.environ.get("MODEL_EXECUTION_ROLE_ARN", "").strip()
DEPLOY_TARGETS, DEPLOY_TARGETS_PROBLEMS = parse_deploy_targets(os.environ.get("DEPLOY_TARGETS", ""))
IDEMPOTENCY_TABLE = os.environ.get("IDEMPOTENCY_TABLE", "").strip()
IDEMPOTENCY_EXPIRY_SECONDS = _int(os.environ.get("IDEMPOTENCY_EXPIRY_SECONDS", ""), 24 * 3600)
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

_BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=30)
sns_client = boto3.client("sns", config=_BOTO_CONFIG)
sagemaker_client = boto3.client("sagemaker", config=_BOTO_CONFIG)

idempotency_config = IdempotencyConfig(
    event_key_jmespath="id",
    expires_after_seconds=IDEMPOTENCY_EXPIRY_SECONDS,
    raise_on_no_idempotency_key=False,
)
persistence_layer = (
    DynamoDBPersistenceLayer(
        table_name=IDEMPOTENCY_TABLE, boto3_client=boto3.client("dynamodb", config=_BOTO_CONFIG)
    )
    if IDEMPOTENCY_TABLE
    else None
)
if DEPLOY_TARGETS_PROBLEMS:
    logger.error("DEPLOY_TARGETS has problems", extra={"problems": DEPLOY_TARGETS_PROBLEMS})


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
class PackageApproval:
    arn: str
    group: str
    version: str
    approval_status: str

    @classmethod
    def from_detail(cls, detail: dict[str, Any], resources: tuple[str, ...]) -> PackageApproval:
        arn = _s(detail.get("ModelPackageArn")) or next((r for r in resources if ":model-package/" in r), "")
        match = _MODEL_PACKAGE_ARN_RE.search(arn)
        return cls(
            arn=arn,
            group=_s(detail.get("ModelPackageGroupName")) or (match.group("group") if match else ""),
            version=_s(detail.get("ModelPackageVersion")) or (match.group("version") if match else ""),
            approval_status=canonical_status(detail.get("ModelApprovalStatus"), _APPROVAL_STATUSES),
        )


@dataclass
class TargetResult:
    endpoint: str
    model: str = ""
    endpoint_config: str = ""
    model_action: str = ""
    config_action: str = ""
    endpoint_action: str = ""
    deployment: str = ""
    error: str = ""

    def as_dict(self) -> dict[str, str]:
        return {k: v for k, v in self.__dict__.items() if v}


@dataclass(frozen=True)
class Notification:
    subject: str
    message: str


class DeploymentError(RuntimeError):
    """At least one target failed because an AWS call failed: raise so Lambda retries."""


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
_APPROVAL_STATUSES = tuple(v for k, v in vars(ev.ModelApprovalStatus).items() if k.isupper())


def resource_name(endpoint_name: str, package_arn: str, version: str, kind: str) -> str:
    """Deterministic, valid SageMaker name (``^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$``) for a model or
    endpoint config built from ``package_arn`` for ``endpoint_name``; ``kind`` is ``model`` or ``config``."""
    digest = hashlib.sha256(f"{kind}|{package_arn}|{endpoint_name}".encode()).hexdigest()[:8]
    parts = [f"v{version}" if version.isdigit() else "", "cfg" if kind == "config" else "", digest]
    suffix = "-".join(part for part in parts if part)
    stem = re.sub(r"[^a-zA-Z0-9]+", "-", endpoint_name).strip("-")
    stem = stem[: 63 - len(suffix) - 1].rstrip("-")
    return f"{stem}-{suffix}" if stem else suffix


def _error_text(error: Exception) -> str:
    if isinstance(error, ClientError):
        info = error.response.get("Error", {})
        return clip(f"{info.get('Code', 'Error')}: {info.get('Message', '')}", 1000)
    return clip(f"{type(error).__name__}: {error}", 1000)


def _is_not_found(error: ClientError) -> bool:
    info = error.response.get("Error", {})
    message = str(info.get("Message", "")).lower()
    return info.get("Code") in ("ValidationException", "ResourceNotFound") and (
        "could not find" in message or "not found" in message or "does not exist" in message
    )


def _already_exists(error: ClientError) -> bool:
    return "already exist" in str(error.response.get("Error", {}).get("Message", "")).lower()


def _input_members(sagemaker: Any, shape_name: str, fallback: tuple[str, ...]) -> frozenset[str]:
    try:
        return frozenset(sagemaker.meta.service_model.shape_for(shape_name).members)
    except (AttributeError, NoShapeFoundError):  # a stub client without botocore metadata
        return frozenset(fallback)


def container_definitions(package: dict[str, Any]) -> list[dict[str, Any]]:
    containers = _dicts(_obj(package.get("InferenceSpecification")).get("Containers"))
    return [
        {key: copy.deepcopy(c[key]) for key in _CONTAINER_FIELDS if c.get(key) not in (None, "", {}, [])}
        for c in containers
        if _s(c.get("Image"))
    ]


def ensure_model(sagemaker: Any, *, name: str, containers: list[dict[str, Any]], role_arn: str) -> str:
    """Create the model unless a model of that name exists. ``"created"`` or ``"reused"``."""
    try:
        sagemaker.describe_model(ModelName=name)
        return "reused"
    except ClientError as error:
        if not _is_not_found(error):
            raise
    request: dict[str, Any] = {
        "ModelName": name,
        "ExecutionRoleArn": role_arn,
        "EnableNetworkIsolation": True,
    }
    if len(containers) == 1:
        request["PrimaryContainer"] = containers[0]
    else:
        request["Containers"] = containers
        request["InferenceExecutionConfig"] = {"Mode": "Serial"}
    try:
        sagemaker.create_model(**request)
    except ClientError as error:
        if _already_exists(error):  # created concurrently by a duplicate delivery
            return "reused"
        raise
    return "created"


def endpoint_config_request(
    current: dict[str, Any],
    *,
    name: str,
    model_name: str,
    variant_names: tuple[str, ...],
    config_fields: frozenset[str],
    variant_fields: frozenset[str],
) -> tuple[dict[str, Any], int]:
    """CreateEndpointConfig request copying ``current`` with ``model_name`` in its model variants.

    Returns the request and how many variants got the new model.
    """
    request = {
        key: copy.deepcopy(value)
        for key, value in current.items()
        if key in config_fields and key not in ("EndpointConfigName", "ProductionVariants", "Tags")
    }
    variants, replaced = [], 0
    for variant in _dicts(current.get("ProductionVariants")):
        copied = {key: copy.deepcopy(value) for key, value in variant.items() if key in variant_fields}
        if copied.get("ModelName") and (not variant_names or copied.get("VariantName") in variant_names):
            copied["ModelName"] = model_name
            replaced += 1
        variants.append(copied)
    request["EndpointConfigName"] = name
    request["ProductionVariants"] = variants
    return request, replaced


def ensure_endpoint_config(sagemaker: Any, request: dict[str, Any]) -> str:
    """Create the endpoint config unless one of that name exists. ``"created"`` or ``"reused"``."""
    try:
        sagemaker.describe_endpoint_config(EndpointConfigName=request["EndpointConfigName"])
        return "reused"
    except ClientError as error:
        if not _is_not_found(error):
            raise
    try:
        sagemaker.create_endpoint_config(**request)
    except ClientError as error:
        if _already_exists(error):
            return "reused"
        raise
    return "created"


def _deployment_label(deployment: dict[str, Any] | None) -> str:
    if not deployment:
        return "SageMaker default (blue/green, all at once)"
    blue_green = _obj(deployment.get("BlueGreenUpdatePolicy"))
    routing = _s(_obj(blue_green.get("TrafficRoutingConfiguration")).get("Type"))
    if routing:
        label = f"blue/green {routing}"
    elif deployment.get("RollingUpdatePolicy"):
        label = "rolling update"
    else:
        label = "custom"
    alarms = _dicts(_obj(deployment.get("AutoRollbackConfiguration")).get("Alarms"))
    return label + (f", auto-rollback on {len(alarms)} alarm(s)" if alarms else "")


@tracer.capture_method(capture_response=False)
def deploy_to_endpoint(
    sagemaker: Any,
    *,
    package_arn: str,
    version: str,
    containers: list[dict[str, Any]],
    target: DeployTarget,
    role_arn: str,
) -> TargetResult:
    """Bring ``target`` onto the package version. Raises ClientError when an AWS call fails."""
    endpoint_name = target.endpoint_name
    result = TargetResult(
        endpoint=endpoint_name,
        model=resource_name(endpoint_name, package_arn, version, "model"),
        endpoint_config=resource_name(endpoint_name, package_arn, version, "config"),
    )
    endpoint = sagemaker.describe_endpoint(EndpointName=endpoint_name)
    pending = _s(_obj(endpoint.get("PendingDeploymentSummary")).get("EndpointConfigName"))
    if endpoint.get("EndpointConfigName") == result.endpoint_config:
        result.endpoint_action = "already-current"
        return result
    if pending == result.endpoint_config:
        result.endpoint_action = "already-deploying"
        return result

    result.model_action = ensure_model(sagemaker, name=result.model, containers=containers, role_arn=role_arn)
    current = sagemaker.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
    request, replaced = endpoint_config_request(
        current,
        name=result.endpoint_config,
        model_name=result.model,
        variant_names=target.variant_names,
        config_fields=_input_members(sagemaker, "CreateEndpointConfigInput", _ENDPOINT_CONFIG_FIELDS),
        variant_fields=_input_members(sagemaker, "ProductionVariant", _VARIANT_FIELDS),
    )
    if replaced == 0:
        result.endpoint_action = "skipped"
        result.error = (
            "no production variant of the current endpoint config names a model"
            + (f" among {list(target.variant_names)}" if target.variant_names else "")
            + " (inference-component endpoint?); nothing to replace"
        )
        return result
    result.config_action = ensure_endpoint_config(sagemaker, request)

    deployment = target.deployment_config or _obj(endpoint.get("LastDeploymentConfig")) or None
    update: dict[str, Any] = {
        "EndpointName": endpoint_name,
        "EndpointConfigName": result.endpoint_config,
        "RetainAllVariantProperties": True,
    }
    if deployment:
        update["DeploymentConfig"] = deployment
    sagemaker.update_endpoint(**update)
    result.endpoint_action = "update-started"
    result.deployment = _deployment_label(deployment)
    return result


def deployment_notification(
    envelope: Envelope,
    *,
    group: str,
    version: str,
    package_arn: str,
    results: list[TargetResult],
    platform: str,
) -> Notification:
    failed = [r for r in results if r.endpoint_action in ("failed", "skipped")]
    started = [r for r in results if r.endpoint_action == "update-started"]
    label = f"{group} v{version}" if version else group
    if failed:
        names = ", ".join(r.endpoint for r in failed)
        subject = f"[{platform}] Deploying {label} FAILED for {names}"
        headline = f"Approved model package {label} could not be deployed to: {names}."
    else:
        names = ", ".join(r.endpoint for r in started) or ", ".join(r.endpoint for r in results)
        subject = f"[{platform}] Deploying {label} to {names}"
        headline = f"Approved model package {label} is being deployed to: {names}."
    lines = [headline, "", f"Model package:    {clip(package_arn, 512)}"]
    for r in results:
        lines += [
            "",
            f"Endpoint:         {r.endpoint}",
            f"  Update:         {r.endpoint_action}",
            f"  Model:          {r.model}" + (f" ({r.model_action})" if r.model_action else ""),
            f"  Endpoint config: {r.endpoint_config}" + (f" ({r.config_action})" if r.config_action else ""),
        ]
        if r.deployment:
            lines.append(f"  Deployment:     {r.deployment}")
        if r.error:
            lines.append(f"  Error:          {clip(r.error, 1000)}")
    lines += [
        "",
        f"Region:           {envelope.region or '(unknown)'}",
        f"Account:          {envelope.account or '(unknown)'}",
        f"Time:             {format_time(envelope.time) or '(unknown)'}",
        f"Event:            {clip(envelope.detail_type, 128)} ({clip(envelope.id, 128)})",
    ]
    if started:
        lines.append("Watch the endpoint status; a failed or rolled-back update is notified separately.")
    return Notification(subject=sns_subject(subject), message=bounded_message("\n".join(lines)))


def deploy_approved(
    *,
    event: dict[str, Any],
    approval: PackageApproval,
    targets: tuple[DeployTarget, ...],
    sagemaker: Any,
    sns: Any,
    role_arn: str,
    topic_arn: str,
    platform: str,
) -> dict[str, Any]:
    """Deploy one approved package version to its targets; ``event`` is the idempotency key's source."""
    envelope = Envelope.parse(event)
    try:
        package = sagemaker.describe_model_package(ModelPackageName=approval.arn)
    except (ClientError, BotoCoreError):
        logger.exception("DescribeModelPackage failed", extra={"model_package_arn": approval.arn})
        raise
    current_approval = canonical_status(package.get("ModelApprovalStatus"), _APPROVAL_STATUSES)
    if current_approval != ev.ModelApprovalStatus.APPROVED:
        return ignored(f"model package is {current_approval or 'not approved'} now")
    package_status = _s(package.get("ModelPackageStatus"))
    if package_status and package_status.casefold() != "completed":
        return ignored(f"model package status is {clip(package_status, 64)}, not Completed")
    version = _s(package.get("ModelPackageVersion")) or approval.version
    containers = container_definitions(package)

    results: list[TargetResult] = []
    errors = 0
    for target in targets:
        if not containers:
            results.append(
                TargetResult(
                    endpoint=target.endpoint_name,
                    endpoint_action="skipped",
                    error="the model package has no container image",
                )
            )
            continue
        try:
            result = deploy_to_endpoint(
                sagemaker,
                package_arn=approval.arn,
                version=version,
                containers=containers,
                target=target,
                role_arn=role_arn,
            )
        except (ClientError, BotoCoreError) as error:
            logger.exception("Deployment failed", extra={"endpoint": target.endpoint_name})
            errors += 1
            result = TargetResult(
                endpoint=target.endpoint_name,
                endpoint_action="failed",
                error=_error_text(error),
                model=resource_name(target.endpoint_name, approval.arn, version, "model"),
                endpoint_config=resource_name(target.endpoint_name, approval.arn, version, "config"),
            )
        results.append(result)
        for action, metric in (
            (result.model_action == "created", METRIC_MODEL_CREATED),
            (result.config_action == "created", METRIC_CONFIG_CREATED),
            (result.endpoint_action == "update-started", METRIC_ENDPOINT_UPDATED),
            (result.endpoint_action in ("already-current", "already-deploying"), METRIC_ALREADY_DEPLOYED),
        ):
            if action:
                metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)

    summary = {
        "model_package_arn": approval.arn,
        "model_package_group": approval.group,
        "model_package_version": version,
        "targets": [r.as_dict() for r in results],
    }
    if all(r.endpoint_action in ("already-current", "already-deploying") for r in results):
        logger.info("Already deployed; nothing to do", extra=summary)
        return {"action": "already-deployed", **summary}

    notification = deployment_notification(
        envelope,
        group=approval.group,
        version=version,
        package_arn=approval.arn,
        results=results,
        platform=platform,
    )
    summary["message_id"] = publish(sns, topic_arn, notification)
    summary["subject"] = notification.subject
    metrics.add_metric(name=METRIC_NOTIFIED, unit=MetricUnit.Count, value=1)
    if errors:
        raise DeploymentError(f"{errors} of {len(results)} deployment(s) failed for {approval.arn}")
    action = "deployed" if any(r.endpoint_action == "update-started" for r in results) else "not-deployed"
    logger.info("Deployment summary", extra=summary)
    return {"action": action, **summary}


_idempotent_deploy = (
    idempotent_function(
        deploy_approved,
        data_keyword_argument="event",
        persistence_store=persistence_layer,
        config=idempotency_config,
        key_prefix=SERVICE,
    )
    if persistence_layer is not None
    else None
)


@tracer.capture_method(capture_response=False)
def process(
    event: object,
    *,
    sagemaker: Any,
    sns: Any,
    targets: dict[str, tuple[DeployTarget, ...]] | None = None,
    role_arn: str | None = None,
    topic_arn: str | None = None,
    platform: str = PLATFORM_NAME,
    deploy: Any = None,
) -> dict[str, Any]:
    """Decide and act on one event. ``deploy`` defaults to the idempotent deployment when configured."""
    targets = DEPLOY_TARGETS if targets is None else targets
    role_arn = MODEL_EXECUTION_ROLE_ARN if role_arn is None else role_arn
    topic_arn = TOPIC_ARN if topic_arn is None else topic_arn
    envelope = Envelope.parse(event)
    if not envelope.is_object:
        return ignored(envelope.detail_error or "event is not an object")
    if envelope.detail_type != ev.DetailType.MODEL_PACKAGE_STATE_CHANGE:
        return ignored(f"unhandled detail-type {clip(envelope.detail_type, 128)!r}")
    if envelope.detail is None:
        return ignored(envelope.detail_error or "detail missing")
    approval = PackageApproval.from_detail(envelope.detail, envelope.resources)
    if approval.approval_status != ev.ModelApprovalStatus.APPROVED:
        return ignored(
            f"approval status {clip(approval.approval_status, 64) or '(none)'} needs no deployment"
        )
    if not approval.arn.startswith("arn:") or not _MODEL_PACKAGE_ARN_RE.search(approval.arn):
        return ignored("event has no versioned ModelPackageArn")
    group_targets = targets.get(approval.group)
    if not group_targets:
        return ignored(f"no deploy targets for model package group {clip(approval.group, 128)!r}")
    if not role_arn:
        logger.error("MODEL_EXECUTION_ROLE_ARN is not configured; cannot deploy")
        raise RuntimeError("MODEL_EXECUTION_ROLE_ARN is not configured")
    if deploy is None:
        deploy = _idempotent_deploy or deploy_approved
    return deploy(
        event=event,
        approval=approval,
        targets=group_targets,
        sagemaker=sagemaker,
        sns=sns,
        role_arn=role_arn,
        topic_arn=topic_arn,
        platform=platform,
    )


# --- entry point -----------------------------------------------------------------------------------
@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    envelope = Envelope.parse(event)
    logger.append_keys(event_id=envelope.id or None, detail_type=envelope.detail_type or None)
    idempotency_config.register_lambda_context(context)
    if DEPLOY_TARGETS_PROBLEMS:
        logger.error("DEPLOY_TARGETS has problems", extra={"problems": DEPLOY_TARGETS_PROBLEMS})
    try:
        result = process(event, sagemaker=sagemaker_client, sns=sns_client)
    except Exception:
        metrics.add_metric(name=METRIC_FAILED, unit=MetricUnit.Count, value=1)
        raise
    if result["action"] == "ignored":
        metrics.add_metric(name=METRIC_IGNORED, unit=MetricUnit.Count, value=1)
    return result
