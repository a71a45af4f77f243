"""EventBridge vocabulary of SageMaker, defined once (with the pattern of the resource names its events carry).

Pure Python with no imports beyond the standard library: the CDK constructs use it for event
patterns, and the Lambda bundler copies this file into every function asset as
``sagemaker_events.py`` so the handlers use the very same constants.
Source: the SageMaker EventBridge reference (see REFERENCE.md in the project's shared notes).
"""

from __future__ import annotations

import re

SOURCE = "aws.sagemaker"

# Names of endpoints, endpoint configs, training jobs, model package groups, variants, clusters and
# instance groups (botocore sagemaker: EndpointName, EndpointConfigName, TrainingJobName, EntityName
# pattern, at most 63 characters). The one copy: ``limits.NAME_PATTERN`` for the constructs and the
# config, ``lambda_common.NAME_RE`` and the shared schemas for the handlers (this file is in every asset).
NAME_PATTERN = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")


class DetailType:
    TRAINING_JOB_STATE_CHANGE = "SageMaker Training Job State Change"
    ENDPOINT_STATE_CHANGE = "SageMaker Endpoint State Change"
    ENDPOINT_DEPLOYMENT_STATE_CHANGE = "SageMaker Endpoint Deployment State Change"
    MODEL_PACKAGE_STATE_CHANGE = "SageMaker Model Package State Change"
    HYPERPOD_CLUSTER_STATE_CHANGE = "SageMaker HyperPod Cluster State Change"
    HYPERPOD_NODE_HEALTH_EVENT = "SageMaker HyperPod Cluster Node Health Event"
    HYPERPOD_CLUSTER_EVENT = "SageMaker HyperPod Cluster Event"


class EndpointStatus:
    """API spellings; the documented EventBridge samples use IN_SERVICE-style spellings too."""

    OUT_OF_SERVICE = "OutOfService"
    CREATING = "Creating"
    UPDATING = "Updating"
    SYSTEM_UPDATING = "SystemUpdating"
    ROLLING_BACK = "RollingBack"
    IN_SERVICE = "InService"
    DELETING = "Deleting"
    FAILED = "Failed"
    UPDATE_ROLLBACK_FAILED = "UpdateRollbackFailed"


class TrainingJobStatus:
    IN_PROGRESS = "InProgress"
    COMPLETED = "Completed"
    FAILED = "Failed"
    STOPPING = "Stopping"
    STOPPED = "Stopped"


# A job with one of these statuses has ended or is being stopped: nothing of it is left to watch.
TRAINING_JOB_ENDING = (
    TrainingJobStatus.COMPLETED, TrainingJobStatus.FAILED, TrainingJobStatus.STOPPING, TrainingJobStatus.STOPPED,
)


class ModelApprovalStatus:
    APPROVED = "Approved"
    REJECTED = "Rejected"
    PENDING_MANUAL_APPROVAL = "PendingManualApproval"


class ClusterStatus:
    CREATING = "Creating"
    IN_SERVICE = "InService"
    UPDATING = "Updating"
    FAILED = "Failed"
    DELETING = "Deleting"
    ROLLING_BACK = "RollingBack"
    SYSTEM_UPDATING = "SystemUpdating"


def normalize_status(value: object) -> str:
    """Fold the two spellings SageMaker uses into the API one: ``IN_SERVICE`` -> ``InService``.

    Non-strings fold to ``""`` so that malformed events never raise here.
    """
    if not isinstance(value, str):
        return ""
    value = value.strip()
    if "_" in value or value.isupper():
        return "".join(part.capitalize() for part in re.split(r"[_\s]+", value.lower()) if part)
    return value


ENDPOINT_FAILURE_STATUSES = frozenset({EndpointStatus.FAILED, EndpointStatus.UPDATE_ROLLBACK_FAILED})


class PlatformTag:
    """Tags the platform puts on the SageMaker training jobs it starts (the contract between the
    training constructs and the lifecycle glue).

    ``PLATFORM``: ``<platform name>-<environment>`` (e.g. ``acme-ml-dev``) on every job the platform
    starts; the training-job rule of the lifecycle glue matches it by default.
    ``PIPELINE``: ``<pipeline name>`` on jobs a ``TrainingPipeline`` starts; the pipeline registers and
    notifies those itself, so the glue neither registers nor notifies them.

    The "SageMaker Training Job State Change" event carries the job's tags as a map in ``detail.Tags``
    (SageMaker Developer Guide, "Events that Amazon SageMaker AI sends to Amazon EventBridge").
    """

    PLATFORM = "aiplatform:platform"
    PIPELINE = "aiplatform:pipeline"


class RepairAction:
    """``HealthSummary.RepairAction`` values of a HyperPod node health event that ask for a repair.

    The structured verdict is matched exactly; ``Recommendation`` is free text for people and is never
    parsed ("No need to replace or reboot" must not replace a node).
    """

    REPLACE = "Replace"
    REBOOT = "Reboot"


class EndpointKind:
    """Endpoint kinds as the lifecycle functions receive them in their environment (the values of
    ``constructs_lib.inference.EndpointKind``; a test keeps both equal)."""

    REALTIME = "realtime"
    SERVERLESS = "serverless"
    ASYNC = "async"
    INFERENCE_COMPONENTS = "inference-components"
    MULTI_MODEL = "multi-model"


class UsageMetric:
    """``AWS/SageMaker`` metrics that show an endpoint served requests, per kind.

    Asynchronous endpoints publish no ``Invocations``; they publish ``InvocationsProcessed``
    (EndpointName + VariantName; the SageMaker guide "Alarms and logs for tracking metrics from
    asynchronous endpoints" misspells it ``InvocationsProcesssed``) and ``ApproximateBacklogSize``
    (EndpointName only). Inference components publish ``Invocations`` per ``InferenceComponentName``.
    """

    INVOCATIONS = "Invocations"
    INVOCATIONS_PROCESSED = "InvocationsProcessed"
    APPROXIMATE_BACKLOG_SIZE = "ApproximateBacklogSize"


# What the idle guard sums per kind: (metric, statistic, dimension set). Dimension sets: "variant"
# (EndpointName + VariantName), "endpoint" (EndpointName), "component" (InferenceComponentName).
IDLE_SIGNALS: dict[str, tuple[tuple[str, str, str], ...]] = {
    EndpointKind.REALTIME: ((UsageMetric.INVOCATIONS, "Sum", "variant"),),
    EndpointKind.SERVERLESS: ((UsageMetric.INVOCATIONS, "Sum", "variant"),),
    EndpointKind.MULTI_MODEL: ((UsageMetric.INVOCATIONS, "Sum", "variant"),),
    EndpointKind.ASYNC: (
        (UsageMetric.INVOCATIONS_PROCESSED, "Sum", "variant"),
        (UsageMetric.APPROXIMATE_BACKLOG_SIZE, "Maximum", "endpoint"),
    ),
    EndpointKind.INFERENCE_COMPONENTS: ((UsageMetric.INVOCATIONS, "Sum", "component"),),
}
