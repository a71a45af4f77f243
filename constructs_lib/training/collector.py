"""Cluster health metrics published by the lifecycle scripts' node collector: one vocabulary for the node and the dashboards.

``node_collector.py`` (shipped with the lifecycle scripts, run every minute by a systemd timer) reads
the JSON rendered by :func:`collector_config` and publishes with ``aws cloudwatch put-metric-data``
into :data:`~constructs_lib.training.metrics.NAMESPACE`, dimensions ``ClusterName`` and
``InstanceGroup`` (Slurm metrics: ``ClusterName`` only). ``HyperPodCluster.metric_*`` helpers and
``ClusterMonitoring`` read the very same names, so a renamed metric cannot drift between the node and
the dashboards and alarms. Every metric carries its source:

* **idle GPUs** -- ``nvidia-smi --query-gpu=utilization.gpu`` (``utilization.gpu``: percent of the
  last sample period a kernel ran, nvidia-smi manual); a GPU below ``idle_gpu_floor_percent`` is idle.
  One sample per node per minute, so the ``Sum`` of :attr:`CollectorMetric.IDLE_GPUS` over a period,
  divided by the samples per hour, is the idle GPU-hours of the period.
* **GPU health (DCGM)** -- ``dcgmi dmon -e <field ids> -c 1`` with the field ids of NVIDIA's
  ``dcgm_fields.h`` (:data:`DCGM_FIELDS`); the same fields the AWS reference observability set-up
  (awsome-distributed-training, ``base-config/observability/dcgm_metrics_config/dcgm-metrics-advanced.csv``)
  exports through dcgm-exporter. Counters (ECC, NVLink) are published as the increase since the
  previous sample, as the CloudWatch agent does for Prometheus counters ("Prometheus metric type
  conversion by the CloudWatch agent").
* **Slurm** -- ``squeue --noheader --format=%T`` on the controller node (Slurm ``squeue`` manual:
  job state codes, ``PENDING``, ``RUNNING``...).
* **EFA** -- the EFA driver's counters in ``/sys/class/infiniband/<device>/ports/<port>/hw_counters``
  (the names the AWS EFA node exporter reads: awsome-distributed-training
  ``4.validation_and_observability/3.efa-node-exporter/class_amazon_efa.go``), increase since the
  previous sample, summed over devices and ports.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from .metrics import COLLECTION_INTERVAL_S, NAMESPACE, Dimension

COLLECTOR_VERSION = "1.0.0"
SAMPLES_PER_HOUR = 3600 // COLLECTION_INTERVAL_S
DEFAULT_IDLE_GPU_FLOOR_PERCENT = 10.0


class CollectorMetric(str, Enum):
    """Metric names the node collector publishes in ``AIPlatform/HyperPod``."""

    GPU_COUNT = "GpuCount"  # GPUs nvidia-smi lists on the node (Sum over nodes = GPUs reporting)
    IDLE_GPUS = "IdleGpus"  # GPUs below the floor in this sample
    GPU_LAST_XID = "GpuLastXid"  # DCGM_FI_DEV_XID_ERRORS: the last XID code of any GPU (0 = none)
    GPU_ECC_DBE_ERRORS = "GpuEccDbeErrors"  # new double-bit (uncorrectable) volatile ECC errors
    GPU_ECC_SBE_ERRORS = "GpuEccSbeErrors"  # new single-bit (corrected) volatile ECC errors
    GPUS_THERMAL_THROTTLED = "GpusThermalThrottled"  # GPUs whose clocks are held down by a thermal reason
    GPUS_POWER_THROTTLED = "GpusPowerThrottled"  # ... by a power reason (cap, brake)
    GPU_NVLINK_ERRORS = "GpuNvlinkErrors"  # new NVLink CRC (flit + data), replay and recovery errors
    SLURM_JOBS_RUNNING = "SlurmJobsRunning"
    SLURM_JOBS_PENDING = "SlurmJobsPending"
    SLURM_QUEUE_DEPTH = "SlurmQueueDepth"  # every job squeue lists (any state)

    @property
    def unit(self) -> str:
        return "Count"


# NVIDIA DCGM field ids (dcgm_fields.h). ``kind``: gauge (published as read, maximum over GPUs),
# counter (increase since the previous sample, summed over GPUs) or bitmask (GPUs with a reason set).
@dataclass(frozen=True)
class DcgmField:
    field_id: int
    name: str
    kind: str
    metric: CollectorMetric


DCGM_FIELDS: tuple[DcgmField, ...] = (
    DcgmField(230, "DCGM_FI_DEV_XID_ERRORS", "gauge", CollectorMetric.GPU_LAST_XID),
    DcgmField(311, "DCGM_FI_DEV_ECC_DBE_VOL_TOTAL", "counter", CollectorMetric.GPU_ECC_DBE_ERRORS),
    DcgmField(310, "DCGM_FI_DEV_ECC_SBE_VOL_TOTAL", "counter", CollectorMetric.GPU_ECC_SBE_ERRORS),
    # DCGM_FI_DEV_CLOCK_THROTTLE_REASONS, renamed DCGM_FI_DEV_CLOCKS_EVENT_REASONS in DCGM 3.3 (same id).
    DcgmField(112, "DCGM_FI_DEV_CLOCKS_EVENT_REASONS", "bitmask", CollectorMetric.GPUS_THERMAL_THROTTLED),
    DcgmField(409, "DCGM_FI_DEV_NVLINK_CRC_FLIT_ERROR_COUNT_TOTAL", "counter", CollectorMetric.GPU_NVLINK_ERRORS),
    DcgmField(419, "DCGM_FI_DEV_NVLINK_CRC_DATA_ERROR_COUNT_TOTAL", "counter", CollectorMetric.GPU_NVLINK_ERRORS),
    DcgmField(429, "DCGM_FI_DEV_NVLINK_REPLAY_ERROR_COUNT_TOTAL", "counter", CollectorMetric.GPU_NVLINK_ERRORS),
    DcgmField(439, "DCGM_FI_DEV_NVLINK_RECOVERY_ERROR_COUNT_TOTAL", "counter", CollectorMetric.GPU_NVLINK_ERRORS),
)

# DCGM_CLOCKS_EVENT_REASON_* bits (dcgm_fields.h, 1:1 with NVML's clocks event reasons).
THERMAL_REASON_BITS = {"SW_THERMAL": 0x20, "HW_THERMAL": 0x40}
POWER_REASON_BITS = {"SW_POWER_CAP": 0x04, "HW_POWER_BRAKE": 0x80}


class EfaCounter(str, Enum):
    """EFA error counters (``hw_counters`` file names); metric ``Efa<CamelCase>``, increase per sample."""

    RX_DROPS = "rx_drops"
    RETRANS_PKTS = "retrans_pkts"
    RETRANS_TIMEOUT_EVENTS = "retrans_timeout_events"
    IMPAIRED_REMOTE_CONN_EVENTS = "impaired_remote_conn_events"
    UNRESPONSIVE_REMOTE_EVENTS = "unresponsive_remote_events"
    RDMA_READ_WR_ERR = "rdma_read_wr_err"
    RDMA_WRITE_WR_ERR = "rdma_write_wr_err"

    @property
    def metric_name(self) -> str:
        return "Efa" + "".join(part.capitalize() for part in self.value.split("_"))


SLURM_STATES = {"RUNNING": CollectorMetric.SLURM_JOBS_RUNNING, "PENDING": CollectorMetric.SLURM_JOBS_PENDING}


@dataclass(frozen=True, kw_only=True)
class NodeMonitoring:
    """What the node collector of a cluster publishes.

    :param idle_gpu_floor_percent: a GPU whose utilization is below this is idle; default 10.
    :param dcgm: GPU health from DCGM (``dcgmi``, on the HyperPod DLAMI); default off (idle GPUs,
        Slurm and EFA only).
    """

    idle_gpu_floor_percent: float = DEFAULT_IDLE_GPU_FLOOR_PERCENT
    dcgm: bool = False


def check_node_monitoring(problems: Any, where: str, monitoring: NodeMonitoring) -> None:
    """The rule on :class:`NodeMonitoring` (run by ``HyperPodCluster`` and the config)."""
    floor = monitoring.idle_gpu_floor_percent
    problems.check(
        isinstance(floor, (int, float)) and not isinstance(floor, bool) and 0 < floor <= 100,
        f"{where}.idle_gpu_floor_percent", floor, "a percentage in (0, 100]",
    )


def collector_config(*, cluster_name: str, monitoring: NodeMonitoring) -> dict[str, Any]:
    """The node collector's configuration (``node_collector.json`` beside the scripts)."""
    return {
        "version": COLLECTOR_VERSION,
        "namespace": NAMESPACE,
        "cluster_name": cluster_name,
        "interval_seconds": COLLECTION_INTERVAL_S,
        "dimensions": {"cluster": Dimension.CLUSTER_NAME, "instance_group": Dimension.INSTANCE_GROUP},
        "idle_gpu_floor_percent": float(monitoring.idle_gpu_floor_percent),
        "metrics": {m.name.lower(): m.value for m in CollectorMetric},
        "dcgm": {
            "enabled": bool(monitoring.dcgm),
            "fields": [
                {"id": f.field_id, "name": f.name, "kind": f.kind, "metric": f.metric.value} for f in DCGM_FIELDS
            ],
            "thermal_bits": sum(THERMAL_REASON_BITS.values()),
            "power_bits": sum(POWER_REASON_BITS.values()),
            "power_metric": CollectorMetric.GPUS_POWER_THROTTLED.value,
        },
        "slurm_states": {state: metric.value for state, metric in SLURM_STATES.items()},
        "efa_counters": {c.value: c.metric_name for c in EfaCounter},
    }


