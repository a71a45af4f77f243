"""Endpoint scaling guard: the CloudFormation custom resource that lets an endpoint change instance type.

SageMaker refuses ``UpdateEndpoint`` when it would change the instance type of, or remove, a production
variant registered with Application Auto Scaling (SageMaker Developer Guide, "Update endpoints that use
auto scaling": deregister the variant, update the endpoint, register it again); CloudFormation would send
that update in one step and fail. Inference-component endpoints refuse an update to a different instance
type altogether ("Cannot update endpoint with a different instance type").

Each endpoint with scalable variants (or inference components) gets two resources of this type, ordered
by ``DependsOn``: phase ``before`` (the endpoint config and the endpoint depend on it) and phase
``after`` (it depends on the endpoint; the variants' scalable targets depend on it). Their properties
describe, per production variant, its instance types (``InstanceTypes``: the type and its fallbacks, in
priority order) and, when scaled, the scalable target (``Scaling``: ``ResourceId``,
``ScalableDimension``, ``MinCapacity``, ``MaxCapacity``, ``ScheduledActions``). An update of either
resource happens only when those change; for each variant whose instance types changed, was added or
removed, the handler compares the request with what the endpoint runs now (``DescribeEndpoint`` ->
``DescribeEndpointConfig``):

* the endpoint does not run the requested types yet (it is about to be updated: phase ``before`` of a
  deployment, phase ``after`` of its rollback): the variant's target is deregistered
  (``DeregisterScalableTarget``; a target already gone is fine). Inference-component endpoints: the
  update is refused with a message saying what to do, before the endpoint config or endpoint change;
* the endpoint already runs them (phase ``after`` of a deployment, phase ``before`` of its rollback):
  the variant's target is registered again with its capacity bounds (``RegisterScalableTarget``) and
  scheduled actions (``PutScheduledAction``), where CloudFormation keeps the target resource (it does not
  create it itself). The scaling policies are re-created by CloudFormation: their names carry the
  variant's instance types, so they are replaced after the target is back.

Create and Delete change nothing (CloudFormation creates the targets after the endpoint; deleting an
endpoint deregisters its targets). Every request is answered on its ``ResponseURL`` (FAILED with the
reason on any error), so a deployment never waits for a timeout.

AWS calls: sagemaker:DescribeEndpoint, sagemaker:DescribeEndpointConfig;
application-autoscaling:DeregisterScalableTarget, RegisterScalableTarget, PutScheduledAction.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import lambda_common as common
from botocore.exceptions import BotoCoreError, ClientError

SERVICE = "endpoint-scaling-guard"
NAMESPACE = "sagemaker"
PHASE_BEFORE = "before"
PHASE_AFTER = "after"
KIND_INSTANCES = "instances"
KIND_INFERENCE_COMPONENTS = "inference-components"

METRICS_NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "AIPlatform")
logger, tracer, metrics = common.powertools(SERVICE, METRICS_NAMESPACE, os.environ.get("POWERTOOLS_SERVICE_NAME"))
sagemaker_client, autoscaling_client = common.clients("sagemaker", "application-autoscaling")


class Refused(Exception):
    """An update SageMaker would refuse: the deployment stops here, with this message."""


# --- the resource's properties ---------------------------------------------------------------------
@dataclass(frozen=True)
class ScheduledAction:
    name: str
    schedule: str
    timezone: str | None
    min_capacity: int | None
    max_capacity: int | None


@dataclass(frozen=True)
class Scaling:
    resource_id: str
    scalable_dimension: str
    min_capacity: int
    max_capacity: int
    scheduled_actions: tuple[ScheduledAction, ...] = ()


@dataclass(frozen=True)
class Variant:
    name: str
    instance_types: tuple[str, ...]
    scaling: Scaling | None = None


@dataclass(frozen=True)
class Spec:
    endpoint_name: str
    phase: str
    kind: str
    variants: dict[str, Variant] = field(default_factory=dict)


def _int(value: object) -> int | None:
    """CloudFormation passes custom-resource property values as strings."""
    return None if value in (None, "") else int(str(value))


def parse_spec(properties: object) -> Spec:
    props = common.as_object(properties)
    variants: dict[str, Variant] = {}
    for raw in common.as_objects(props.get("Variants")):
        scaling = common.as_object(raw.get("Scaling")) or None
        variants[common.as_text(raw.get("VariantName"))] = Variant(
            name=common.as_text(raw.get("VariantName")),
            instance_types=tuple(common.as_text(t) for t in raw.get("InstanceTypes") or ()),
            scaling=Scaling(
                resource_id=common.as_text(scaling.get("ResourceId")),
                scalable_dimension=common.as_text(scaling.get("ScalableDimension")),
                min_capacity=_int(scaling.get("MinCapacity")) or 0,
                max_capacity=_int(scaling.get("MaxCapacity")) or 0,
                scheduled_actions=tuple(
                    ScheduledAction(
                        name=common.as_text(a.get("Name")), schedule=common.as_text(a.get("Schedule")),
                        timezone=common.as_text(a.get("Timezone")) or None,
                        min_capacity=_int(a.get("MinCapacity")), max_capacity=_int(a.get("MaxCapacity")),
                    )
                    for a in common.as_objects(scaling.get("ScheduledActions"))
                ),
            ) if scaling else None,
        )
    return Spec(
        endpoint_name=common.as_text(props.get("EndpointName")),
        phase=common.as_text(props.get("Phase")),
        kind=common.as_text(props.get("Kind")) or KIND_INSTANCES,
        variants=variants,
    )


# --- the decision (pure) ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Action:
    verb: str  # "deregister" | "register"
    variant: str
    scaling: Scaling


def changed_variants(old: Spec, new: Spec) -> list[str]:
    """Variants added, removed or with other instance types, in a stable order."""
    names = list(old.variants) + [n for n in new.variants if n not in old.variants]
    return [
        n for n in names
        if n not in old.variants or n not in new.variants
        or old.variants[n].instance_types != new.variants[n].instance_types
    ]


def plan(old: Spec, new: Spec, current: dict[str, tuple[str, ...]]) -> list[Action]:
    """What makes the registration consistent with the endpoint for an Update from ``old`` to ``new``,
    given the instance types the endpoint runs now (``current``, by variant; empty: no endpoint).
    Raises :class:`Refused` for an instance-type change of an inference-component endpoint."""
    actions: list[Action] = []
    refused: list[str] = []
    for name in changed_variants(old, new):
        before, after = old.variants.get(name), new.variants.get(name)
        runs_requested = after is not None and current.get(name) == after.instance_types
        if new.kind == KIND_INFERENCE_COMPONENTS:
            if before is not None and after is not None and not runs_requested:
                refused.append(f"variant {name}: {', '.join(before.instance_types)} -> {', '.join(after.instance_types)}")
            continue
        if runs_requested and after is not None and after.scaling is not None:
            # CloudFormation keeps the target resource when it existed before; a variant the old spec did
            # not have at all is the rollback of a removal (its target resource was never deleted).
            keeps_target = (before is not None and before.scaling is not None) or (
                before is None and new.phase == PHASE_BEFORE
            )
            if keeps_target:
                actions.append(Action("register", name, after.scaling))
        elif before is not None and before.scaling is not None:
            actions.append(Action("deregister", name, before.scaling))
    if refused:
        raise Refused(
            f"Inference-component endpoint {new.endpoint_name} cannot change its instance type in place "
            f"({'; '.join(refused)}): SageMaker refuses UpdateEndpoint to a different instance type while "
            "inference components run on it. Nothing was changed. To move it: add a second endpoint with "
            "the new instance type and the components, deploy, move the callers, then remove the old one; "
            "or deploy once without its components, then with the new instance type and the components."
        )
    return actions


# --- AWS calls -------------------------------------------------------------------------------------
def current_instance_types(sagemaker: Any, endpoint_name: str) -> dict[str, tuple[str, ...]]:
    """Instance types (priority order) per production variant of the endpoint's current config."""
    try:
        endpoint = sagemaker.describe_endpoint(EndpointName=endpoint_name)
    except ClientError as error:
        if common.is_not_found(error):
            return {}
        raise
    config = sagemaker.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
    types: dict[str, tuple[str, ...]] = {}
    for variant in config.get("ProductionVariants", []):
        pools = sorted(variant.get("InstancePools") or [], key=lambda p: p.get("Priority", 0))
        types[variant["VariantName"]] = (
            tuple(p["InstanceType"] for p in pools) if pools
            else ((variant["InstanceType"],) if variant.get("InstanceType") else ())
        )
    return types


