"""The lifecycle scripts' node collector (``node_collector.py``) and its installer.

``node_collector.py`` is imported by path (it ships in the asset, not as a package module). Its
configuration is the one the construct library renders (``constructs_lib.training.collector``), so
these tests also pin the names the dashboards read. The installer runs with ``systemctl`` stubbed
and every system path redirected into a temp dir.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from training_testkit import SCRIPTS_DIR

from constructs_lib.training.collector import (
    DCGM_FIELDS,
    CollectorMetric,
    EfaCounter,
    NodeMonitoring,
    collector_config,
)


def _load():
    spec = importlib.util.spec_from_file_location("hyperpod_node_collector", SCRIPTS_DIR / "node_collector.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


nc = _load()
CONFIG = collector_config(cluster_name="acme-ml-dev-llm-pretrain", monitoring=NodeMonitoring(idle_gpu_floor_percent=10, dcgm=True))
IDS = [f.field_id for f in DCGM_FIELDS]
WORKER = {"CLUSTER_NAME": "acme-ml-dev-llm-pretrain", "INSTANCE_GROUP": "workers", "NODE_ROLE": "compute",
          "WORKLOAD_MANAGER": "slurm", "CLUSTER_REGION": "us-east-1"}
CONTROLLER = {**WORKER, "INSTANCE_GROUP": "controller", "NODE_ROLE": "controller"}
GROUP_DIMS = [{"Name": "ClusterName", "Value": "acme-ml-dev-llm-pretrain"}, {"Name": "InstanceGroup", "Value": "workers"}]
# dcgmi dmon -e 230,311,310,112,409,419,429,439 -c 1 (field order as requested; N/A where unsupported)
DMON = """#Entity   XIDER  DBETOT  SBETOT  CLKEVT  NVLFLT  NVLCRC  NVLRPL  NVLRCV
ID
GPU 0     0      0       3       0       10      0       0       0
GPU 1     79     2       5       64      12      1       N/A     0
"""


def test_node_collector_runs_on_the_python_of_older_hyperpod_amis():
    import ast

    ast.parse((SCRIPTS_DIR / "node_collector.py").read_text(), feature_version=(3, 8))


def test_collector_config_names_dcgm_fields_by_their_nvidia_ids():
    """dcgm_fields.h: XID 230, ECC DBE/SBE volatile totals 311/310, clocks event (throttle) reasons 112,
    NVLink CRC flit/data, replay and recovery totals 409/419/429/439."""
    assert {f.name: f.field_id for f in DCGM_FIELDS} == {
        "DCGM_FI_DEV_XID_ERRORS": 230, "DCGM_FI_DEV_ECC_DBE_VOL_TOTAL": 311, "DCGM_FI_DEV_ECC_SBE_VOL_TOTAL": 310,
        "DCGM_FI_DEV_CLOCKS_EVENT_REASONS": 112, "DCGM_FI_DEV_NVLINK_CRC_FLIT_ERROR_COUNT_TOTAL": 409,
        "DCGM_FI_DEV_NVLINK_CRC_DATA_ERROR_COUNT_TOTAL": 419, "DCGM_FI_DEV_NVLINK_REPLAY_ERROR_COUNT_TOTAL": 429,
        "DCGM_FI_DEV_NVLINK_RECOVERY_ERROR_COUNT_TOTAL": 439,
    }
    assert CONFIG["dcgm"]["thermal_bits"] == 0x20 | 0x40 and CONFIG["dcgm"]["power_bits"] == 0x04 | 0x80
    assert CONFIG["namespace"] == "AIPlatform/HyperPod" and CONFIG["interval_seconds"] == 60
    assert CONFIG["efa_counters"]["rx_drops"] == "EfaRxDrops"


def test_parsers():
    assert nc.parse_gpu_utilization("97\n3\n[N/A]\n\n") == [97.0, 3.0]
    assert nc.parse_dcgmi_dmon(DMON, IDS)["1"] == {230: 79.0, 311: 2.0, 310: 5.0, 112: 64.0, 409: 12.0, 419: 1.0,
                                                   429: None, 439: 0.0}
    assert nc.parse_squeue_states("RUNNING\nPENDING\nPENDING\nCOMPLETING\n") == {"RUNNING": 1, "PENDING": 2, "COMPLETING": 1}
    assert nc.increase(None, 5) is None and nc.increase(3, 5) == 2 and nc.increase(9, 4) == 4  # reset counts from 0


def _sysfs(root: Path, device: str, values: dict) -> None:
    counters = root / "class/infiniband" / device / "ports/1/hw_counters"
    counters.mkdir(parents=True, exist_ok=True)
    for name, value in values.items():
        (counters / name).write_text(f"{value}\n")


def _runner(outputs: dict, calls: list):
    def run(args):
        calls.append(list(args))
        for prefix, out in outputs.items():
            if args[0] == prefix:
                if isinstance(out, Exception):
                    raise out
                return out
        raise FileNotFoundError(args[0])
    return run


def _by_name(data):
    return {d["MetricName"]: d for d in data}


def test_a_gpu_worker_publishes_idle_gpus_and_dcgm_health_and_counter_increases(tmp_path):
    _sysfs(tmp_path, "rdmap0s6", {"rx_drops": 4, "retrans_pkts": 10, "rdma_read_wr_err": 0})
    state: dict = {}
    calls: list = []
    run = _runner({"nvidia-smi": "97\n3\n", "dcgmi": DMON}, calls)
    first = _by_name(nc.collect(CONFIG, WORKER, state, run=run, sysfs_root=str(tmp_path)))
    # Gauges and bitmasks at once; counters only from the second sample on.
    assert first["GpuCount"] == {"MetricName": "GpuCount", "Dimensions": GROUP_DIMS, "Value": 2.0, "Unit": "Count"}
    assert first["IdleGpus"]["Value"] == 1.0  # 3 % < 10 % floor
    assert first["GpuLastXid"]["Value"] == 79.0
    assert first["GpusThermalThrottled"]["Value"] == 1.0 and first["GpusPowerThrottled"]["Value"] == 0.0  # 64 = HW_THERMAL
    assert "GpuEccDbeErrors" not in first and "EfaRxDrops" not in first
    assert ["dcgmi", "dmon", "-e", "230,311,310,112,409,419,429,439", "-c", "1"] in calls
    later = DMON.replace("GPU 1     79     2       5", "GPU 1     79     3       9").replace("12      1", "15      1")
    _sysfs(tmp_path, "rdmap0s6", {"rx_drops": 6, "retrans_pkts": 10, "rdma_read_wr_err": 0})
    second = _by_name(nc.collect(CONFIG, WORKER, state, run=_runner({"nvidia-smi": "97\n3\n", "dcgmi": later}, []),
                                 sysfs_root=str(tmp_path)))
    assert (second["GpuEccDbeErrors"]["Value"], second["GpuEccSbeErrors"]["Value"]) == (1.0, 4.0)
    assert second["GpuNvlinkErrors"]["Value"] == 3.0
    assert (second["EfaRxDrops"]["Value"], second["EfaRetransPkts"]["Value"]) == (2.0, 0.0)
    assert second["EfaRxDrops"]["Dimensions"] == GROUP_DIMS
    assert not any(n.startswith("Slurm") for n in second)  # a worker does not ask squeue


def test_the_slurm_controller_publishes_the_queue_per_cluster_and_skips_what_it_lacks(tmp_path):
    messages: list = []
    run = _runner({"nvidia-smi": FileNotFoundError("nvidia-smi"), "squeue": "RUNNING\nPENDING\nPENDING\nCONFIGURING\n"}, [])
    data = _by_name(nc.collect(CONFIG, CONTROLLER, {}, run=run, sysfs_root=str(tmp_path), log=messages.append))
    assert set(data) == {"SlurmJobsRunning", "SlurmJobsPending", "SlurmQueueDepth"}
    assert (data["SlurmJobsRunning"]["Value"], data["SlurmJobsPending"]["Value"], data["SlurmQueueDepth"]["Value"]) == (1, 2, 4)
    assert data["SlurmQueueDepth"]["Dimensions"] == [{"Name": "ClusterName", "Value": "acme-ml-dev-llm-pretrain"}]
    assert any("nvidia-smi: no GPU metrics" in m for m in messages)


def test_a_failing_dcgm_is_logged_and_the_other_metrics_still_publish(tmp_path):
    messages: list = []
    run = _runner({"nvidia-smi": "50\n", "dcgmi": subprocess.CalledProcessError(1, "dcgmi")}, [])
    data = _by_name(nc.collect(CONFIG, WORKER, {}, run=run, sysfs_root=str(tmp_path), log=messages.append))
    assert set(data) == {"GpuCount", "IdleGpus"}
    assert any(m.startswith("dcgmi: skipped") for m in messages)


def test_without_dcgm_the_collector_never_calls_dcgmi(tmp_path):
    config = collector_config(cluster_name="c", monitoring=NodeMonitoring())
    calls: list = []
    nc.collect(config, WORKER, {}, run=_runner({"nvidia-smi": "0\n"}, calls), sysfs_root=str(tmp_path))
    assert [c[0] for c in calls] == ["nvidia-smi"]


def test_publish_batches_put_metric_data_calls():
    calls: list = []
    data = [{"MetricName": f"m{i}", "Dimensions": [], "Value": 1.0, "Unit": "Count"} for i in range(45)]
    assert nc.publish(data, namespace="AIPlatform/HyperPod", region="us-east-1", run=lambda a: calls.append(a) or "") == 3
    assert calls[0][:7] == ["aws", "cloudwatch", "put-metric-data", "--region", "us-east-1", "--namespace", "AIPlatform/HyperPod"]
    assert [len(json.loads(c[8])) for c in calls] == [20, 20, 5]


def test_cli_dry_run_and_state_file(tmp_path, monkeypatch):
    (tmp_path / "c.json").write_text(json.dumps(CONFIG))
    (tmp_path / "node.env").write_text("".join(f"{k}='{v}'\n" for k, v in WORKER.items()))
    args = ["--config", str(tmp_path / "c.json"), "--env", str(tmp_path / "node.env"), "--state", str(tmp_path / "s.json"),
            "--sysfs-root", str(tmp_path), "--dry-run"]
    # The CLI calls collect() with its default runner (the real commands): give it the fake one.
    monkeypatch.setattr(nc, "collect", _with_runner(nc.collect, _runner({"nvidia-smi": "1\n", "dcgmi": DMON}, [])))
    assert nc.main(args) == 0
    state = json.loads((tmp_path / "s.json").read_text())
    assert state["dcgm/1/311"] == 2.0
    assert nc.main(["--config", str(tmp_path / "missing.json"), "--env", "x", "--state", "y"]) == 2


def _with_runner(collect, run):
    def wrapped(config, facts, state, **kw):
        return collect(config, facts, state, run=run, **kw)
    return wrapped


# -- install_node_collector.sh --------------------------------------------------------------------------
@pytest.mark.skipif(os.name != "posix", reason="bash dry run")
def test_installer_writes_the_units_and_starts_the_timer(tmp_path):
    lifecycle = tmp_path / "lifecycle"
    lifecycle.mkdir()
    for name in ("common.sh", "node_collector.py", "install_node_collector.sh"):
        (lifecycle / name).write_bytes((SCRIPTS_DIR / name).read_bytes())
    (lifecycle / "node_collector.json").write_text(json.dumps(CONFIG))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls.log"
    (bin_dir / "systemctl").write_text(f'#!/usr/bin/env bash\necho "systemctl $*" >> {calls}\n')
    (bin_dir / "systemctl").chmod(0o755)
    env = {
        "PATH": f"{bin_dir}:{Path(sys.executable).parent}:/usr/bin:/bin", "LIFECYCLE_DIR": str(lifecycle),
        "AIPLATFORM_STATE_DIR": str(tmp_path / "etc"), "AIPLATFORM_COLLECTOR_DIR": str(tmp_path / "opt"),
        "AIPLATFORM_SYSTEMD_DIR": str(tmp_path / "systemd"),
    }
    for _ in range(2):  # rerunnable
        result = subprocess.run(["bash", str(lifecycle / "install_node_collector.sh")], env=env, capture_output=True,
                                text=True, timeout=60, check=False)
        assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads((tmp_path / "opt/node_collector.json").read_text()) == CONFIG
    assert os.access(tmp_path / "opt/node_collector.py", os.X_OK)
    service = (tmp_path / "systemd/aiplatform-node-collector.service").read_text()
    assert "Type=oneshot" in service
    assert (f"{tmp_path}/opt/node_collector.py --config {tmp_path}/opt/node_collector.json "
            f"--env {tmp_path}/etc/node.env --state {tmp_path}/opt/state.json") in service
    timer = (tmp_path / "systemd/aiplatform-node-collector.timer").read_text()
    assert "OnUnitActiveSec=60" in timer and "WantedBy=timers.target" in timer
    assert calls.read_text().splitlines()[:3] == [
        "systemctl daemon-reload", "systemctl enable aiplatform-node-collector.timer",
        "systemctl restart aiplatform-node-collector.timer"]
    (lifecycle / "node_collector.json").unlink()  # a cluster without node_monitoring
    (tmp_path / "systemd/aiplatform-node-collector.timer").unlink()
    result = subprocess.run(["bash", str(lifecycle / "install_node_collector.sh")], env=env, capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 0 and "collector not installed" in result.stderr
    assert not (tmp_path / "systemd/aiplatform-node-collector.timer").exists()


def test_collector_metric_names_are_the_dashboards_vocabulary():
    assert [m.value for m in CollectorMetric] == [
        "GpuCount", "IdleGpus", "GpuLastXid", "GpuEccDbeErrors", "GpuEccSbeErrors", "GpusThermalThrottled",
        "GpusPowerThrottled", "GpuNvlinkErrors", "SlurmJobsRunning", "SlurmJobsPending", "SlurmQueueDepth"]
    assert [c.metric_name for c in EfaCounter] == [
        "EfaRxDrops", "EfaRetransPkts", "EfaRetransTimeoutEvents", "EfaImpairedRemoteConnEvents",
        "EfaUnresponsiveRemoteEvents", "EfaRdmaReadWrErr", "EfaRdmaWriteWrErr"]


# -- observability.prometheus: OpenTelemetry config, the forwarder, the Grafana dashboard ----------------
def _node_config():
    spec = importlib.util.spec_from_file_location("hyperpod_node_config_p", SCRIPTS_DIR / "node_config.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


URL = "https://aps-workspaces.us-east-1.amazonaws.com/workspaces/ws-0a1b2c3d/api/v1/remote_write"


def test_otel_config_scrapes_dcgm_exporter_and_remote_writes_with_sigv4():
    from constructs_lib.training.collector import DCGM_EXPORTER_PORT

    config = _node_config().otel_collector_config(
        remote_write_url=URL, region="us-east-1", cluster="acme-ml-dev-llm-pretrain", instance_group="workers", host="ip-10-1-2-3")
    (scrape,) = config["receivers"]["prometheus"]["config"]["scrape_configs"]
    assert scrape["static_configs"] == [{"targets": [f"localhost:{DCGM_EXPORTER_PORT}"],
                                         "labels": {"cluster": "acme-ml-dev-llm-pretrain", "instance_group": "workers"}}]
    assert scrape["relabel_configs"] == [{"target_label": "instance", "replacement": "ip-10-1-2-3"}]
    assert config["exporters"] == {"prometheusremotewrite": {"endpoint": URL, "auth": {"authenticator": "sigv4auth"}}}
    assert config["extensions"] == {"sigv4auth": {"region": "us-east-1", "service": "aps"}}
    assert config["service"]["pipelines"]["metrics"] == {
        "receivers": ["prometheus"], "processors": ["batch"], "exporters": ["prometheusremotewrite"]}
    module = _node_config()
    with pytest.raises(module.ConfigError, match="need an https remote-write URL and a region"):
        module.otel_collector_config(remote_write_url="http://x", region="", cluster="c", instance_group="g", host="h")


def _forwarder_node(tmp_path, *, docker=True, gpu=True):
    from constructs_lib.training.collector import dcgm_exporter_csv

    lifecycle = tmp_path / "lifecycle"
    lifecycle.mkdir()
    for name in ("common.sh", "node_config.py", "install_prometheus_forwarder.sh"):
        (lifecycle / name).write_bytes((SCRIPTS_DIR / name).read_bytes())
    (lifecycle / "dcgm_exporter_metrics.csv").write_text(dcgm_exporter_csv())
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls.log"
    stubs = {"aws": "echo token", "hostname": "echo ip-10-1-2-3", "sleep": ""}
    if docker:
        stubs["docker"] = ""
    if gpu:
        stubs["nvidia-smi"] = ""
    for name, body in stubs.items():
        (bin_dir / name).write_text(f'#!/usr/bin/env bash\necho "{name} $*" >> {calls}\n{body}\n')
        (bin_dir / name).chmod(0o755)
    env = {
        "PATH": f"{bin_dir}:{Path(sys.executable).parent}:/usr/bin:/bin", "LIFECYCLE_DIR": str(lifecycle),
        "CLUSTER_REGION": "us-east-1", "CLUSTER_NAME": "acme-ml-dev-llm-pretrain", "INSTANCE_GROUP": "workers",
        "PROMETHEUS_REMOTE_WRITE_URL": URL, "AIPLATFORM_PROMETHEUS_DIR": str(tmp_path / "etc"),
    }

    def run(**extra):
        return subprocess.run(["bash", str(lifecycle / "install_prometheus_forwarder.sh")], env={**env, **extra},
                              capture_output=True, text=True, timeout=60, check=False)
    return run, calls


@pytest.mark.skipif(os.name != "posix", reason="bash dry run")
def test_forwarder_runs_dcgm_exporter_and_the_collector_from_awss_hyperpod_registry(tmp_path):
    from constructs_lib.training.collector import dcgm_exporter_csv

    run, calls = _forwarder_node(tmp_path)
    result = run()
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "etc/dcgm-metrics.csv").read_text() == dcgm_exporter_csv()
    otel = json.loads((tmp_path / "etc/otel-config.yaml").read_text())  # JSON is YAML
    assert otel["exporters"]["prometheusremotewrite"]["endpoint"] == URL
    log = calls.read_text()
    registry = "602401143452.dkr.ecr.us-east-1.amazonaws.com"
    assert f"docker login --username AWS --password-stdin {registry}" in log
    assert (f"docker run -d --restart always --name dcgm-exporter --gpus all --net host --cap-add SYS_ADMIN "
            f"-v {tmp_path}/etc:/etc/dcgm-exporter:ro {registry}/hyperpod/dcgm_exporter:4.1.1-4.0.4-ubi9 "
            "-f /etc/dcgm-exporter/dcgm-metrics.csv") in log
    assert (f"docker run -d --restart always --name otel-collector --net host -v {tmp_path}/etc:/etc/otel:ro "
            f"{registry}/hyperpod/otel_collector:v1754424030352 --config=/etc/otel/otel-config.yaml") in log


@pytest.mark.skipif(os.name != "posix", reason="bash dry run")
@pytest.mark.parametrize(("kwargs", "env", "message"), [
    ({}, {"PROMETHEUS_REMOTE_WRITE_URL": ""}, "no Prometheus workspace configured"),
    ({"gpu": False}, {}, "no GPU: nothing to forward"),
    ({"docker": False}, {}, "WARNING: no docker on this node"),
])
def test_forwarder_skips_nodes_it_cannot_serve(tmp_path, kwargs, env, message):
    run, calls = _forwarder_node(tmp_path, **kwargs)
    result = run(**env)
    assert result.returncode == 0 and message in result.stderr
    assert "docker run" not in (calls.read_text() if calls.exists() else "")


def test_grafana_dashboard_reads_only_what_the_nodes_export():
    """dashboards/grafana/hyperpod-gpu-health.json: every DCGM field it queries is in dcgm-exporter's
    metrics file, every label it groups or filters by is one the nodes' collector or exporter sets."""
    import re

    from constructs_lib.training.collector import DCGM_EXPORTER_FIELDS

    dashboard = json.loads((SCRIPTS_DIR.parents[2] / "dashboards/grafana/hyperpod-gpu-health.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    assert len(dashboard["panels"]) == 9 and len({p["id"] for p in dashboard["panels"]}) == 9
    exported = {name for name, _, _ in DCGM_EXPORTER_FIELDS}
    queried = set(re.findall(r"DCGM_FI_[A-Z0-9_]+", " ".join(exprs)))
    assert queried == exported
    labels = set(re.findall(r"by \(([^)]*)\)", " ".join(exprs)))
    assert {label.strip() for group in labels for label in group.split(",")} == {"instance_group", "instance", "gpu"}
    assert all('cluster="$cluster"' in e for e in exprs)
    variables = {v["name"] for v in dashboard["templating"]["list"]}
    assert variables == {"datasource", "cluster", "idle_floor"}
