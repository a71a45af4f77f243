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
import json
import os
import re
from dataclasses import dataclass
from functools import partial
from typing import Any

import lambda_common as common
import sagemaker_events as ev
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError
from botocore.model import NoShapeFoundError
from lambda_common import Envelope, Notification, as_objects, as_text, clip

SERVICE = "model-deployer"

METRIC_MODEL_CREATED = "ModelsCreated"
METRIC_CONFIG_CREATED = "EndpointConfigsCreated"
METRIC_ENDPOINT_UPDATED = "EndpointUpdatesStarted"
METRIC_ALREADY_DEPLOYED = "DeploymentsAlreadyDone"

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
            if not isinstance(name, str) or not common.NAME_RE.match(name):
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

LOGGER_SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME") or SERVICE

logger, tracer, metrics = common.powertools(SERVICE, METRICS_NAMESPACE, LOGGER_SERVICE)
publish = partial(common.publish, logger=logger)
ignored = partial(common.ignored, logger=logger)

sns_client, sagemaker_client = common.clients("sns", "sagemaker", read_timeout=30)

idempotency_config = IdempotencyConfig(
    event_key_jmespath="id",
    expires_after_seconds=IDEMPOTENCY_EXPIRY_SECONDS,
    raise_on_no_idempotency_key=False,
)
persistence_layer = (
    DynamoDBPersistenceLayer(
        table_name=IDEMPOTENCY_TABLE, boto3_client=common.clients("dynamodb", read_timeout=30)[0]
    )
    if IDEMPOTENCY_TABLE
    else None
)
if DEPLOY_TARGETS_PROBLEMS:
    logger.error("DEPLOY_TARGETS has problems", extra={"problems": DEPLOY_TARGETS_PROBLEMS})


# --- typed event -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class PackageApproval:
    arn: str
    group: str
    version: str
    approval_status: str

    @classmethod
    def from_detail(cls, detail: dict[str, Any], resources: tuple[str, ...]) -> PackageApproval:
        arn = as_text(detail.get("ModelPackageArn")) or next(
            (r for r in resources if ":model-package/" in r), ""
        )
        match = _MODEL_PACKAGE_ARN_RE.search(arn)
        return cls(
            arn=arn,
            group=as_text(detail.get("ModelPackageGroupName")) or (match.group("group") if match else ""),
            version=as_text(detail.get("ModelPackageVersion")) or (match.group("version") if match else ""),
            approval_status=common.canonical_status(detail.get("ModelApprovalStatus"), _APPROVAL_STATUSES),
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


class DeploymentError(RuntimeError):
    """At least one target failed because an AWS call failed: raise so Lambda retries."""


# --- this handler's logic --------------------------------------------------------------------------
_APPROVAL_STATUSES = common.known_values(ev.ModelApprovalStatus)


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


def _already_exists(error: ClientError) -> bool:
    return "already exist" in str(error.response.get("Error", {}).get("Message", "")).lower()


def _input_members(sagemaker: Any, shape_name: str, fallback: tuple[str, ...]) -> frozenset[str]:
    try:
        return frozenset(sagemaker.meta.service_model.shape_for(shape_name).members)
    except (AttributeError, NoShapeFoundError):  # a stub client without botocore metadata
        return frozenset(fallback)


def container_definitions(package: dict[str, Any]) -> list[dict[str, Any]]:
    containers = as_objects(common.as_object(package.get("InferenceSpecification")).get("Containers"))
    return [
        {key: copy.deepcopy(c[key]) for key in _CONTAINER_FIELDS if c.get(key) not in (None, "", {}, [])}
        for c in containers
        if as_text(c.get("Image"))
    ]


def ensure_model(sagemaker: Any, *, name: str, containers: list[dict[str, Any]], role_arn: str) -> str:
    """Create the model unless a model of that name exists. ``"created"`` or ``"reused"``."""
    try:
        sagemaker.describe_model(ModelName=name)
        return "reused"
    except ClientError as error:
        if not common.is_not_found(error):
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
    for variant in as_objects(current.get("ProductionVariants")):
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
        if not common.is_not_found(error):
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
    blue_green = common.as_object(deployment.get("BlueGreenUpdatePolicy"))
    routing = as_text(common.as_object(blue_green.get("TrafficRoutingConfiguration")).get("Type"))
    if routing:
        label = f"blue/green {routing}"
    elif deployment.get("RollingUpdatePolicy"):
        label = "rolling update"
    else:
        label = "custom"
    alarms = as_objects(common.as_object(deployment.get("AutoRollbackConfiguration")).get("Alarms"))
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
    pending = as_text(common.as_object(endpoint.get("PendingDeploymentSummary")).get("EndpointConfigName"))
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

    deployment = target.deployment_config or common.as_object(endpoint.get("LastDeploymentConfig")) or None
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
        *common.origin_lines(envelope),
        f"Event:            {clip(envelope.detail_type, 128)} ({clip(envelope.id, 128)})",
    ]
    if started:
        lines.append("Watch the endpoint status; a failed or rolled-back update is notified separately.")
    return Notification.compose(subject, lines)


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
    current_approval = common.canonical_status(package.get("ModelApprovalStatus"), _APPROVAL_STATUSES)
    if current_approval != ev.ModelApprovalStatus.APPROVED:
        return ignored(f"model package is {current_approval or 'not approved'} now")
    package_status = as_text(package.get("ModelPackageStatus"))
    if package_status and package_status.casefold() != "completed":
        return ignored(f"model package status is {clip(package_status, 64)}, not Completed")
    version = as_text(package.get("ModelPackageVersion")) or approval.version
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
                common.count(metrics, metric)

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
    common.count(metrics, common.METRIC_NOTIFIED)
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
    unhandled = envelope.unhandled((ev.DetailType.MODEL_PACKAGE_STATE_CHANGE,))
    if unhandled:
        return ignored(unhandled)
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
def run(envelope: Envelope, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    idempotency_config.register_lambda_context(context)
    if DEPLOY_TARGETS_PROBLEMS:
        logger.error("DEPLOY_TARGETS has problems", extra={"problems": DEPLOY_TARGETS_PROBLEMS})
    result = process(event, sagemaker=sagemaker_client, sns=sns_client)
    if result["action"] == "ignored":
        common.count(metrics, common.METRIC_IGNORED)
    return result


handler = common.lambda_handler(run, logger=logger, tracer=tracer, metrics=metrics)
