"""SageMaker endpoint metric vocabulary: namespaces, names, default statistics, defined once.

Source: "Monitor Amazon SageMaker with Amazon CloudWatch" (SageMaker developer guide) and
REFERENCE.md. Latencies are in microseconds; utilizations are percent summed over cores/devices.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw

INVOCATION_NAMESPACE = "AWS/SageMaker"
INSTANCE_NAMESPACE = "/aws/sagemaker/Endpoints"
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
    # Asynchronous endpoints (dimension EndpointName only)
    APPROXIMATE_BACKLOG_SIZE = "ApproximateBacklogSize"
    APPROXIMATE_BACKLOG_SIZE_PER_INSTANCE = "ApproximateBacklogSizePerInstance"
    HAS_BACKLOG_WITHOUT_CAPACITY = "HasBacklogWithoutCapacity"


class InstanceMetric:
    """Metric names in ``/aws/sagemaker/Endpoints`` (dimensions EndpointName, VariantName)."""

    CPU_UTILIZATION = "CPUUtilization"
    MEMORY_UTILIZATION = "MemoryUtilization"
    GPU_UTILIZATION = "GPUUtilization"
    GPU_MEMORY_UTILIZATION = "GPUMemoryUtilization"
    DISK_UTILIZATION = "DiskUtilization"


class Statistic:
    SUM = cw.Stats.SUM
    AVERAGE = cw.Stats.AVERAGE
    MAXIMUM = cw.Stats.MAXIMUM
    MINIMUM = cw.Stats.MINIMUM
    P50 = cw.Stats.percentile(50)
    P90 = cw.Stats.percentile(90)
    P99 = cw.Stats.percentile(99)
