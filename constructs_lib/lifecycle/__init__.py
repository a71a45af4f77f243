"""Lifecycle glue: EventBridge rules and reliable Lambda functions reacting to SageMaker events."""

from .approved_model_deployer import (
    ApprovedModelDeployer,
    DeployTarget,
    S3Prefix,
    deployed_name_pattern,
    promotion_definition,
)
from .endpoint_notifications import EndpointFailureNotifications
from .events import (
    TrainingJobFilter,
    on_endpoint_changes,
    on_hyperpod_events,
    on_model_package_approved,
    on_schedule,
    on_training_job_state_change,
    on_training_jobs_named,
)
from .hyperpod_event_notifications import HyperPodClusterRef, HyperPodEventNotifications
from .idle_endpoint_guard import IdleEndpointGuard, ScaleToZero, WatchedEndpoint
from .reliable_function import ReliableFunction
from .training_job_alarms import TrainingJobAlarms, pack_pipelines
from .training_job_notifications import ModelRegistration, TrainingJobNotifications

__all__ = [
    "ApprovedModelDeployer",
    "DeployTarget",
    "EndpointFailureNotifications",
    "HyperPodClusterRef",
    "HyperPodEventNotifications",
    "IdleEndpointGuard",
    "ModelRegistration",
    "ReliableFunction",
    "S3Prefix",
    "ScaleToZero",
    "TrainingJobAlarms",
    "TrainingJobFilter",
    "TrainingJobNotifications",
    "WatchedEndpoint",
    "deployed_name_pattern",
    "on_endpoint_changes",
    "on_hyperpod_events",
    "on_model_package_approved",
    "on_schedule",
    "on_training_job_state_change",
    "on_training_jobs_named",
    "pack_pipelines",
    "promotion_definition",
]
