"""EventBridge vocabulary of SageMaker, defined once.

Pure Python with no imports beyond the standard library: the CDK constructs use it for event
patterns, and the Lambda bundler copies this file into every function asset as
``sagemaker_events.py`` so the handlers use the very same constants.
Source: the SageMaker EventBridge reference (see REFERENCE.md in the project's shared notes).
"""

from __future__ import annotations

import re

SOURCE = "aws.sagemaker"


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
