"""SageMaker endpoint metric vocabulary: namespaces, names, default statistics, defined once.

Source: "Monitor Amazon SageMaker with Amazon CloudWatch" (SageMaker developer guide), the
Application Auto Scaling ``MetricType`` enum in botocore, and REFERENCE.md. Latencies are in
microseconds; instance utilizations are percent summed over cores/devices (CPU, GPU) or plain
percent (memory, disk).
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw

INVOCATION_NAMESPACE = "AWS/SageMaker"
INSTANCE_NAMESPACE = "/aws/sagemaker/Endpoints"
COMPONENT_INSTANCE_NAMESPACE = "/aws/sagemaker/InferenceComponents"
DEFAULT_PERIOD = Duration.minutes(1)


class EndpointMetric:
    """Metric names in ``AWS/SageMaker`` (dimensions EndpointName, VariantName)."""

    INVOCATIONS = "Invocations"
    INVOCATIONS_PER_INSTANCE = "InvocationsPerInstance"
    MODEL_LATENCY = "ModelLatency"
    OVERHEAD_LATENCY = "OverheadLatency"
    INVOCATION_4XX_ERRORS = "Invocation4XXErrors"
    INVOCATION_5XX_ERRORS = "Invocation5XXErrors"
    INVOCATION_MODEL_ERRORS = "InvocationModelErrors"
    MODEL_SETUP_TIME = "ModelSetupTime"
    CONCURRENT_REQUESTS_PER_MODEL = "ConcurrentRequestsPerModel"
    # Serverless endpoints with provisioned concurrency
    SERVERLESS_PROVISIONED_CONCURRENCY_UTILIZATION = "ServerlessProvisionedConcurrencyUtilization"
    SERVERLESS_PROVISIONED_CONCURRENCY_SPILLOVER_INVOCATIONS = "ServerlessProvisionedConcurrencySpilloverInvocations"
    # Asynchronous endpoints: per variant (they publish no Invocations; the SageMaker guide's table
    # misspells it InvocationsProcesssed) ...
    INVOCATIONS_PROCESSED = "InvocationsProcessed"
    # ... and with dimension EndpointName only
    APPROXIMATE_BACKLOG_SIZE = "ApproximateBacklogSize"
    APPROXIMATE_BACKLOG_SIZE_PER_INSTANCE = "ApproximateBacklogSizePerInstance"
    HAS_BACKLOG_WITHOUT_CAPACITY = "HasBacklogWithoutCapacity"
    APPROXIMATE_AGE_OF_OLDEST_REQUEST = "ApproximateAgeOfOldestRequest"  # seconds


# Metrics published per endpoint, not per variant.
ENDPOINT_ONLY_METRICS = frozenset(
    {
        EndpointMetric.APPROXIMATE_BACKLOG_SIZE,
        EndpointMetric.APPROXIMATE_BACKLOG_SIZE_PER_INSTANCE,
        EndpointMetric.HAS_BACKLOG_WITHOUT_CAPACITY,
    }
)


class InstanceMetric:
    """Metric names in ``/aws/sagemaker/Endpoints`` (dimensions EndpointName, VariantName)."""

    CPU_UTILIZATION = "CPUUtilization"
    MEMORY_UTILIZATION = "MemoryUtilization"
    GPU_UTILIZATION = "GPUUtilization"
    GPU_MEMORY_UTILIZATION = "GPUMemoryUtilization"
    DISK_UTILIZATION = "DiskUtilization"


# Instance metrics summed over devices (up to 100 % per vCPU/GPU) vs plain percentages (0-100).
SUMMED_INSTANCE_METRICS = frozenset(
    {InstanceMetric.CPU_UTILIZATION, InstanceMetric.GPU_UTILIZATION, InstanceMetric.GPU_MEMORY_UTILIZATION}
)
INSTANCE_METRICS = frozenset(
    {
        InstanceMetric.CPU_UTILIZATION, InstanceMetric.MEMORY_UTILIZATION, InstanceMetric.GPU_UTILIZATION,
        InstanceMetric.GPU_MEMORY_UTILIZATION, InstanceMetric.DISK_UTILIZATION,
    }
)


# Dimension of inference-component metrics in AWS/SageMaker and /aws/sagemaker/InferenceComponents.
INFERENCE_COMPONENT_DIMENSION = "InferenceComponentName"


def component_metric(
    component_name: str,
    metric_name: str,
    *,
    namespace: str = INVOCATION_NAMESPACE,
    statistic: str = cw.Stats.SUM,
    period: Duration = DEFAULT_PERIOD,
    label: str | None = None,
) -> cw.Metric:
    """A metric of one inference component, known by name (created here or elsewhere)."""
    return cw.Metric(
        namespace=namespace, metric_name=metric_name, dimensions_map={INFERENCE_COMPONENT_DIMENSION: component_name},
        statistic=statistic, period=period, label=label,
    )


class ComponentMetric:
    """Metric names of inference components in ``AWS/SageMaker`` (dimension InferenceComponentName)."""

    INVOCATIONS = "Invocations"
    INVOCATIONS_PER_COPY = "InvocationsPerCopy"
    MODEL_LATENCY = "ModelLatency"
    OVERHEAD_LATENCY = "OverheadLatency"
    INVOCATION_4XX_ERRORS = "Invocation4XXErrors"
    INVOCATION_5XX_ERRORS = "Invocation5XXErrors"
    INVOCATION_MODEL_ERRORS = "InvocationModelErrors"
    MODEL_SETUP_TIME = "ModelSetupTime"
    CONCURRENT_REQUESTS_PER_COPY = "ConcurrentRequestsPerCopy"
    NO_CAPACITY_INVOCATION_FAILURES = "NoCapacityInvocationFailures"


class ComponentInstanceMetric:
    """Names in ``/aws/sagemaker/InferenceComponents`` (dimension InferenceComponentName), percent of
    the resources reserved for the component."""

    CPU_UTILIZATION_NORMALIZED = "CPUUtilizationNormalized"
    MEMORY_UTILIZATION_NORMALIZED = "MemoryUtilizationNormalized"
    GPU_UTILIZATION_NORMALIZED = "GPUUtilizationNormalized"
    GPU_MEMORY_UTILIZATION_NORMALIZED = "GPUMemoryUtilizationNormalized"


class ScalingMetric:
    """Application Auto Scaling predefined metric types (botocore enum ``MetricType``) for SageMaker."""

    VARIANT_INVOCATIONS_PER_INSTANCE = "SageMakerVariantInvocationsPerInstance"
    VARIANT_CONCURRENT_REQUESTS_PER_MODEL_HIGH_RESOLUTION = "SageMakerVariantConcurrentRequestsPerModelHighResolution"
    VARIANT_PROVISIONED_CONCURRENCY_UTILIZATION = "SageMakerVariantProvisionedConcurrencyUtilization"
    COMPONENT_INVOCATIONS_PER_COPY = "SageMakerInferenceComponentInvocationsPerCopy"
    COMPONENT_CONCURRENT_REQUESTS_PER_COPY_HIGH_RESOLUTION = (
        "SageMakerInferenceComponentConcurrentRequestsPerCopyHighResolution"
    )


class ScalableDimension:
    """Application Auto Scaling scalable dimensions of SageMaker (botocore enum ``ScalableDimension``)."""

    VARIANT_INSTANCE_COUNT = "sagemaker:variant:DesiredInstanceCount"
    VARIANT_PROVISIONED_CONCURRENCY = "sagemaker:variant:DesiredProvisionedConcurrency"
    COMPONENT_COPY_COUNT = "sagemaker:inference-component:DesiredCopyCount"


class Statistic:
    SUM = cw.Stats.SUM
    AVERAGE = cw.Stats.AVERAGE
    MAXIMUM = cw.Stats.MAXIMUM
    MINIMUM = cw.Stats.MINIMUM
    P50 = cw.Stats.percentile(50)
    P90 = cw.Stats.percentile(90)
    P99 = cw.Stats.percentile(99)