def is_missing_target(error: ClientError) -> bool:
    """DeregisterScalableTarget of a target that is not registered: ``ObjectNotFoundException`` (API
    reference); a ``ValidationException`` "No scalable target found" is accepted as the same answer."""
    info = error.response.get("Error", {})
    return info.get("Code") == "ObjectNotFoundException" or (
        info.get("Code") == "ValidationException" and "no scalable target found" in str(info.get("Message", "")).lower()
    )


def deregister(autoscaling: Any, scaling: Scaling) -> str:
    try:
        autoscaling.deregister_scalable_target(
            ServiceNamespace=NAMESPACE, ResourceId=scaling.resource_id, ScalableDimension=scaling.scalable_dimension
        )
    except ClientError as error:
        if is_missing_target(error):
            return "already-deregistered"
        raise
    return "deregistered"


def register(autoscaling: Any, scaling: Scaling) -> str:
    target = dict(
        ServiceNamespace=NAMESPACE, ResourceId=scaling.resource_id, ScalableDimension=scaling.scalable_dimension
    )
    autoscaling.register_scalable_target(**target, MinCapacity=scaling.min_capacity, MaxCapacity=scaling.max_capacity)
    for action in scaling.scheduled_actions:
        bounds = {
            k: v for k, v in (("MinCapacity", action.min_capacity), ("MaxCapacity", action.max_capacity)) if v is not None
        }
        extra = {"Timezone": action.timezone} if action.timezone else {}
        autoscaling.put_scheduled_action(
            **target, ScheduledActionName=action.name, Schedule=action.schedule, ScalableTargetAction=bounds, **extra
        )
    return "registered"


