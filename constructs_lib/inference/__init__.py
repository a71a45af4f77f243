"""SageMaker inference: endpoints of every kind, inference components, their specs and metric vocabulary."""

from ._validation import check_endpoint_props
from .base import EndpointBase
from .component import InferenceComponent
from .endpoint import InferenceEndpoint
from .kinds import KIND_TRAITS, KindTraits, traits_of
from .metrics import (
    COMPONENT_INSTANCE_NAMESPACE,
    INSTANCE_NAMESPACE,
    INVOCATION_NAMESPACE,
    ComponentInstanceMetric,
    ComponentMetric,
    EndpointMetric,
    InstanceMetric,
    ScalableDimension,
    ScalingMetric,
    Statistic,
)
from .promotion import PromotionParameters
from .specs import (
    AsyncInferenceSpec,
    AutoScalingSpec,
    ComponentAutoScalingSpec,
    ComponentSpec,
    DataCaptureSpec,
    DeploymentSpec,
    DeploymentStrategy,
    EndpointKind,
    ManagedInstanceScalingSpec,
    MetricTargetSpec,
    ModelSpec,
    PromotedModel,
    RoutingStrategy,
    ScheduledScalingSpec,
    ServerlessSpec,
    ShadowVariantSpec,
    VariantSpec,
)

__all__ = [
    "COMPONENT_INSTANCE_NAMESPACE",
    "INSTANCE_NAMESPACE",
    "INVOCATION_NAMESPACE",
    "KIND_TRAITS",
    "AsyncInferenceSpec",
    "AutoScalingSpec",
    "ComponentAutoScalingSpec",
    "ComponentInstanceMetric",
    "ComponentMetric",
    "ComponentSpec",
    "DataCaptureSpec",
    "DeploymentSpec",
    "DeploymentStrategy",
    "EndpointBase",
    "EndpointKind",
    "EndpointMetric",
    "InferenceComponent",
    "InferenceEndpoint",
    "InstanceMetric",
    "KindTraits",
    "ManagedInstanceScalingSpec",
    "MetricTargetSpec",
    "ModelSpec",
    "PromotedModel",
    "PromotionParameters",
    "RoutingStrategy",
    "ScalableDimension",
    "ScalingMetric",
    "ScheduledScalingSpec",
    "ServerlessSpec",
    "ShadowVariantSpec",
    "Statistic",
    "VariantSpec",
    "check_endpoint_props",
    "traits_of",
]
