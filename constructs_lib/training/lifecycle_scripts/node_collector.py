#!/usr/bin/env python3
"""Node collector of the HyperPod lifecycle scripts: idle GPUs, DCGM GPU health, Slurm queue, EFA errors.

Runs once a minute (systemd timer ``aiplatform-node-collector.timer``, written by
``install_node_collector.sh``) with the system ``python3`` (3.8 on older HyperPod AMIs), standard
library only, and publishes with ``aws cloudwatch put-metric-data``. What to publish and under which
names comes from ``node_collector.json`` (rendered at synth by ``constructs_lib.training.collector``);
which node this is, from ``node.env`` (``node_config.py env``). Sources:

* ``nvidia-smi --query-gpu=utilization.gpu --format=csv,noheader,nounits``: GPUs and idle GPUs;
* ``dcgmi dmon -e <ids> -c 1`` (NVIDIA DCGM): XID, ECC, clocks event reasons, NVLink errors;
* ``squeue --noheader --format=%T`` (controller node of a Slurm cluster): jobs per state;
* ``/sys/class/infiniband/*/ports/*/hw_counters/<counter>`` (EFA driver): error counters.

Counters are published as their increase since the previous run (kept in a state file); the first
run after boot publishes none of them. A source that is missing (no GPU, no DCGM, no EFA device) is
skipped; a failing one is logged and skipped, so one broken tool never hides the other metrics.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shlex
import subprocess
import sys
from typing import Any, Callable, Sequence  # noqa: UP035 (subscripted at run time: collections.abc's need 3.9)

Runner = Callable[[Sequence[str]], str]
MAX_METRICS_PER_CALL = 20  # PutMetricData takes up to 1000 today; 20 was the long-standing limit


def run_command(args: Sequence[str]) -> str:
    return subprocess.run(list(args), check=True, capture_output=True, text=True, timeout=30).stdout


def read_env(path: str) -> dict[str, str]:
    """``KEY='value'`` lines as written by ``node_config.py env``."""
    facts: dict[str, str] = {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            key, sep, value = line.strip().partition("=")
            if sep and key:
                parts = shlex.split(value) if value else [""]
                facts[key] = parts[0] if parts else ""
    return facts


# -- sources ----------------------------------------------------------------------------------------
def parse_gpu_utilization(text: str) -> list[float]:
    """One utilization percentage per GPU (lines ``47`` or ``[N/A]`` skipped)."""
    values = []
    for line in text.splitlines():
        line = line.strip()
        try:
            values.append(float(line))
        except ValueError:
            continue
    return values


def parse_dcgmi_dmon(text: str, field_ids: Sequence[int]) -> dict[str, dict[int, float | None]]:
    """``dcgmi dmon -e a,b -c 1`` output -> ``{"0": {a: value, b: None}}`` (``N/A`` -> ``None``).

    Data lines are ``GPU <index> <value per field, in -e order>``; header lines start with ``#`` or ``ID``.
    """
    gpus: dict[str, dict[int, float | None]] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 2 or parts[0] != "GPU":
            continue
        values: dict[int, float | None] = {}
        for field_id, raw in zip(field_ids, parts[2:]):
            try:
                values[field_id] = float(raw)
            except ValueError:
                values[field_id] = None
        gpus[parts[1]] = values
    return gpus


def parse_squeue_states(text: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for line in text.splitlines():
        state = line.strip().upper()
        if state:
            counts[state] = counts.get(state, 0) + 1
    return counts


def read_efa_counters(sysfs_root: str, counters: Sequence[str]) -> dict[str, dict[str, int]]:
    """``{"<device>/<port>": {counter: value}}`` for every EFA port exposing ``hw_counters``."""
    found: dict[str, dict[str, int]] = {}
    pattern = os.path.join(sysfs_root, "class", "infiniband", "*", "ports", "*", "hw_counters")
    for directory in sorted(glob.glob(pattern)):
        port = os.path.basename(os.path.dirname(directory))
        device = os.path.basename(os.path.dirname(os.path.dirname(os.path.dirname(directory))))
        values: dict[str, int] = {}
        for counter in counters:
            try:
                with open(os.path.join(directory, counter), encoding="utf-8") as handle:
                    values[counter] = int(handle.read().strip())
            except (OSError, ValueError):
                continue
        found[f"{device}/{port}"] = values
    return found


def increase(previous: float | None, current: float) -> float | None:
    """Counter increase; ``None`` without a previous value; a reset (driver reload) counts from zero."""
    if previous is None:
        return None
    return current - previous if current >= previous else current


# -- metrics ----------------------------------------------------------------------------------------
def gpu_metrics(config: dict[str, Any], utilizations: Sequence[float]) -> dict[str, float]:
    names = config["metrics"]
    floor = float(config["idle_gpu_floor_percent"])
    return {
        names["gpu_count"]: float(len(utilizations)),
        names["idle_gpus"]: float(sum(1 for u in utilizations if u < floor)),
    }


def dcgm_metrics(
    config: dict[str, Any],
    gpus: dict[str, dict[int, float | None]],
    state: dict[str, float],
) -> dict[str, float]:
    """Gauges as the maximum over GPUs, counters as the summed increase, bitmasks as GPUs with a bit set.

    ``state`` holds the previous counter values (``dcgm/<gpu>/<field id>``) and is updated in place.
    """
    dcgm = config["dcgm"]
    out: dict[str, float] = {}
    power_metric = dcgm["power_metric"]
    for field in dcgm["fields"]:
        fid, metric, kind = int(field["id"]), field["metric"], field["kind"]
        for gpu, values in sorted(gpus.items()):
            value = values.get(fid)
            if value is None:
                continue
            if kind == "gauge":
                out[metric] = max(out.get(metric, 0.0), value)
            elif kind == "counter":
                key = f"dcgm/{gpu}/{fid}"
                delta = increase(state.get(key), value)
                state[key] = value
                if delta is not None:
                    out[metric] = out.get(metric, 0.0) + delta
            elif kind == "bitmask":
                reasons = int(value)
                out[metric] = out.get(metric, 0.0) + (1.0 if reasons & int(dcgm["thermal_bits"]) else 0.0)
                out[power_metric] = out.get(power_metric, 0.0) + (1.0 if reasons & int(dcgm["power_bits"]) else 0.0)
    return out


def slurm_metrics(config: dict[str, Any], counts: dict[str, int]) -> dict[str, float]:
    out = {metric: float(counts.get(state, 0)) for state, metric in config["slurm_states"].items()}
    out[config["metrics"]["slurm_queue_depth"]] = float(sum(counts.values()))
    return out


def efa_metrics(
    config: dict[str, Any], ports: dict[str, dict[str, int]], state: dict[str, float]
) -> dict[str, float]:
    out: dict[str, float] = {}
    for port, values in sorted(ports.items()):
        for counter, value in values.items():
            metric = config["efa_counters"][counter]
            key = f"efa/{port}/{counter}"
            delta = increase(state.get(key), float(value))
            state[key] = float(value)
            if delta is not None:
                out[metric] = out.get(metric, 0.0) + delta
    return out


def metric_data(values: dict[str, float], dimensions: dict[str, str], unit: str = "Count") -> list[dict[str, Any]]:
    dims = [{"Name": k, "Value": v} for k, v in dimensions.items()]
    return [{"MetricName": name, "Dimensions": dims, "Value": value, "Unit": unit} for name, value in sorted(values.items())]


def collect(
    config: dict[str, Any],
    facts: dict[str, str],
    state: dict[str, float],
    *,
    run: Runner = run_command,
    sysfs_root: str = "/sys",
    log: Callable[[str], None] = lambda message: print(message, file=sys.stderr),
) -> list[dict[str, Any]]:
    """Every datum of one run (``MetricData`` entries)."""
    dims = config["dimensions"]
    cluster = facts.get("CLUSTER_NAME") or config["cluster_name"]
    group_dims = {dims["cluster"]: cluster, dims["instance_group"]: facts["INSTANCE_GROUP"]}
    data: list[dict[str, Any]] = []

    def attempt(source: str, produce: Callable[[], dict[str, float]], dimensions: dict[str, str]) -> None:
        try:
            values = produce()
        except (OSError, subprocess.SubprocessError, ValueError, KeyError) as error:
            log(f"{source}: skipped ({error})")
            return
        data.extend(metric_data(values, dimensions))

    utilizations: list[float] = []
    try:
        utilizations = parse_gpu_utilization(
            run(["nvidia-smi", "--query-gpu=utilization.gpu", "--format=csv,noheader,nounits"])
        )
    except (OSError, subprocess.SubprocessError) as error:
        log(f"nvidia-smi: no GPU metrics ({error})")
    if utilizations:
        data.extend(metric_data(gpu_metrics(config, utilizations), group_dims))
        if config["dcgm"]["enabled"]:
            ids = [int(f["id"]) for f in config["dcgm"]["fields"]]
            attempt(
                "dcgmi",
                lambda: dcgm_metrics(
                    config,
                    parse_dcgmi_dmon(run(["dcgmi", "dmon", "-e", ",".join(map(str, ids)), "-c", "1"]), ids),
                    state,
                ),
                group_dims,
            )
    if facts.get("WORKLOAD_MANAGER") == "slurm" and facts.get("NODE_ROLE") == "controller":
        attempt(
            "squeue",
            lambda: slurm_metrics(config, parse_squeue_states(run(["squeue", "--noheader", "--format=%T"]))),
            {dims["cluster"]: cluster},
        )
    ports = read_efa_counters(sysfs_root, list(config["efa_counters"]))
    if ports:
        attempt("efa", lambda: efa_metrics(config, ports, state), group_dims)
    return data


def publish(data: list[dict[str, Any]], *, namespace: str, region: str, run: Runner = run_command) -> int:
    """``aws cloudwatch put-metric-data`` in batches; returns the number of calls."""
    calls = 0
    for start in range(0, len(data), MAX_METRICS_PER_CALL):
        batch = data[start : start + MAX_METRICS_PER_CALL]
        run([
            "aws", "cloudwatch", "put-metric-data", "--region", region, "--namespace", namespace,
            "--metric-data", json.dumps(batch, separators=(",", ":")),
        ])
        calls += 1
    return calls


def load_state(path: str) -> dict[str, float]:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        return {str(k): float(v) for k, v in data.items()} if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def save_state(path: str, state: dict[str, float]) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(state, handle, sort_keys=True)
    os.replace(tmp, path)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True, help="node_collector.json")
    parser.add_argument("--env", required=True, help="node.env of node_config.py")
    parser.add_argument("--state", required=True, help="file keeping the previous counter values")
    parser.add_argument("--sysfs-root", default="/sys")
    parser.add_argument("--dry-run", action="store_true", help="print the metric data instead of publishing")
    args = parser.parse_args(argv)
    try:
        with open(args.config, encoding="utf-8") as handle:
            config = json.load(handle)
        facts = read_env(args.env)
        state = load_state(args.state)
        data = collect(config, facts, state, sysfs_root=args.sysfs_root)
        if args.dry_run:
            print(json.dumps(data, indent=2, sort_keys=True))
        elif data:
            publish(data, namespace=config["namespace"], region=facts["CLUSTER_REGION"])
        save_state(args.state, state)
    except (OSError, ValueError, KeyError, subprocess.SubprocessError) as error:
        print(f"node_collector.py: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
