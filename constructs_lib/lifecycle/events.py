"""Intent helpers: EventBridge rules on the SageMaker events the lifecycle functions react to.

Each ``on_*`` returns an ``events.Rule`` (with ``target`` added when given) whose pattern uses the
detail-types and states of :mod:`constructs_lib.sagemaker_events`, the same constants the Lambda
handlers compare against.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
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


def ignoring_case(values: Sequence[str]) -> list[dict[str, str]]:
    """EventBridge ``equals-ignore-case`` filters for ``values``: the handlers accept every letter case
    of a state (``FAILED``, ``Failed``), so the rule must not drop a spelling before them."""
    return [{"equals-ignore-case": value} for value in values]


@dataclass(frozen=True)
class TrainingJobFilter:
    """Which training jobs a training-job rule delivers; jobs tagged ``PlatformTag.PIPELINE`` never
    (their ``TrainingPipeline`` registers and notifies them itself).

    Build it with :meth:`platform` (the default of the lifecycle constructs: jobs tagged
    ``aiplatform:platform`` = ``<platform>-<environment>``), :meth:`tagged` or :meth:`name_prefix`.
    The event carries the job's tags as a map in ``detail.Tags``; EventBridge's ``exists`` works on
    leaf fields such as one tag's value (EventBridge User Guide, "Content filtering", exists matching).
    """

    tag_key: str | None = None
    tag_value: str | None = None
    job_name_prefix: str | None = None

    @classmethod
    def platform(cls, platform_name: str) -> TrainingJobFilter:
        return cls(tag_key=ev.PlatformTag.PLATFORM, tag_value=platform_name)

    @classmethod
    def tagged(cls, key: str, value: str) -> TrainingJobFilter:
        return cls(tag_key=key, tag_value=value)

    @classmethod
    def name_prefix(cls, prefix: str) -> TrainingJobFilter:
        return cls(job_name_prefix=prefix)

    def problems(self, path: str) -> list[tuple[str, Any, str]]:
        """(key path, value, what is allowed) for each problem of this filter."""
        found = []
        by_tag = self.tag_key is not None or self.tag_value is not None
        if by_tag == (self.job_name_prefix is not None):
            found.append((path, self, "exactly one of a tag (tag_key and tag_value) or a job_name_prefix"))
        if by_tag and not (self.tag_key and self.tag_value):
            found.append((f"{path}.tag_key", self.tag_key, "a tag key and a tag value, both non-empty"))
        if by_tag and self.tag_key == ev.PlatformTag.PIPELINE:
            found.append((f"{path}.tag_key", self.tag_key, "not the pipeline tag: its jobs are the pipeline's"))
        if self.job_name_prefix is not None and not self.job_name_prefix:
            found.append((f"{path}.job_name_prefix", self.job_name_prefix, "a non-empty prefix"))
        return found

    def detail(self) -> dict[str, Any]:
        """The ``detail`` part of the pattern that selects these jobs."""
        tags: dict[str, Any] = {ev.PlatformTag.PIPELINE: [{"exists": False}]}
        detail: dict[str, Any] = {"Tags": tags}
        if self.job_name_prefix is not None:
            detail["TrainingJobName"] = [{"prefix": self.job_name_prefix}]
        else:
            tags[str(self.tag_key)] = [self.tag_value]
        return detail

    def describe(self) -> str:
        if self.job_name_prefix is not None:
            return f"named {self.job_name_prefix}*"
        return f"tagged {self.tag_key}={self.tag_value}"


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


# EventBridge refuses an event pattern over 4096 characters (botocore events PutRule EventPattern
# max 4096): a list of endpoint names crosses it at about 180 platform endpoints.
EVENT_PATTERN_MAX_CHARS = 4096


def on_endpoint_changes(
    scope: Construct,
    id: str,
    *,
    endpoint_names: Sequence[str] = (),
    endpoint_name_prefix: str | None = None,
    target: events.IRuleTarget | None = None,
    description: str = "SageMaker endpoint state and deployment changes",
) -> events.Rule:
    """``SageMaker Endpoint State Change`` and ``... Deployment State Change`` of ``endpoint_names``, or
    of every endpoint whose name starts with ``endpoint_name_prefix`` (EventBridge prefix matching: one
    pattern of constant size however many endpoints the platform has)."""
    if (endpoint_name_prefix is None) == (not endpoint_names):
        raise ValueError("on_endpoint_changes: give endpoint_names or endpoint_name_prefix, not both or neither")
    names = [{"prefix": endpoint_name_prefix}] if endpoint_name_prefix is not None else sorted(endpoint_names)
    return _rule(
        scope, id, detail_types=ENDPOINT_DETAIL_TYPES, detail={"EndpointName": names},
        description=description, target=target,
    )


def on_training_job_state_change(
    scope: Construct,
    id: str,
    *,
    statuses: Sequence[str],
    jobs: TrainingJobFilter,
    target: events.IRuleTarget | None = None,
    description: str = "SageMaker training jobs reaching a final state",
) -> events.Rule:
    """``SageMaker Training Job State Change`` events whose ``TrainingJobStatus`` is one of ``statuses``
    (``sagemaker_events.TrainingJobStatus`` values, any letter case) for the training ``jobs`` selected
    (never those of a training pipeline), not every job of the account."""
    return _rule(
        scope, id, detail_types=[ev.DetailType.TRAINING_JOB_STATE_CHANGE],
        detail={"TrainingJobStatus": ignoring_case(statuses), **jobs.detail()},
        description=description, target=target,
    )


def on_model_package_approved(
    scope: Construct,
    id: str,
    *,
    model_package_groups: Sequence[str],
    target: events.IRuleTarget | None = None,
    description: str = "SageMaker model package versions approved in the platform's groups",
) -> events.Rule:
    """``SageMaker Model Package State Change`` events with ``ModelApprovalStatus`` ``Approved`` (any
    letter case) in ``model_package_groups``."""
    return _rule(
        scope, id, detail_types=[ev.DetailType.MODEL_PACKAGE_STATE_CHANGE],
        detail={
            "ModelApprovalStatus": ignoring_case([ev.ModelApprovalStatus.APPROVED]),
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


def on_training_jobs_named(
    scope: Construct,
    id: str,
    *,
    name_prefixes: Sequence[str],
    statuses: Sequence[str],
    target: events.IRuleTarget | None = None,
    description: str = "SageMaker training jobs of the platform's pipelines changing state",
) -> events.Rule:
    """``SageMaker Training Job State Change`` events of the jobs whose ``TrainingJobName`` starts with one
    of ``name_prefixes`` (EventBridge prefix matching, a list of them is an OR: EventBridge User Guide,
    "Content filtering"), with a ``TrainingJobStatus`` of ``statuses`` (any letter case)."""
    return _rule(
        scope, id, detail_types=[ev.DetailType.TRAINING_JOB_STATE_CHANGE],
        detail={
            "TrainingJobName": [{"prefix": p} for p in sorted(set(name_prefixes))],
            "TrainingJobStatus": ignoring_case(statuses),
        },
        description=description, target=target,
    )
