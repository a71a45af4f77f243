"""SageMaker inference: endpoints, their specs and metric vocabulary."""

from .base import EndpointBase
from .endpoint import InferenceEndpoint
from .metrics import INSTANCE_NAMESPACE, INVOCATION_NAMESPACE, EndpointMetric, InstanceMetric, Statistic
from .specs import (
    AlarmSpec,
    AutoScalingSpec,
    DataCaptureSpec,
    DeploymentSpec,
    DeploymentStrategy,
    EndpointKind,
    ModelSpec,
    VariantSpec,
)

__all__ = [
    "INSTANCE_NAMESPACE",
    "INVOCATION_NAMESPACE",
    "AlarmSpec",
    "AutoScalingSpec",
    "DataCaptureSpec",
    "DeploymentSpec",
    "DeploymentStrategy",
    "EndpointBase",
    "EndpointKind",
    "EndpointMetric",
    "InferenceEndpoint",
    "InstanceMetric",
    "ModelSpec",
    "Statistic",
    "VariantSpec",
]
