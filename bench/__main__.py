"""Synth benchmarks, reported as ratios (no thresholds in tests).

- compliance overhead: synth time of the default platform with the five nag packs / without them;
- template size: largest template bytes / CloudFormation's 1,000,000-byte limit for S3-uploaded templates;
- resources: most resources in one stack / CloudFormation's 500-resource limit;
- cloud assembly size: bytes of the default platform's cdk.out / the 15 MB target (issue: one shared
  Powertools layer instead of a copy per function), and the part of it that is aws-cdk-lib's AWS CLI
  layer (BucketDeployment of the HyperPod lifecycle scripts), which is not ours to shrink.

Run: ``make bench`` (or ``.venv/bin/python -m bench``). Lambda handler timings: ``bench/bench_handlers.py``.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

TEMPLATE_LIMIT_BYTES = 1_000_000
RESOURCE_LIMIT = 500


def _synth(with_nag: bool, config_path: Path | None = None) -> tuple[float, Path]:
    from aws_cdk import App

    from constructs_lib import add_compliance_checks
    from stacks.config import DEFAULT_CONFIG, load_config
    from stacks.platform import build_platform

    outdir = Path(tempfile.mkdtemp(prefix="bench-"))
    context = json.loads((REPO / "cdk.json").read_text())["context"]
    start = time.perf_counter()
    app = App(context=context, outdir=str(outdir))
    build_platform(app, load_config(config_path or DEFAULT_CONFIG))
    if with_nag:
        add_compliance_checks(app)
    app.synth()
    return time.perf_counter() - start, outdir


def main(repeats: int = 3, config_path: Path | None = None, warm_up: bool = True) -> None:
    """``config_path``/``warm_up=False``/``repeats=1``: the suite's smoke run (tests/test_bench_smoke.py)."""
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
    print(f"{'largest template / 1 MB limit':<40}{largest:>11}B{largest / TEMPLATE_LIMIT_BYTES:>10.3f}")
    print(f"{'most resources in a stack / 500':<40}{most:>12}{most / RESOURCE_LIMIT:>10.3f}")
    total, cli_layer = _assembly_bytes(outdir[-1])
    print(f"{'cdk.out bytes / 15 MB target':<40}{total:>11}B{total / ASSEMBLY_TARGET_BYTES:>10.3f}")
    print(f"{'  of which AWS CLI layer / cdk.out':<40}{cli_layer:>11}B{cli_layer / total:>10.3f}")


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
    main()