# -- Prometheus path (observability.prometheus) -------------------------------------------------------
# dcgm-exporter's metrics file (``<field name>, <prometheus type>, <help>``), as in AWS's reference set-up
# (awsome-distributed-training base-config/observability: dcgm-exporter container of
# 602401143452.dkr.ecr.<region>.amazonaws.com/hyperpod/dcgm_exporter, scraped by an OpenTelemetry
# collector that remote-writes with SigV4). The health fields are those of :data:`DCGM_FIELDS`; the
# throttling bitmask is left to the CloudWatch path (the exporter's name for field 112 changed with
# DCGM 3.3) and power/thermal violation time (fields 240, 241, as in AWS's CSV) stands for it.
DCGM_EXPORTER_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("DCGM_FI_DEV_GPU_UTIL", "gauge", "GPU utilization (in %)."),
    ("DCGM_FI_DEV_FB_USED", "gauge", "Framebuffer memory used (in MiB)."),
    ("DCGM_FI_DEV_GPU_TEMP", "gauge", "GPU temperature (in C)."),
    ("DCGM_FI_DEV_POWER_USAGE", "gauge", "Power draw (in W)."),
    ("DCGM_FI_DEV_XID_ERRORS", "gauge", "Value of the last XID error encountered."),
    ("DCGM_FI_DEV_ECC_DBE_VOL_TOTAL", "counter", "Total number of double-bit volatile ECC errors."),
    ("DCGM_FI_DEV_ECC_SBE_VOL_TOTAL", "counter", "Total number of single-bit volatile ECC errors."),
    ("DCGM_FI_DEV_POWER_VIOLATION", "counter", "Throttling duration due to power constraints."),
    ("DCGM_FI_DEV_THERMAL_VIOLATION", "counter", "Throttling duration due to thermal constraints."),
    ("DCGM_FI_DEV_NVLINK_CRC_FLIT_ERROR_COUNT_TOTAL", "counter", "Total number of NVLink flow-control CRC errors."),
    ("DCGM_FI_DEV_NVLINK_CRC_DATA_ERROR_COUNT_TOTAL", "counter", "Total number of NVLink data CRC errors."),
    ("DCGM_FI_DEV_NVLINK_REPLAY_ERROR_COUNT_TOTAL", "counter", "Total number of NVLink retries."),
    ("DCGM_FI_DEV_NVLINK_RECOVERY_ERROR_COUNT_TOTAL", "counter", "Total number of NVLink recovery errors."),
)
DCGM_EXPORTER_CSV = "dcgm_exporter_metrics.csv"
DCGM_EXPORTER_PORT = 9400  # dcgm-exporter's default listen address :9400


def dcgm_exporter_csv() -> str:
    return "".join(f"{name}, {kind}, {help_}\n" for name, kind, help_ in DCGM_EXPORTER_FIELDS)
