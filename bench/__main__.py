"""Synth benchmarks, reported as ratios (no thresholds in tests).

- compliance overhead: synth time of the default platform with the five nag packs / without them;
- template size: largest template bytes / CloudFormation's 1,000,000-byte limit for S3-uploaded templates;
- resources: most resources in one stack / CloudFormation's 500-resource limit;
- cloud assembly size: bytes of the default platform's cdk.out / the 15 MB target (issue: one shared
  Powertools layer instead of a copy per function), and the part of it that is aws-cdk-lib's AWS CLI
  layer (BucketDeployment of the HyperPod lifecycle scripts), which is not ours to shrink.
- default platform / empty app: wall and CPU time of one synth of each in a fresh interpreter (as
  ``cdk synth`` runs the app: start-up included), CDK's default validation on, no nag packs
  (``bench/synth_once.py``); target at most 2;
- endpoints: 1, 10, 50, 200 and 500 fully monitored, autoscaled real-time endpoints without any
  grouping key (hash-placed into ``inference.shards`` = one per ten endpoints), synthesized with the
  five nag packs and CDK's template validation on: synth time, stacks, the largest stack's resources
  and bytes (each against 450 resources and 900 KB: the acceptance bound, above the 80 % the synth
  refuses), and the marginal cost of one endpoint (ms, resources and KB of the shards) between rows.

Run: ``make bench`` (or ``.venv/bin/python -m bench``; ``--endpoints 1,10`` for other rows, ``--endpoints ''``
for none). Then the sizes per endpoint kind, cluster and pipeline and ours vs L1 (``bench/sizes.py``).
Lambda handler timings: ``bench/bench_handlers.py``.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from stacks.shards import RESOURCE_LIMIT, TEMPLATE_BYTES_LIMIT, measure

# The project's context (cdk.json), read once: every in-process synth here uses it.
CDK_CONTEXT = json.loads((REPO / "cdk.json").read_text())["context"]
ENDPOINT_COUNTS = (1, 10, 50, 200, 500)
# The acceptance bound of the 500-endpoint row (issue: every stack under 450 resources and 900 KB).
MAX_STACK_RESOURCES = 450
MAX_STACK_BYTES = 900_000
ENDPOINTS_PER_SHARD = 10
IMAGE = "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.3.0-gpu-py311-cu121-ubuntu20.04-sagemaker"


def _synth(with_nag: bool, config_path: Path | None = None, config=None) -> tuple[float, Path]:
    from aws_cdk import App

    from constructs_lib import add_compliance_checks
    from stacks.config import DEFAULT_CONFIG, load_config
    from stacks.platform import build_platform

    outdir = Path(tempfile.mkdtemp(prefix="bench-"))
    context = CDK_CONTEXT
    start = time.perf_counter()
    app = App(context=context, outdir=str(outdir))
    build_platform(app, config if config is not None else load_config(config_path or DEFAULT_CONFIG))
    if with_nag:
        add_compliance_checks(app)
    app.synth()
    return time.perf_counter() - start, outdir


def endpoints_config(count: int):
    """``count`` fully monitored (every default alarm, GPU instance), autoscaled real-time endpoints
    without any grouping key, hash-placed into one shard per ten endpoints."""
    from stacks.config import parse_config

    return parse_config({
        "platform": {"name": "bench", "environment": "dev"},
        "notifications": {"emails": ["oncall@example.com"]},
        "inference": {"shards": max(1, -(-count // ENDPOINTS_PER_SHARD))},
        "endpoints": [
            {"name": f"ep-{i:03d}", "type": "realtime",
             "model": {"image": IMAGE, "model_data_url": f"s3://bench-models/ep-{i:03d}/model.tar.gz"},
             "instance_type": "ml.g5.xlarge", "instance_count": 1,
             "autoscaling": {"min": 1, "max": 4, "target_invocations_per_instance": 100},
             "deployment": {"strategy": "canary", "canary_percent": 25, "wait_minutes": 5}}
            for i in range(count)
        ],
    }, source=f"{count} endpoints")


def _stack_sizes(outdir: Path) -> dict[str, tuple[int, int]]:
    """Stack (template file stem) -> (resources, bytes), measured as the size check measures them."""
    return {
        p.name.removesuffix(".template.json"): (size.resources, size.template_bytes)
        for p in outdir.glob("*.template.json")
        for size in (measure(p),)
    }


def cpu_seconds() -> float:
    """CPU seconds of this process and its descendants still running (the jsii runtime: a Node wrapper
    and the Node program it starts, where aws-cdk-lib runs): unlike wall time, not inflated by other
    load on the machine."""
    tick, total, pending = os.sysconf("SC_CLK_TCK"), time.process_time(), [os.getpid()]
    while pending:
        parent = pending.pop()
        with contextlib.suppress(OSError):
            for task in os.listdir(f"/proc/{parent}/task"):
                for pid in Path(f"/proc/{parent}/task/{task}/children").read_text().split():
                    pending.append(int(pid))
                    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                    total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


def endpoint_rows(counts=ENDPOINT_COUNTS) -> list[str]:
    """One row per endpoint count, then the marginal cost per endpoint between consecutive counts (wall
    time, and CPU time of this process and the jsii runtime's processes)."""
    rows, measured, cpu = [], [], []
    for count in counts:
        before = cpu_seconds()
        seconds, outdir = _synth(True, config=endpoints_config(count))
        cpu.append(cpu_seconds() - before)
        sizes = _stack_sizes(outdir)
        shards = {n: v for n, v in sizes.items() if n.startswith("bench-dev-inference")}
        largest_resources = max(sizes.items(), key=lambda kv: kv[1][0])
        largest_bytes = max(sizes.items(), key=lambda kv: kv[1][1])
        within = largest_resources[1][0] < MAX_STACK_RESOURCES and largest_bytes[1][1] < MAX_STACK_BYTES
        measured.append((count, seconds, sum(v[0] for v in shards.values()), sum(v[1] for v in shards.values())))
        rows.append(
            f"{f'endpoints {count}: synth s, stacks':<40}{seconds:>11.2f}s{len(sizes):>10}"
        )
        rows.append(
            f"{f'endpoints {count}: most resources/stack':<40}{largest_resources[1][0]:>12}"
            f"{largest_resources[1][0] / MAX_STACK_RESOURCES:>10.3f}  {largest_resources[0]} (/ 450)"
        )
        rows.append(
            f"{f'endpoints {count}: largest stack bytes':<40}{largest_bytes[1][1]:>11}B"
            f"{largest_bytes[1][1] / MAX_STACK_BYTES:>10.3f}  {largest_bytes[0]} (/ 900 KB)"
            + ("" if within else "  OVER THE ACCEPTANCE BOUND")
        )
    cpu_rows = [
        f"{f'endpoint {n0}->{n1}: marginal CPU ms':<40}{1000 * (c1 - c0) / (n1 - n0):>12.1f}"
        for (n0, c0), (n1, c1) in itertools.pairwise(zip(counts, cpu, strict=True))
    ]
    return rows + marginal_rows(measured) + cpu_rows


def marginal_rows(measured: list[tuple[int, float, int, int]]) -> list[str]:
    """(endpoints, synth seconds, shard resources, shard bytes) per row -> the cost of one more endpoint."""
    rows = []
    for (n0, t0, r0, b0), (n1, t1, r1, b1) in itertools.pairwise(measured):
        per = n1 - n0
        rows.append(f"{f'endpoint {n0}->{n1}: marginal synth ms':<40}{1000 * (t1 - t0) / per:>12.1f}")
        rows.append(f"{f'endpoint {n0}->{n1}: marginal resources':<40}{(r1 - r0) / per:>12.1f}")
        rows.append(f"{f'endpoint {n0}->{n1}: marginal shard KB':<40}{(b1 - b0) / per / 1000:>12.1f}")
    return rows


def fresh_synth(kind: str, config_path: Path | None = None, *, fresh: bool = True) -> tuple[float, float]:
    """Wall and CPU seconds (this process's children: the interpreter and its jsii runtime) of one
    ``bench.synth_once`` synth of ``kind`` in a fresh interpreter; ``fresh=False`` (the suite's smoke
    run) calls it in this process instead (CPU then of this process)."""
    from bench import synth_once

    outdir = Path(tempfile.mkdtemp(prefix=f"bench-{kind}-"))
    import resource as rusage  # (the name ``resource`` is a template resource below)

    who = rusage.RUSAGE_CHILDREN if fresh else rusage.RUSAGE_SELF
    before, start = rusage.getrusage(who), time.perf_counter()
    if fresh:
        subprocess.run(
            [sys.executable, "-m", "bench.synth_once", kind, *([str(config_path)] if config_path else []), str(outdir)],
            cwd=REPO, check=True, capture_output=True,
        )
    else:
        synth_once.synth(kind, outdir, config_path)
    wall, after = time.perf_counter() - start, rusage.getrusage(who)
    shutil.rmtree(outdir, ignore_errors=True)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def platform_vs_empty_rows(config_path: Path | None = None, repeats: int = 3, *, fresh: bool = True) -> list[str]:
    """The default platform against an app of one stack with one SNS topic, alternating, best of
    ``repeats`` each (target: at most 2x)."""
    best = {"platform": (float("inf"),) * 2, "empty": (float("inf"),) * 2}
    for _ in range(repeats):
        for kind, so_far in list(best.items()):
            measured = fresh_synth(kind, config_path, fresh=fresh)
            best[kind] = tuple(min(a, b) for a, b in zip(so_far, measured, strict=True))
    (pw, pc), (ew, ec) = best["platform"], best["empty"]
    return [
        f"{'default platform / empty app: wall s':<40}{pw:>11.2f}s{pw / ew:>10.2f}  (empty {ew:.2f}s; target <= 2)",
        f"{'default platform / empty app: CPU s':<40}{pc:>11.2f}s{pc / ec:>10.2f}  (empty {ec:.2f}s)",
    ]


def main(
    repeats: int = 3, config_path: Path | None = None, warm_up: bool = True, endpoint_counts=ENDPOINT_COUNTS,
    sizes: bool = True, fresh: bool = True,
) -> None:
    """``config_path``/``warm_up=False``/``repeats=1``/``endpoint_counts=(1, 2)``/``sizes=False``/``fresh=False``:
    the suite's smoke run (tests/test_bench_smoke.py; bench/sizes.py has its own smoke test there)."""
    if warm_up:
        _synth(False, config_path)  # warm the jsii runtime
    plain = min(_synth(False, config_path)[0] for _ in range(repeats))
    nag_times, outdir = zip(*(_synth(True, config_path) for _ in range(repeats)))
    nagged = min(nag_times)
    templates = list(outdir[-1].glob("*.template.json"))
    largest = max(p.stat().st_size for p in templates)
    most = max(len(json.loads(p.read_text())["Resources"]) for p in templates)
    print(f"{'metric':<40}{'value':>12}{'ratio':>10}")
    print(f"{'synth with nag / without':<40}{nagged:>11.2f}s{nagged / plain:>10.2f}")
    print(f"{'largest template / 1 MB limit':<40}{largest:>11}B{largest / TEMPLATE_BYTES_LIMIT:>10.3f}")
    print(f"{'most resources in a stack / 500':<40}{most:>12}{most / RESOURCE_LIMIT:>10.3f}")
    total, cli_layer = _assembly_bytes(outdir[-1])
    print(f"{'cdk.out bytes / 15 MB target':<40}{total:>11}B{total / ASSEMBLY_TARGET_BYTES:>10.3f}")
    print(f"{'  of which AWS CLI layer / cdk.out':<40}{cli_layer:>11}B{cli_layer / total:>10.3f}")
    for row in platform_vs_empty_rows(config_path, repeats, fresh=fresh):
        print(row, flush=True)
    for row in endpoint_rows(endpoint_counts) if endpoint_counts else ():
        print(row, flush=True)
    if sizes:
        from bench.sizes import report

        for row in report(CDK_CONTEXT):
            print(row, flush=True)


ASSEMBLY_TARGET_BYTES = 15_000_000


def _assembly_bytes(outdir: Path) -> tuple[int, int]:
    """Bytes of the cloud assembly, and of the AWS CLI layer assets in it (aws-cdk-lib's, for
    BucketDeployment: the templates describe them as ``/opt/awscli/aws`` layers)."""
    total = sum(p.stat().st_size for p in outdir.rglob("*") if p.is_file())
    cli_keys = set()
    for template in outdir.glob("*.template.json"):
        for resource in json.loads(template.read_text())["Resources"].values():
            props = resource.get("Properties", {})
            if resource["Type"] == "AWS::Lambda::LayerVersion" and props.get("Description") == "/opt/awscli/aws":
                cli_keys.add(str(props["Content"]["S3Key"]))
    cli = sum(p.stat().st_size for key in cli_keys for p in outdir.glob(f"asset.{key}") if p.is_file())
    return total, cli


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--endpoints", default=",".join(map(str, ENDPOINT_COUNTS)),
                        help="endpoint counts of the shard rows, comma-separated ('' for none)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    main(repeats=args.repeats, endpoint_counts=tuple(int(n) for n in args.endpoints.split(",") if n))
