"""Node metrics of HyperPod clusters: one vocabulary for the CloudWatch agent config and the construct.

The lifecycle scripts install the CloudWatch agent with the configuration rendered by
:func:`cloudwatch_agent_config`; ``HyperPodCluster.metric_*`` helpers read the very same metrics.
Both are built from the constants below, so a renamed metric cannot drift between the node and the
dashboards and alarms.

The agent publishes ``nvidia_gpu`` measurements as ``nvidia_smi_<measurement>`` (CloudWatch agent
user guide, "Collect NVIDIA GPU metrics"). Every section appends the ``ClusterName`` and
``InstanceGroup`` dimensions and the agent aggregates over them, so each metric exists per cluster
and per instance group (plus the agent's per-GPU series).
"""

from __future__ import annotations

import copy
from enum import Enum
from typing import Any

NAMESPACE = "AIPlatform/HyperPod"
NVIDIA_SMI_PREFIX = "nvidia_smi_"
# Filled by the node's lifecycle script (it knows its instance group only at provisioning time).
INSTANCE_GROUP_PLACEHOLDER = "__INSTANCE_GROUP__"
COLLECTION_INTERVAL_S = 60


class Dimension:
    CLUSTER_NAME = "ClusterName"
    INSTANCE_GROUP = "InstanceGroup"


class GpuMeasurement(str, Enum):
    """``nvidia_gpu`` measurements the agent collects (names as the agent config spells them)."""

    UTILIZATION_GPU = "utilization_gpu"
    UTILIZATION_MEMORY = "utilization_memory"
    MEMORY_USED = "memory_used"
    MEMORY_TOTAL = "memory_total"
    TEMPERATURE_GPU = "temperature_gpu"
    POWER_DRAW = "power_draw"

    @property
    def metric_name(self) -> str:
        return NVIDIA_SMI_PREFIX + self.value


class HostMeasurement(Enum):
    """Host measurements as ``(agent section, measurement)``; the metric is ``<section>_<measurement>``."""

    MEM_USED_PERCENT = ("mem", "used_percent")
    DISK_USED_PERCENT = ("disk", "used_percent")

    @property
    def section(self) -> str:
        return self.value[0]

    @property
    def measurement(self) -> str:
        return self.value[1]

    @property
    def metric_name(self) -> str:
        return f"{self.section}_{self.measurement}"


class MetricName:
    """CloudWatch metric names in :data:`NAMESPACE`."""

    GPU_UTILIZATION = GpuMeasurement.UTILIZATION_GPU.metric_name
    GPU_MEMORY_UTILIZATION = GpuMeasurement.UTILIZATION_MEMORY.metric_name
    GPU_MEMORY_USED = GpuMeasurement.MEMORY_USED.metric_name
    GPU_MEMORY_TOTAL = GpuMeasurement.MEMORY_TOTAL.metric_name
    GPU_TEMPERATURE = GpuMeasurement.TEMPERATURE_GPU.metric_name
    GPU_POWER_DRAW = GpuMeasurement.POWER_DRAW.metric_name
    MEMORY_UTILIZATION = HostMeasurement.MEM_USED_PERCENT.metric_name
    DISK_UTILIZATION = HostMeasurement.DISK_USED_PERCENT.metric_name


# Units as the agent reports them (used for metric labels; CloudWatch keeps the unit of the datapoints).
METRIC_UNITS = {
    MetricName.GPU_UTILIZATION: "Percent",
    MetricName.GPU_MEMORY_UTILIZATION: "Percent",
    MetricName.GPU_MEMORY_USED: "Megabytes",
    MetricName.GPU_MEMORY_TOTAL: "Megabytes",
    MetricName.GPU_TEMPERATURE: "None",  # degrees Celsius
    MetricName.GPU_POWER_DRAW: "None",  # watts
    MetricName.MEMORY_UTILIZATION: "Percent",
    MetricName.DISK_UTILIZATION: "Percent",
}


def cloudwatch_agent_config(*, cluster_name: str, disk_paths: tuple[str, ...] = ("/",)) -> dict[str, Any]:
    """CloudWatch agent configuration for one cluster's nodes.

    ``InstanceGroup`` holds :data:`INSTANCE_GROUP_PLACEHOLDER`; the node's lifecycle script replaces
    it with its own instance group before starting the agent.
    """
    dims = {Dimension.CLUSTER_NAME: cluster_name, Dimension.INSTANCE_GROUP: INSTANCE_GROUP_PLACEHOLDER}
    return {
        "agent": {
            "metrics_collection_interval": COLLECTION_INTERVAL_S,
            "run_as_user": "root",
            "omit_hostname": True,
        },
        "metrics": {
            "namespace": NAMESPACE,
            "aggregation_dimensions": [
                [Dimension.CLUSTER_NAME],
                [Dimension.CLUSTER_NAME, Dimension.INSTANCE_GROUP],
            ],
            "metrics_collected": {
                "nvidia_gpu": {
                    "measurement": [m.value for m in GpuMeasurement],
                    "metrics_collection_interval": COLLECTION_INTERVAL_S,
                    "append_dimensions": copy.deepcopy(dims),
                },
                HostMeasurement.MEM_USED_PERCENT.section: {
                    "measurement": [HostMeasurement.MEM_USED_PERCENT.measurement],
                    "append_dimensions": copy.deepcopy(dims),
                },
                HostMeasurement.DISK_USED_PERCENT.section: {
                    "measurement": [HostMeasurement.DISK_USED_PERCENT.measurement],
                    "resources": list(disk_paths),
                    "append_dimensions": copy.deepcopy(dims),
                },
            },
        },
    }
