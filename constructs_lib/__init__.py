"""aiplatform-cdk construct library: SageMaker endpoints, observability and lifecycle glue.

The public API is what this module exports.
"""

from .compliance import acknowledge, add_compliance_checks
from .errors import PlatformValidationError, Problem
from .inference import (
    AlarmSpec,
    AutoScalingSpec,
    DataCaptureSpec,
    DeploymentSpec,
    DeploymentStrategy,
    EndpointKind,
    EndpointMetric,
    InferenceEndpoint,
    InstanceMetric,
    ModelSpec,
    Statistic,
    VariantSpec,
)
from .lifecycle import EndpointFailureNotifications, ReliableFunction
from .observability import EndpointDashboard
from .platform import ArtifactBucket, NotificationTopic, PlatformKey

__all__ = [
    "AlarmSpec",
    "ArtifactBucket",
    "AutoScalingSpec",
    "DataCaptureSpec",
    "DeploymentSpec",
    "DeploymentStrategy",
    "EndpointDashboard",
    "EndpointFailureNotifications",
    "EndpointKind",
    "EndpointMetric",
    "InferenceEndpoint",
    "InstanceMetric",
    "ModelSpec",
    "NotificationTopic",
    "PlatformKey",
    "PlatformValidationError",
    "Problem",
    "ReliableFunction",
    "Statistic",
    "VariantSpec",
    "acknowledge",
    "add_compliance_checks",
]
