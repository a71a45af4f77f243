"""Intent helpers: EventBridge rules on the SageMaker events the lifecycle functions react to.

Each ``on_*`` returns an ``events.Rule`` (with ``target`` added when given) whose pattern uses the
detail-types and states of :mod:`constructs_lib.sagemaker_events`, the same constants the Lambda
handlers compare against.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_events as events
from constructs import Construct

from .. import sagemaker_events as ev

ENDPOINT_DETAIL_TYPES = (ev.DetailType.ENDPOINT_STATE_CHANGE, ev.DetailType.ENDPOINT_DEPLOYMENT_STATE_CHANGE)
HYPERPOD_DETAIL_TYPES = (
    ev.DetailType.HYPERPOD_CLUSTER_STATE_CHANGE,
    ev.DetailType.HYPERPOD_NODE_HEALTH_EVENT,
    ev.DetailType.HYPERPOD_CLUSTER_EVENT,
)


def _rule(
    scope: Construct,
    id: str,
    *,
    detail_types: Sequence[str],
    detail: dict[str, Any] | None,
    description: str,
    target: events.IRuleTarget | None,
) -> events.Rule:
    return events.Rule(
        scope, id,
        description=description,
        event_pattern=events.EventPattern(source=[ev.SOURCE], detail_type=list(detail_types), detail=detail),
        targets=[target] if target is not None else None,
    )


def on_endpoint_changes(
    scope: Construct,
    id: str,
    *,
    endpoint_names: Sequence[str],
    target: events.IRuleTarget | None = None,
    description: str = "SageMaker endpoint state and deployment changes",
) -> events.Rule:
    """``SageMaker Endpoint State Change`` and ``... Deployment State Change`` of ``endpoint_names``."""
    return _rule(
        scope, id, detail_types=ENDPOINT_DETAIL_TYPES, detail={"EndpointName": sorted(endpoint_names)},
        description=description, target=target,
    )


def on_training_job_state_change(
    scope: Construct,
    id: str,
    *,
    statuses: Sequence[str],
    target: events.IRuleTarget | None = None,
    description: str = "SageMaker training jobs reaching a final state",
) -> events.Rule:
    """``SageMaker Training Job State Change`` events whose ``TrainingJobStatus`` is one of ``statuses``
    (``sagemaker_events.TrainingJobStatus`` values), for every training job of the account and region."""
    return _rule(
        scope, id, detail_types=[ev.DetailType.TRAINING_JOB_STATE_CHANGE],
        detail={"TrainingJobStatus": list(statuses)}, description=description, target=target,
    )


def on_model_package_approved(
    scope: Construct,
    id: str,
    *,
    model_package_groups: Sequence[str],
    target: events.IRuleTarget | None = None,
    description: str = "SageMaker model package versions approved in the platform's groups",
) -> events.Rule:
    """``SageMaker Model Package State Change`` events with ``ModelApprovalStatus`` ``Approved`` in
    ``model_package_groups``."""
    return _rule(
        scope, id, detail_types=[ev.DetailType.MODEL_PACKAGE_STATE_CHANGE],
        detail={
            "ModelApprovalStatus": [ev.ModelApprovalStatus.APPROVED],
            "ModelPackageGroupName": sorted(set(model_package_groups)),
        },
        description=description, target=target,
    )


def on_hyperpod_events(
    scope: Construct,
    id: str,
    *,
    cluster_names: Sequence[str] = (),
    target: events.IRuleTarget | None = None,
    description: str = "SageMaker HyperPod cluster state changes, node health events and cluster events",
) -> events.Rule:
    """All three HyperPod detail-types; of ``cluster_names`` only when given (default: every cluster).

    The cluster name sits at ``detail.ClusterName`` in state changes and node health events and at
    ``detail.EventDetails.ClusterName`` in cluster events, hence the ``$or``.
    """
    names = sorted(set(cluster_names))
    detail = (
        {"$or": [{"ClusterName": names}, {"EventDetails": {"ClusterName": names}}]} if names else None
    )
    return _rule(
        scope, id, detail_types=HYPERPOD_DETAIL_TYPES, detail=detail, description=description, target=target
    )


def on_schedule(
    scope: Construct,
    id: str,
    *,
    every: Duration,
    target: events.IRuleTarget | None = None,
    description: str = "Periodic lifecycle check",
) -> events.Rule:
    """A ``rate(...)`` rule: EventBridge sends a ``Scheduled Event`` every ``every``."""
    return events.Rule(
        scope, id, description=description, schedule=events.Schedule.rate(every),
        targets=[target] if target is not None else None,
    )