def handle(event: dict[str, Any], *, sagemaker: Any, autoscaling: Any) -> dict[str, Any]:
    """The custom resource's work for one request; returns ``{"PhysicalResourceId", "Data"}``."""
    new = parse_spec(event.get("ResourceProperties"))
    physical_id = f"endpoint-scaling-guard/{new.endpoint_name}/{new.phase}"
    if event.get("RequestType") != "Update":
        return {"PhysicalResourceId": event.get("PhysicalResourceId") or physical_id, "Data": {"Actions": "none"}}
    old = parse_spec(event.get("OldResourceProperties"))
    done: list[str] = []
    if changed_variants(old, new):
        current = current_instance_types(sagemaker, new.endpoint_name)
        for action in plan(old, new, current):
            run = deregister if action.verb == "deregister" else register
            outcome = run(autoscaling, action.scaling)
            done.append(f"{action.variant}:{outcome}")
            logger.info("Scalable target", extra={"variant": action.variant, "outcome": outcome,
                                                  "resource_id": action.scaling.resource_id})
    return {"PhysicalResourceId": event.get("PhysicalResourceId") or physical_id,
            "Data": {"Actions": ",".join(done) or "none"}}


def respond(event: dict[str, Any], status: str, result: dict[str, Any], reason: str = "") -> None:
    common.respond(event, status, result, reason, service=SERVICE)


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if not common.is_custom_resource_request(event):
        logger.warning("Not a CloudFormation custom-resource request: ignored")
        return {"action": "ignored"}
    logger.append_keys(request_type=event.get("RequestType"), logical_id=event.get("LogicalResourceId"))
    try:
        result = handle(event, sagemaker=sagemaker_client, autoscaling=autoscaling_client)
    except Refused as refusal:
        logger.warning("Update refused", extra={"reason": str(refusal)})
        respond(event, "FAILED", {}, str(refusal))
        return {"Status": "FAILED"}
    except (ClientError, BotoCoreError, ValueError, KeyError, TypeError) as error:
        logger.exception("Scaling guard failed")
        respond(event, "FAILED", {}, f"{type(error).__name__}: {error}")
        return {"Status": "FAILED"}
    respond(event, "SUCCESS", result)
    return {"Status": "SUCCESS", **result}
