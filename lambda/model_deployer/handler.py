"""Promote approved model package versions to their endpoints: an EventBridge entry and the steps of
a Step Functions workflow, in one function.

**Entry** (EventBridge ``SageMaker Model Package State Change``): only events whose
``ModelApprovalStatus`` is ``Approved`` (any spelling) and whose group is listed in ``DEPLOY_TARGETS``
are acted on; everything else is logged and ignored. ``DescribeModelPackage`` confirms the version is
still approved (a package that cannot be described -- missing, access denied -- is notified once and
not raised; throttling raises so Lambda retries). With ``STATE_MACHINE_ARN`` set, the newest approved
version is recorded per target endpoint in ``PROMOTION_TABLE`` (a version is only ever raised; a version
that was rolled back or failed permanently is never queued again) and one promotion execution is started
per endpoint and version, named after both (``ExecutionAlreadyExists`` on a redelivered or repeated event:
nothing new starts). Duplicate deliveries are also absorbed by Powertools idempotency keyed on the
EventBridge ``id`` (``IDEMPOTENCY_TABLE``).

**Steps** (Step Functions Task payload ``{"Step", "State", "Execution"}``, see :func:`step`): acquire the
endpoint's lock (one promotion per endpoint at a time; an execution that finds it held stops, the holder
takes the newest version before releasing), take the newest wanted version, wait until the endpoint is
``InService``, deploy (the steps below), wait for the outcome, notify it (deployed, or rolled back with
SageMaker's ``FailureReason``, with the package version), repeat while a newer version is wanted, release.
Permanent errors (package or endpoint missing, access denied, a refused update) are notified once and the
version is not tried again; throttling and other transient errors raise ``TransientError``, which the
state machine retries with back-off.

Deploying one version to one endpoint (also the direct mode without ``STATE_MACHINE_ARN``):

1. ``DescribeModelPackage`` gives the containers (image, model data, env);
2. ``DescribeEndpoint``: if the endpoint already runs (or is already deploying) the config built for this
   package version, nothing more is done for it;
3. ``CreateModel`` with the execution role ``MODEL_EXECUTION_ROLE_ARN`` and network isolation on, under
   a deterministic name (endpoint + package version + hash of package ARN and endpoint, <= 63 chars);
   an existing model of that name (``DescribeModel``) is reused;
4. ``DescribeEndpointConfig`` of the endpoint's current config; its production variants are copied with
   the new model name (variant names, instance types, counts and every other setting kept; ``KmsKeyId``,
   ``DataCaptureConfig``, ``AsyncInferenceConfig`` and the other config-level settings copied too) and
   ``CreateEndpointConfig`` creates it under a deterministic name (reused when it exists);
5. for a target with ``Parameters`` (variants whose CloudFormation model reads its image and model data
   from SSM parameters at deploy time): ``PutParameter`` (``Overwrite``) of the version's image and model
   data, so that a later ``cdk deploy`` deploys the same version. A version CloudFormation could not
   express (several containers, ``ModelDataSource``, model data where the template has none or none
   where it has some) is refused before anything is created;
6. ``UpdateEndpoint`` with ``RetainAllVariantProperties=True`` (autoscaled instance counts survive) and
   the target's ``DeploymentConfig`` from ``DEPLOY_TARGETS`` (the endpoint's own canary/linear/rolling
   settings and rollback alarms), else the endpoint's ``LastDeploymentConfig``.

When the update is refused, rolled back or fails, the parameters get back what the endpoint serves
(``DescribeEndpointConfig`` + ``DescribeModel`` of its current config's variant).

Environment:
  ``DEPLOY_TARGETS``  JSON: ``{"<group>": ["<endpoint>", {"EndpointName": "<endpoint>",
                       "DeploymentConfig": {...UpdateEndpoint DeploymentConfig...},
                       "VariantNames": ["<variant>", ...]}]}``; a single string or object is accepted too.
                       ``VariantNames`` limits which variants get the new model (default: all that have one).
                       ``"Parameters": {"<variant>": {"Image": "<ssm name>", "ModelDataUrl": "<ssm name>"}}``
                       names the promotion parameters of variants CloudFormation reads from SSM.
  ``MODEL_EXECUTION_ROLE_ARN`` role for CreateModel (required to deploy);
  ``STATE_MACHINE_ARN`` and ``PROMOTION_TABLE`` (the workflow; without them the entry deploys directly,
  one try); ``TOPIC_ARN``; ``PLATFORM_NAME``; ``IDEMPOTENCY_TABLE`` (optional);
  ``IDEMPOTENCY_EXPIRY_SECONDS`` (default 86400); ``POWERTOOLS_METRICS_NAMESPACE``.
AWS calls: sagemaker:DescribeModelPackage, DescribeEndpoint, DescribeModel, CreateModel,
DescribeEndpointConfig, CreateEndpointConfig, UpdateEndpoint; iam:PassRole on the execution role;
ssm:PutParameter on the promotion parameters; states:StartExecution; sns:Publish;
dynamodb:GetItem/PutItem/UpdateItem/DeleteItem.

Limits: endpoints whose variants carry no ``ModelName`` (inference-component endpoints) are reported,
not changed. A config built earlier for the same package and endpoint is reused as is.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import time
from dataclasses import dataclass
from functools import partial
from typing import Any

import deploy_targets  # bundled next to this file (the tests register it from constructs_lib)
import lambda_common as common
import sagemaker_events as ev
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)
from botocore.model import NoShapeFoundError
from lambda_common import Envelope, Notification, as_objects, as_text, clip

SERVICE = "model-deployer"

METRIC_MODEL_CREATED = "ModelsCreated"
METRIC_CONFIG_CREATED = "EndpointConfigsCreated"
METRIC_ENDPOINT_UPDATED = "EndpointUpdatesStarted"
METRIC_ALREADY_DEPLOYED = "DeploymentsAlreadyDone"

_MODEL_PACKAGE_ARN_RE = re.compile(r":model-package/(?P<group>[^/]+)/(?P<version>\d+)$")

# A container's image and model data (ModelPackageContainerDefinition and CreateModel's
# ContainerDefinition members): also the keys of a variant's promotion parameters (DEPLOY_TARGETS), which
# hold exactly these two values.
IMAGE = deploy_targets.IMAGE
MODEL_DATA_URL = deploy_targets.MODEL_DATA_URL

# Fields copied from a model package container into CreateModel's ContainerDefinition.
_CONTAINER_FIELDS = (
    "ContainerHostname",
    IMAGE,
    MODEL_DATA_URL,
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
# DEPLOY_TARGETS has one schema, shared with the construct that writes it (constructs_lib/deploy_targets.py,
# bundled next to this file): DeployTarget is its TargetEntry.
DeployTarget = deploy_targets.TargetEntry
parse_deploy_targets = deploy_targets.parse_deploy_targets


def _int(raw: str, default: int) -> int:
    try:
        return int(raw) if raw.strip() else default
    except ValueError:
        return default


# --- configuration, read once per execution environment -------------------------------------------
TOPIC_ARN = os.environ.get("TOPIC_ARN", "")
PLATFORM_NAME = os.environ.get("PLATFORM_NAME", "").strip() or "aiplatform"
MODEL_EXECUTION_ROLE_ARN = os.environ.get("MODEL_EXECUTION_ROLE_ARN", "").strip()
DEPLOY_TARGETS, DEPLOY_TARGETS_PROBLEMS = parse_deploy_targets(os.environ.get(deploy_targets.ENVIRONMENT_VARIABLE, ""))
IDEMPOTENCY_TABLE = os.environ.get("IDEMPOTENCY_TABLE", "").strip()
IDEMPOTENCY_EXPIRY_SECONDS = _int(os.environ.get("IDEMPOTENCY_EXPIRY_SECONDS", ""), 24 * 3600)
METRICS_NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "") or "AIPlatform"

LOGGER_SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME") or SERVICE

logger, tracer, metrics = common.powertools(SERVICE, METRICS_NAMESPACE, LOGGER_SERVICE)
publish = partial(common.publish, logger=logger)
ignored = partial(common.ignored, logger=logger)

sns_client, sagemaker_client, ssm_client = common.clients("sns", "sagemaker", "ssm", read_timeout=30)

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
_ENDPOINT_STATUSES = common.known_values(ev.EndpointStatus)


def resource_name(endpoint_name: str, package_arn: str, version: str, kind: str) -> str:
    """Deterministic, valid SageMaker name (``common.NAME_RE``) for a model or endpoint config built
    from ``package_arn`` for ``endpoint_name``; ``kind`` is ``model``, ``config`` or ``promotion``
    (the Step Functions execution name, which allows these characters too)."""
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
        if as_text(c.get(IMAGE))
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


# --- one truth with CloudFormation: the promotion parameters -----------------------------------------
class UnrecordableVersion(ValueError):
    """The version cannot be written to the promotion parameters in a form CloudFormation deploys."""


def promoted_values(target: DeployTarget, containers: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    """Per variant with parameters, ``{parameter name: value}`` of this version. Raises
    :class:`UnrecordableVersion` when the template's model (one container, an image, model data exactly
    when it has a model data parameter) cannot take the version."""
    if not target.parameters:
        return {}
    where = f"the promotion parameters of {target.endpoint_name}"
    if len(containers) != 1:
        raise UnrecordableVersion(f"{where} hold one container; the version has {len(containers)}")
    container = containers[0]
    extra = [key for key in ("ModelDataSource", "AdditionalModelDataSources") if container.get(key)]
    if extra:
        raise UnrecordableVersion(f"{where} hold an image and a ModelDataUrl; the version has {', '.join(extra)}")
    values: dict[str, dict[str, str]] = {}
    for variant, names in target.parameters.items():
        data = as_text(container.get(MODEL_DATA_URL))
        if bool(data) != (MODEL_DATA_URL in names):
            raise UnrecordableVersion(
                f"{where}: variant {variant}'s template model "
                + ("has model data, the version none" if data == "" else "has no model data, the version has some")
            )
        values[variant] = {names[IMAGE]: as_text(container.get(IMAGE))}
        if data:
            values[variant][names[MODEL_DATA_URL]] = data
    return values


def put_parameters(ssm: Any, values: dict[str, str]) -> None:
    for name, value in values.items():
        ssm.put_parameter(Name=name, Value=value, Type="String", Overwrite=True)


def serving_values(sagemaker: Any, target: DeployTarget, config_name: str) -> dict[str, str]:
    """``{parameter name: value}`` of the models the endpoint config ``config_name`` serves."""
    config = sagemaker.describe_endpoint_config(EndpointConfigName=config_name)
    models = {v.get("VariantName"): v.get("ModelName") for v in as_objects(config.get("ProductionVariants"))}
    values: dict[str, str] = {}
    for variant, names in target.parameters.items():
        if not models.get(variant):
            continue
        model = sagemaker.describe_model(ModelName=models[variant])
        primary = common.as_object(model.get("PrimaryContainer"))
        containers = [primary] if primary else as_objects(model.get("Containers"))
        if len(containers) != 1 or not as_text(containers[0].get(IMAGE)):
            logger.warning("Served model has no single container", extra={"model": models[variant]})
            continue
        values[names[IMAGE]] = as_text(containers[0].get(IMAGE))
        if MODEL_DATA_URL in names and as_text(containers[0].get(MODEL_DATA_URL)):
            values[names[MODEL_DATA_URL]] = as_text(containers[0].get(MODEL_DATA_URL))
    return values


def restore_parameters(sagemaker: Any, ssm: Any, target: DeployTarget, endpoint: dict[str, Any]) -> dict[str, str]:
    """Put back into the promotion parameters what the endpoint serves now (after a refused, failed or
    rolled-back update), so CloudFormation deploys that and not the version that did not make it.

    ``endpoint`` is the caller's ``DescribeEndpoint`` response, taken after the update was refused or
    ended: its ``EndpointConfigName`` is what the endpoint serves (an update in progress shows in
    ``PendingDeploymentSummary``, not there)."""
    if not target.parameters:
        return {}
    values = serving_values(sagemaker, target, as_text(endpoint.get("EndpointConfigName")))
    put_parameters(ssm, values)
    logger.info("Promotion parameters restored", extra={"endpoint": target.endpoint_name, "parameters": values})
    return values


@tracer.capture_method(capture_response=False)
def deploy_to_endpoint(
    sagemaker: Any,
    *,
    package_arn: str,
    version: str,
    containers: list[dict[str, Any]],
    target: DeployTarget,
    role_arn: str,
    ssm: Any,
) -> TargetResult:
    """Bring ``target`` onto the package version. Raises ClientError when an AWS call fails.

    With promotion parameters, ``ssm`` records the version there right before ``UpdateEndpoint``."""
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
    try:
        recorded = promoted_values(target, containers)
    except UnrecordableVersion as error:
        result.endpoint_action, result.error = "skipped", f"{error}; CloudFormation could not deploy it: not deployed"
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
    replaced_variants = {v.get("VariantName") for v in request["ProductionVariants"] if v.get("ModelName") == result.model}
    # Before the update: a cdk deploy from now on deploys this version too (AWS::SSM::Parameter::Value).
    put_parameters(ssm, {n: v for variant, pairs in recorded.items() if variant in replaced_variants for n, v in pairs.items()})
    try:
        sagemaker.update_endpoint(**update)
    except ClientError:
        if recorded:  # refused: the parameters get back what the endpoint keeps serving (described above)
            restore_parameters(sagemaker, ssm, target, endpoint)
        raise
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
    ssm: Any,
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
                ssm=ssm,
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
    ssm: Any,
    targets: dict[str, tuple[DeployTarget, ...]] | None = None,
    role_arn: str | None = None,
    topic_arn: str | None = None,
    platform: str = PLATFORM_NAME,
    deploy: Any = None,
) -> dict[str, Any]:
    """Decide and act on one event. ``deploy`` defaults to the idempotent deployment when configured;
    ``ssm`` writes the promotion parameters of a direct deployment (the workflow's steps get their own)."""
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
        deploy = (_idempotent_enqueue or _enqueue) if STATE_MACHINE_ARN else (_idempotent_deploy or deploy_approved)
    return deploy(
        event=event,
        approval=approval,
        targets=group_targets,
        sagemaker=sagemaker,
        sns=sns,
        ssm=ssm,
        role_arn=role_arn,
        topic_arn=topic_arn,
        platform=platform,
    )


# --- promotion workflow: one Step Functions execution per endpoint at a time ------------------------
# The EventBridge entry (``enqueue``) records the newest approved version per endpoint in
# ``PROMOTION_TABLE`` and starts the state machine; the state machine calls ``step`` for each of its Task
# states (``Step`` = acquire, next, status, deploy, outcome, release) and routes on the returned ``Next``.
# The table item of an endpoint (partition key ``EndpointName``):
#   Wanted     {Version, PackageArn, Group}: the newest approved version (only ever raised)
#   Deployed   the version last deployed by a promotion that succeeded
#   RolledBack versions whose deployment SageMaker rolled back (never deployed again)
#   Abandoned  versions that failed permanently (package or endpoint missing, access denied; notified once)
#   Lock, LockExpires: the execution that promotes the endpoint now
TRANSIENT_CODES = frozenset(
    {"ThrottlingException", "Throttling", "TooManyRequestsException", "ServiceUnavailable",
     "InternalFailure", "InternalServerError", "RequestLimitExceeded", "ProvisionedThroughputExceededException"}
)
BUSY_STATUSES = frozenset(
    {ev.EndpointStatus.CREATING, ev.EndpointStatus.UPDATING, ev.EndpointStatus.SYSTEM_UPDATING,
     ev.EndpointStatus.ROLLING_BACK, ev.EndpointStatus.DELETING}
)
PROMOTION_TABLE = os.environ.get("PROMOTION_TABLE", "").strip()
STATE_MACHINE_ARN = os.environ.get("STATE_MACHINE_ARN", "").strip()
LOCK_SECONDS = _int(os.environ.get("PROMOTION_LOCK_SECONDS", ""), 24 * 3600)
METRIC_PROMOTED = "PromotionsSucceeded"
METRIC_ROLLED_BACK = "PromotionsRolledBack"
METRIC_ABANDONED = "PromotionsAbandoned"

dynamodb_client, stepfunctions_client = common.clients("dynamodb", "stepfunctions")


class TransientError(RuntimeError):
    """A throttled or failed-for-now AWS call: the state machine retries the step with back-off."""


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


_TRANSIENT_BOTOCORE = (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError, ConnectionClosedError)


def _raise_if_transient(error: Exception) -> None:
    """Throttling, service-side and connection errors are worth retrying; the rest is permanent."""
    if isinstance(error, _TRANSIENT_BOTOCORE) or (isinstance(error, ClientError) and _code(error) in TRANSIENT_CODES):
        raise TransientError(_error_text(error)) from error


def _item(dynamodb: Any, table: str, endpoint: str) -> dict[str, Any]:
    raw = dynamodb.get_item(TableName=table, Key={"EndpointName": {"S": endpoint}}, ConsistentRead=True)
    item = raw.get("Item") or {}
    wanted = item.get("Wanted", {}).get("M")
    return {
        "Wanted": {
            "Version": int(wanted["Version"]["N"]),
            "PackageArn": wanted["PackageArn"]["S"],
            "Group": wanted["Group"]["S"],
        } if wanted else None,
        "Deployed": int(item["Deployed"]["N"]) if "Deployed" in item else None,
        "RolledBack": {int(v) for v in item.get("RolledBack", {}).get("NS", [])},
        "Abandoned": {int(v) for v in item.get("Abandoned", {}).get("NS", [])},
    }


def _add_version(dynamodb: Any, table: str, endpoint: str, attribute: str, version: int) -> None:
    dynamodb.update_item(
        TableName=table, Key={"EndpointName": {"S": endpoint}},
        UpdateExpression=f"ADD {attribute} :v", ExpressionAttributeValues={":v": {"NS": [str(version)]}},
    )


def promotion_notification(
    endpoint: str, *, outcome: str, group: str, version: int | str, package_arn: str, detail: str, platform: str
) -> Notification:
    label = f"{group} v{version}"
    headline = {
        "deployed": f"Model package {label} is now serving on endpoint {endpoint}.",
        "rolled-back": f"Deploying model package {label} to endpoint {endpoint} was ROLLED BACK.",
        "failed": f"Model package {label} could NOT be deployed to endpoint {endpoint}.",
    }[outcome]
    subject = {
        "deployed": f"[{platform}] {label} deployed to {endpoint}",
        "rolled-back": f"[{platform}] {label} ROLLED BACK on {endpoint}",
        "failed": f"[{platform}] Deploying {label} to {endpoint} FAILED",
    }[outcome]
    reason_label = "Rollback reason:  " if outcome == "rolled-back" else "Detail:           "
    lines = [
        headline,
        "",
        f"Endpoint:         {endpoint}",
        f"Package version:  {version}",
        f"Model package:    {clip(package_arn, 512)}",
        f"{reason_label}{clip(detail, 1500) or '(not given)'}",
    ]
    if outcome == "rolled-back":
        lines.append("This version is not deployed again; approve a new version to retry.")
    return Notification.compose(subject, lines)


def _notify(sns: Any, topic_arn: str, endpoint: str, outcome: str, wanted: dict[str, Any], detail: str, platform: str) -> None:
    notification = promotion_notification(
        endpoint, outcome=outcome, group=wanted["Group"], version=wanted["Version"],
        package_arn=wanted["PackageArn"], detail=detail, platform=platform,
    )
    publish(sns, topic_arn, notification)


def enqueue(
    *,
    event: dict[str, Any],
    approval: PackageApproval,
    targets: tuple[DeployTarget, ...],
    sagemaker: Any,
    sns: Any,
    dynamodb: Any,
    stepfunctions: Any,
    table: str,
    state_machine_arn: str,
    topic_arn: str,
    platform: str,
) -> dict[str, Any]:
    """EventBridge approval -> the newest wanted version per target endpoint, and one promotion
    execution per endpoint and version (its name makes a redelivered event start nothing)."""
    try:
        package = sagemaker.describe_model_package(ModelPackageName=approval.arn)
    except (ClientError, BotoCoreError) as error:
        _raise_if_transient(error)  # Lambda retries; permanent errors are notified once, not raised
        logger.error("Model package cannot be described", extra={"model_package_arn": approval.arn})
        wanted = {"Group": approval.group, "Version": approval.version or "?", "PackageArn": approval.arn}
        for target in targets:
            _notify(sns, topic_arn, target.endpoint_name, "failed", wanted, _error_text(error), platform)
        common.count(metrics, METRIC_ABANDONED)
        return {"action": "not-deployed", "reason": _error_text(error), "model_package_arn": approval.arn}
    current_approval = common.canonical_status(package.get("ModelApprovalStatus"), _APPROVAL_STATUSES)
    if current_approval != ev.ModelApprovalStatus.APPROVED:
        return ignored(f"model package is {current_approval or 'not approved'} now")
    version_text = as_text(package.get("ModelPackageVersion")) or approval.version
    if not version_text.isdigit():
        return ignored("model package has no version number")
    version = int(version_text)
    started: list[dict[str, str]] = []
    for target in targets:
        endpoint = target.endpoint_name
        state = _item(dynamodb, table, endpoint)
        if version in state["RolledBack"] or version in state["Abandoned"]:
            started.append({"endpoint": endpoint, "action": "not-again (rolled back or failed before)"})
            continue
        if state["Wanted"] and state["Wanted"]["Version"] > version:
            started.append({"endpoint": endpoint, "action": f"superseded by v{state['Wanted']['Version']}"})
            continue
        try:
            dynamodb.update_item(
                TableName=table, Key={"EndpointName": {"S": endpoint}},
                UpdateExpression="SET Wanted = :w",
                ConditionExpression="attribute_not_exists(Wanted) OR Wanted.Version <= :v",
                ExpressionAttributeValues={
                    ":w": {"M": {"Version": {"N": str(version)}, "PackageArn": {"S": approval.arn},
                                 "Group": {"S": approval.group}}},
                    ":v": {"N": str(version)},
                },
            )
        except ClientError as error:
            if _code(error) != "ConditionalCheckFailedException":
                raise
            started.append({"endpoint": endpoint, "action": "superseded"})  # a newer one came meanwhile
            continue
        name = resource_name(endpoint, approval.arn, str(version), "promotion")
        try:
            stepfunctions.start_execution(
                stateMachineArn=state_machine_arn, name=name, input=json.dumps({"EndpointName": endpoint})
            )
            started.append({"endpoint": endpoint, "action": "promotion-started", "execution": name})
        except ClientError as error:
            if _code(error) != "ExecutionAlreadyExists":
                raise
            started.append({"endpoint": endpoint, "action": "promotion-exists", "execution": name})
    logger.info("Approval queued", extra={"model_package_arn": approval.arn, "targets": started})
    return {"action": "queued", "model_package_arn": approval.arn, "version": version, "targets": started}


def step(
    payload: dict[str, Any],
    *,
    sagemaker: Any,
    sns: Any,
    dynamodb: Any,
    table: str,
    targets: dict[str, tuple[DeployTarget, ...]],
    role_arn: str,
    topic_arn: str,
    platform: str,
    now: float,
    ssm: Any,
) -> dict[str, Any]:
    """One Task state of the promotion state machine; returns the next state (``Next`` routes).

    With promotion parameters, ``deploy`` records the version before ``UpdateEndpoint``; a refused,
    failed or rolled-back update puts back what the endpoint serves."""
    state = dict(common.as_object(payload.get("State")))
    name = as_text(payload.get("Step"))
    endpoint = as_text(state.get("EndpointName"))
    execution = as_text(payload.get("Execution")) or "manual"
    key = {"EndpointName": {"S": endpoint}}
    try:
        if name == "acquire":
            try:
                dynamodb.update_item(
                    TableName=table, Key=key,
                    UpdateExpression="SET #l = :me, LockExpires = :exp",
                    ConditionExpression="attribute_not_exists(#l) OR #l = :me OR LockExpires < :now",
                    ExpressionAttributeNames={"#l": "Lock"},
                    ExpressionAttributeValues={
                        ":me": {"S": execution}, ":exp": {"N": str(int(now) + LOCK_SECONDS)},
                        ":now": {"N": str(int(now))},
                    },
                )
            except ClientError as error:
                if _code(error) != "ConditionalCheckFailedException":
                    raise
                # Another execution promotes this endpoint; it takes the newest version before it stops.
                return {**state, "Next": "Done", "Result": "another promotion is running"}
            return {**state, "Next": "Next"}

        item = _item(dynamodb, table, endpoint)
        wanted = item["Wanted"]
        if name == "next":
            done = (
                wanted is None
                or wanted["Version"] == item["Deployed"]
                or wanted["Version"] in item["RolledBack"] | item["Abandoned"]
            )
            seen = wanted["Version"] if wanted else None
            if done:
                return {**state, "Next": "Release", "Seen": seen}
            return {**state, "Next": "WaitInService", **wanted, "Seen": seen}

        if name == "release":
            seen = state.get("Seen")
            condition = "#l = :me AND " + ("Wanted.Version = :seen" if seen is not None else "attribute_not_exists(Wanted)")
            values = {":me": {"S": execution}}
            if seen is not None:
                values[":seen"] = {"N": str(seen)}
            try:
                dynamodb.update_item(
                    TableName=table, Key=key, UpdateExpression="REMOVE #l, LockExpires",
                    ConditionExpression=condition, ExpressionAttributeNames={"#l": "Lock"},
                    ExpressionAttributeValues=values,
                )
            except ClientError as error:
                if _code(error) != "ConditionalCheckFailedException":
                    raise
                return {**state, "Next": "Next"}  # a newer version arrived meanwhile
            return {**state, "Next": "Done"}

        if name in ("status", "deploy") and (wanted is None or wanted["Version"] != state.get("Version")):
            return {**state, "Next": "Next"}  # superseded before it was deployed: take the newest
        # From here on: the version this execution took in "next" (a newer one waits for its turn).
        wanted = {"Version": state.get("Version"), "PackageArn": as_text(state.get("PackageArn")), "Group": as_text(state.get("Group"))}
        if not isinstance(wanted["Version"], int):
            return {**state, "Next": "Next"}
        target = next((t for t in targets.get(wanted["Group"], ()) if t.endpoint_name == endpoint), None)

        def abandon(detail: str, *, restore_from: dict[str, Any] | None = None) -> dict[str, Any]:
            """``restore_from``: the endpoint's DescribeEndpoint response, whose served models the
            promotion parameters get back."""
            if restore_from is not None and target is not None:  # first: a transient error retries the whole step
                restore_parameters(sagemaker, ssm, target, restore_from)
            _add_version(dynamodb, table, endpoint, "Abandoned", wanted["Version"])
            _notify(sns, topic_arn, endpoint, "failed", wanted, detail, platform)
            common.count(metrics, METRIC_ABANDONED)
            return {**state, "Next": "Next"}

        if target is None:
            return abandon(f"endpoint {endpoint} is no deploy target of group {wanted['Group']}")
        try:
            endpoint_now = sagemaker.describe_endpoint(EndpointName=endpoint)
        except ClientError as error:
            _raise_if_transient(error)
            return abandon(_error_text(error))
        status = common.canonical_status(endpoint_now.get("EndpointStatus"), _ENDPOINT_STATUSES)
        config_name = resource_name(endpoint, wanted["PackageArn"], str(wanted["Version"]), "config")

        if name == "status":
            if status in BUSY_STATUSES:
                return {**state, "Next": "WaitInService"}
            if status != ev.EndpointStatus.IN_SERVICE:
                return abandon(f"endpoint status is {status or 'unknown'}")
            return {**state, "Next": "Deploy"}

        if name == "deploy":
            if endpoint_now.get("EndpointConfigName") == config_name:
                return {**state, "Next": "Watch"}
            try:
                package = sagemaker.describe_model_package(ModelPackageName=wanted["PackageArn"])
            except ClientError as error:
                _raise_if_transient(error)
                return abandon(_error_text(error))
            containers = container_definitions(package)
            if not containers:
                return abandon("the model package has no container image")
            try:
                result = deploy_to_endpoint(
                    sagemaker, package_arn=wanted["PackageArn"], version=str(wanted["Version"]),
                    containers=containers, target=target, role_arn=role_arn, ssm=ssm,
                )
            except ClientError as error:
                _raise_if_transient(error)
                if "in-progress" in _error_text(error).lower() or "cannot update" in _error_text(error).lower():
                    return {**state, "Next": "WaitInService"}  # another update started meanwhile
                return abandon(_error_text(error))
            if result.endpoint_action == "skipped":
                return abandon(result.error)
            return {**state, "Next": "Watch", "Deployment": result.deployment}

        if name == "outcome":
            if status in BUSY_STATUSES:
                return {**state, "Next": "Watch"}
            if status == ev.EndpointStatus.IN_SERVICE and endpoint_now.get("EndpointConfigName") == config_name:
                dynamodb.update_item(
                    TableName=table, Key=key, UpdateExpression="SET Deployed = :v",
                    ExpressionAttributeValues={":v": {"N": str(wanted["Version"])}},
                )
                _notify(sns, topic_arn, endpoint, "deployed", wanted,
                        f"deployment: {state.get('Deployment') or 'the endpoint deployment config'}", platform)
                common.count(metrics, METRIC_PROMOTED)
                return {**state, "Next": "Next"}
            reason = as_text(endpoint_now.get("FailureReason")) or (
                f"the endpoint is {status} on {as_text(endpoint_now.get('EndpointConfigName'))}"
            )
            if status == ev.EndpointStatus.IN_SERVICE:  # back on the previous config: rolled back
                restore_parameters(sagemaker, ssm, target, endpoint_now)
                _add_version(dynamodb, table, endpoint, "RolledBack", wanted["Version"])
                _notify(sns, topic_arn, endpoint, "rolled-back", wanted, reason, platform)
                common.count(metrics, METRIC_ROLLED_BACK)
                return {**state, "Next": "Next"}
            return abandon(reason, restore_from=endpoint_now)
    except TransientError:
        raise
    except (ClientError, BotoCoreError) as error:
        _raise_if_transient(error)
        raise
    raise ValueError(f"unknown promotion step {name!r}")


# --- entry point -----------------------------------------------------------------------------------
def _enqueue(*, role_arn: str, ssm: Any, **kwargs: Any) -> dict[str, Any]:
    """The entry's action with the workflow configured (``role_arn`` and ``ssm`` are the steps' concern)."""
    return enqueue(
        dynamodb=dynamodb_client, stepfunctions=stepfunctions_client, table=PROMOTION_TABLE,
        state_machine_arn=STATE_MACHINE_ARN, **kwargs,
    )


_idempotent_enqueue = (
    idempotent_function(
        _enqueue, data_keyword_argument="event", persistence_store=persistence_layer,
        config=idempotency_config, key_prefix=f"{SERVICE}-queue",
    )
    if persistence_layer is not None
    else None
)


def run(envelope: Envelope, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if isinstance(event, dict) and "Step" in event:  # a Task state of the promotion state machine
        return step(
            event, sagemaker=sagemaker_client, sns=sns_client, dynamodb=dynamodb_client,
            table=PROMOTION_TABLE, targets=DEPLOY_TARGETS, role_arn=MODEL_EXECUTION_ROLE_ARN,
            topic_arn=TOPIC_ARN, platform=PLATFORM_NAME, now=time.time(), ssm=ssm_client,
        )
    idempotency_config.register_lambda_context(context)
    if DEPLOY_TARGETS_PROBLEMS:
        logger.error("DEPLOY_TARGETS has problems", extra={"problems": DEPLOY_TARGETS_PROBLEMS})
    result = process(event, sagemaker=sagemaker_client, sns=sns_client, ssm=ssm_client)
    if result["action"] == "ignored":
        common.count(metrics, common.METRIC_IGNORED)
    return result


handler = common.lambda_handler(run, logger=logger, tracer=tracer, metrics=metrics)
