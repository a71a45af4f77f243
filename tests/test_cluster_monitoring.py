"""Cluster monitoring from the lifecycle scripts' node collector, on the default platform's cluster
(``training_clusters[0].monitoring: {idle_gpu_floor_percent: 10, dcgm: true}``): exact namespaces,
dimensions and statistics of the idle GPU-hours, GPU health, Slurm, EFA and FSx widgets and alarms,
the node-to-instance-group events, and the files the cluster's lifecycle asset carries.

Every metric here is one the collector publishes (``tests/training/test_node_collector.py`` pins the
collector's side of the same vocabulary, ``constructs_lib.training.collector``).
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import resources_of
from tests.test_observability import (
    alarm_metric_stats,
    body_of,
    by_name,
    dashboards,
    metric_rows,
    single_metric,
    widget,
)

CLUSTER = "acme-ml-dev-llm-pretrain"
NS = "AIPlatform/HyperPod"
WORKERS = {"ClusterName": CLUSTER, "InstanceGroup": "workers"}
GROUP_DIMS = [{"Name": "ClusterName", "Value": CLUSTER}, {"Name": "InstanceGroup", "Value": "workers"}]


@pytest.fixture(scope="module")
def body(default_platform):
    return body_of(dashboards(default_platform["observability"])[f"{CLUSTER}-cluster"])


def _metrics(w):
    return [(r["namespace"], r["name"], r["dims"], r["stat"], r["period"]) for r in metric_rows(w) if "namespace" in r]


def test_idle_gpu_hours_widget_and_alarm_per_gpu_instance_group(default_platform, body):
    """Only the GPU group (workers, ml.g5.2xlarge) has idle GPU-hours; the controller (ml.m5.xlarge) has none.
    One collector sample a minute: the hourly Sum of IdleGpus / 60 is idle GPU-hours."""
    w = widget(body, "Idle GPU-hours per hour (GPUs < 10 %)")
    rows = metric_rows(w)
    assert [r["expression"] for r in rows if "expression" in r] == ["idle_workers / 60", "gpus_workers / 60"]
    assert _metrics(w) == [(NS, "IdleGpus", WORKERS, "Sum", 3600), (NS, "GpuCount", WORKERS, "Sum", 3600)]
    alarm = by_name(default_platform["observability"], f"{CLUSTER}-idle-gpu-hours-workers-warning")
    stats = alarm_metric_stats(alarm)
    assert stats["expr_1"]["Expression"] == "idle_workers / 60"
    assert stats["idle_workers"]["MetricStat"] == {
        "Metric": {"Namespace": NS, "MetricName": "IdleGpus", "Dimensions": GROUP_DIMS}, "Period": 3600, "Stat": "Sum"}
    assert (alarm["Threshold"], alarm["ComparisonOperator"], alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"],
            alarm["TreatMissingData"]) == (1, "GreaterThanOrEqualToThreshold", 1, 1, "notBreaching")
    assert "below 10 % utilization" in alarm["AlarmDescription"] and "Look first at: squeue" in alarm["AlarmDescription"]
    assert alarm["AlarmActions"][0]["Ref"].startswith("AlarmTopicsWarning")
    share = widget(body, "Idle GPUs (% of GPUs < 10 %)")
    assert metric_rows(share)[0]["expression"] == "IF(gpus_0 > 0, 100 * idle_0 / gpus_0, 0)"
    assert _metrics(share) == [(NS, "IdleGpus", WORKERS, "Sum", 300), (NS, "GpuCount", WORKERS, "Sum", 300)]


def test_gpu_health_widgets_read_the_dcgm_metrics_with_their_statistics(body):
    assert _metrics(widget(body, "GPU health: last XID error code (DCGM, max)")) == [
        (NS, "GpuLastXid", WORKERS, "Maximum", 300)]
    assert _metrics(widget(body, "GPU health: new ECC errors (DCGM)")) == [
        (NS, "GpuEccDbeErrors", WORKERS, "Sum", 300), (NS, "GpuEccSbeErrors", WORKERS, "Sum", 300)]
    assert _metrics(widget(body, "GPU health: throttled GPUs (DCGM clocks event reasons, max per node)")) == [
        (NS, "GpusThermalThrottled", WORKERS, "Maximum", 300), (NS, "GpusPowerThrottled", WORKERS, "Maximum", 300)]
    assert _metrics(widget(body, "GPU health: new NVLink errors (DCGM)")) == [(NS, "GpuNvlinkErrors", WORKERS, "Sum", 300)]


def test_gpu_health_alarms(default_platform):
    t = default_platform["observability"]
    xid = by_name(t, f"{CLUSTER}-gpu-xid-workers-warning")
    assert single_metric(xid) == (NS, "GpuLastXid", GROUP_DIMS, "Maximum", 300)
    assert (xid["Threshold"], xid["ComparisonOperator"]) == (0, "GreaterThanThreshold")
    dbe = by_name(t, f"{CLUSTER}-gpu-ecc-dbe-workers-critical")
    assert single_metric(dbe) == (NS, "GpuEccDbeErrors", GROUP_DIMS, "Sum", 300)
    assert (dbe["Threshold"], dbe["EvaluationPeriods"], dbe["DatapointsToAlarm"]) == (1, 1, 1)
    nvlink = by_name(t, f"{CLUSTER}-nvlink-errors-workers-warning")
    assert single_metric(nvlink) == (NS, "GpuNvlinkErrors", GROUP_DIMS, "Sum", 300)
    assert (nvlink["EvaluationPeriods"], nvlink["DatapointsToAlarm"]) == (3, 2)
    # The critical one joins the cluster's unhealthy rollup.
    unhealthy = json.dumps(by_name(t, f"{CLUSTER}-unhealthy-critical")["AlarmRule"])
    dbe_id = next(k for k, a in resources_of(t, "AWS::CloudWatch::Alarm").items()
                  if a["Properties"].get("AlarmName") == f"{CLUSTER}-gpu-ecc-dbe-workers-critical")
    assert dbe_id in unhealthy


def test_slurm_queue_and_efa_widgets(body):
    assert _metrics(widget(body, "Slurm queue (jobs, squeue)")) == [
        (NS, name, {"ClusterName": CLUSTER}, "Maximum", 300)
        for name in ("SlurmJobsRunning", "SlurmJobsPending", "SlurmQueueDepth")]
    efa = _metrics(widget(body, "EFA errors (new per 5 minutes)"))
    assert efa == [(NS, name, WORKERS, "Sum", 300) for name in (
        "EfaRxDrops", "EfaRetransPkts", "EfaRetransTimeoutEvents", "EfaImpairedRemoteConnEvents",
        "EfaUnresponsiveRemoteEvents", "EfaRdmaReadWrErr", "EfaRdmaWriteWrErr")]


def test_fsx_throughput_against_the_provisioned_throughput(body):
    """1200 GiB ("1.2 TiB" in the FSx for Lustre guide) x 125 MB/s/TiB = 150 MB/s provisioned."""
    w = widget(body, "FSx for Lustre throughput vs provisioned 150 MB/s")
    assert w["properties"]["annotations"]["horizontal"][0]["value"] == 150
    rows = metric_rows(w)
    expressions = [r["expression"] for r in rows if "expression" in r]
    assert expressions == ["(readbytes + writebytes) / PERIOD(readbytes) / 1000000",
                           "100 * ((readbytes + writebytes) / PERIOD(readbytes) / 1000000) / 150"]
    assert {(r["namespace"], r["name"], r["stat"], r["period"]) for r in rows if "namespace" in r} == {
        ("AWS/FSx", "DataReadBytes", "Sum", 60), ("AWS/FSx", "DataWriteBytes", "Sum", 60)}


def test_node_health_events_are_linked_to_node_and_instance_group(default_platform, body):
    """Health events name the instance; HyperPod cluster events name instance and group (shared sample
    events hyperpod-node-health-replace.json, hyperpod-cluster-event-error.json): both go to one log group."""
    t = default_platform["observability"]
    rules = {r["Properties"]["EventPattern"]["detail-type"][0]: r["Properties"]
             for r in resources_of(t, "AWS::Events::Rule").values()
             if CLUSTER in json.dumps(r["Properties"].get("EventPattern"))}  # schedules have none
    assert rules["SageMaker HyperPod Cluster Event"]["EventPattern"] == {
        "source": ["aws.sagemaker"], "detail-type": ["SageMaker HyperPod Cluster Event"],
        "detail": {"EventDetails": {"ClusterName": [CLUSTER], "InstanceId": [{"exists": True}]}},
    }
    targets = [r["Targets"][0]["Arn"] for r in rules.values()]
    assert targets[0] == targets[1]  # the same log group
    (policy,) = [p for p in resources_of(t, "AWS::Logs::ResourcePolicy").values()
                 if "EventBridgeWritesNodeHealthEvents" in json.dumps(p)]
    rule_ids = sorted(k for k, r in resources_of(t, "AWS::Events::Rule").items()
                      if CLUSTER in json.dumps(r["Properties"].get("EventPattern")))
    parts = policy["Properties"]["PolicyDocument"]["Fn::Join"][1]
    condition = parts[parts.index(':*\",\"Condition\":{\"ArnEquals\":{\"aws:SourceArn\":[\"') + 1:-1]
    # Exactly the two rules may write: [health rule ARN, cluster-event rule ARN].
    assert sorted(p["Fn::GetAtt"][0] for p in condition if isinstance(p, dict)) == rule_ids
    events = widget(body, "Latest unhealthy-node events (with each node's cluster events)")["properties"]["query"]
    assert "coalesce(detail.InstanceId, detail.EventDetails.InstanceId) as instance_id" in events
    assert "detail.EventDetails.InstanceGroupName as instance_group" in events
    nodes = widget(body, "Nodes by instance group (HyperPod cluster events: instance -> group)")["properties"]["query"]
    assert ("stats count(*) as events, max(@timestamp) as last_event by detail.EventDetails.InstanceGroupName "
            "as instance_group, detail.EventDetails.InstanceId as instance_id") in nodes


def test_the_lifecycle_asset_carries_the_collector_and_its_config(default_platform):
    from constructs_lib.training.collector import NodeMonitoring, collector_config

    configs = list(default_platform.outdir.glob("asset.*/node_collector.json"))
    assert len(configs) == 1
    assert json.loads(configs[0].read_text()) == collector_config(
        cluster_name=CLUSTER, monitoring=NodeMonitoring(idle_gpu_floor_percent=10, dcgm=True))
    assert (configs[0].parent / "node_collector.py").is_file()
    assert (configs[0].parent / "install_node_collector.sh").is_file()


# -- validation (no synth) -------------------------------------------------------------------------------
# A small config (one Slurm cluster) keeps each parse cheap; the default platform's cluster is above.
_MINIMAL = {
    "platform": {"name": "acme-ml", "environment": "dev"},
    "network": {"max_azs": 2},
    "training_clusters": [{"name": "llm-pretrain", "instance_groups": [
        {"name": "controller", "role": "controller", "instance_type": "ml.m5.xlarge", "count": 1},
        {"name": "workers", "instance_type": "ml.g5.2xlarge", "count": 2},
    ]}],
}


def _cluster_config(**monitoring):
    import copy

    from stacks.config import parse_config

    data = copy.deepcopy(_MINIMAL)
    data["training_clusters"][0]["monitoring"] = monitoring
    return lambda: parse_config(data, source="bad.yaml")


@pytest.mark.parametrize(("monitoring", "message"), [
    ({"idle_gpu_floor_percent": 0}, r"training_clusters\[0\]\.monitoring\.idle_gpu_floor_percent: got 0(\.0)?; a percentage in \(0, 100\]"),
    ({"idle_gpu_floor_percent": 150}, r"training_clusters\[0\]\.monitoring\.idle_gpu_floor_percent: got 150\.0?; a percentage"),
    ({"idle_gpu_hours_per_hour": -1}, r"training_clusters\[0\]\.monitoring\.idle_gpu_hours_per_hour: got -1\.0?; > 0 GPU-hours, or null"),
    ({"dcgm": "yes please"}, r"training_clusters\[0\]\.monitoring\.dcgm: got 'yes please'"),
    ({"idle_floor": 5}, r"training_clusters\[0\]\.monitoring\.idle_floor: got 5; unknown key; did you mean 'idle_gpu_floor_percent'"),
])
def test_bad_cluster_monitoring_config_is_refused_with_its_path(monitoring, message):
    from constructs_lib.errors import PlatformValidationError

    with pytest.raises(PlatformValidationError, match=message):
        _cluster_config(**monitoring)()


def test_monitoring_config_becomes_the_clusters_node_monitoring():
    from constructs_lib.training.collector import NodeMonitoring

    (cluster,) = _cluster_config(idle_gpu_floor_percent=25, dcgm=True)().training_clusters
    assert cluster.to_spec(cluster_name="c")["node_monitoring"] == NodeMonitoring(idle_gpu_floor_percent=25, dcgm=True)
    assert cluster.model_copy(update={"monitoring": None}).to_spec(cluster_name="c")["node_monitoring"] is None


def test_node_health_needs_a_metrics_source_with_the_collector_helpers(tmp_path):
    from aws_cdk import Stack

    from constructs_lib import PlatformValidationError
    from constructs_lib.observability import ClusterMonitoring, NodeHealthMonitoring
    from tests.conftest import new_app
    from tests.test_observability import _AgentMetrics

    stack = Stack(new_app(tmp_path), "S")
    with pytest.raises(PlatformValidationError, match=r"metrics: got '_AgentMetrics'; with node_health, an object with "
                                                      r"metric_collector\(\), metric_idle_gpu_hours\(\), metric_gpu_hours\(\)"):
        ClusterMonitoring(stack, "C", cluster_name="llm-pretrain", metrics=_AgentMetrics(),
                          node_health=NodeHealthMonitoring(gpu_instance_groups=("workers",), idle_gpu_floor_percent=10))
    with pytest.raises(PlatformValidationError, match=r"node_health\.idle_gpu_hours_per_hour: got 0; > 0 GPU-hours"):
        ClusterMonitoring(stack, "D", cluster_name="llm-pretrain", metrics=_AgentMetrics(),
                          node_health=NodeHealthMonitoring(gpu_instance_groups=(), idle_gpu_floor_percent=10,
                                                           idle_gpu_hours_per_hour=0))


def test_cluster_collector_metrics_need_an_instance_group_and_gpu_groups_are_the_g_and_p_families(default_platform):
    from constructs_lib import PlatformValidationError
    from constructs_lib.training.collector import CollectorMetric

    cluster = default_platform.platform.training.clusters["llm-pretrain"]
    assert cluster.gpu_instance_groups == ("workers",)  # ml.g5.2xlarge; the ml.m5.xlarge controller has no GPU
    with pytest.raises(PlatformValidationError, match=r"metric_collector\.instance_group: got None; an instance group for IdleGpus"):
        cluster.metric_collector(CollectorMetric.IDLE_GPUS)
    with pytest.raises(PlatformValidationError, match=r"metric\.instance_group: got 'nope'; one of controller, workers"):
        cluster.metric_collector(CollectorMetric.IDLE_GPUS, instance_group="nope")
    assert cluster.metric_collector(CollectorMetric.SLURM_JOBS_PENDING).dimensions == {"ClusterName": CLUSTER}
