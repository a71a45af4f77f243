"""Every benchmark in bench/ runs once (one quick iteration, nothing timed is asserted), so none can rot.

* ``bench`` (``python -m bench``): synth ratios, on a one-endpoint config with one repeat and no warm-up,
  the default-vs-empty ratio in this process (``bench/synth_once.py``);
* ``bench/bench_handlers.py``: every handler's per-event path through its public ``handler(event, context)``
  entry point with the environment it needs, one cold import in a fresh interpreter (the first handler).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TINY_CONFIG = """
platform: {name: bench, environment: dev}
endpoints:
  - name: embeddings
    type: serverless
    model: {image: 763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-inference:2.1.0-transformers4.37.0-cpu-py310-ubuntu22.04, model_data_url: s3://bench-models/embeddings/model.tar.gz}
    serverless: {memory_mb: 2048, max_concurrency: 5}
"""


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.xdist_group("bench")
def test_synth_benchmark_prints_its_table(tmp_path, capsys):
    import bench.__main__ as synth_bench

    config = tmp_path / "tiny.yaml"
    config.write_text(TINY_CONFIG)
    synth_bench.main(repeats=1, config_path=config, warm_up=False, endpoint_counts=(1,), sizes=False, fresh=False)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines[:6]] == ["metric", "synth", "largest", "most", "cdk.out", "of"]
    # The platform (here the tiny config) against the one-topic app, both through bench/synth_once.py (in
    # this process here; `python -m bench` runs each in a fresh interpreter, as `cdk synth` does).
    assert [line[:40].strip() for line in lines[6:8]] == [
        "default platform / empty app: wall s", "default platform / empty app: CPU s"]
    assert all(float(line[40:62].split()[-1]) > 0 for line in lines[6:8])
    # The shard rows at a reduced N (one endpoint; the 1-500 acceptance run is `python -m bench`).
    assert [" ".join(line.split()[:2]) for line in lines[8:]] == ["endpoints 1:"] * 3
    assert "OVER THE ACCEPTANCE BOUND" not in "\n".join(lines)
    # The marginal cost between rows, from two measured rows (endpoints, seconds, resources, bytes).
    assert [line.split()[-1] for line in synth_bench.marginal_rows([(1, 3.0, 28, 44_000), (11, 4.0, 228, 394_000)])] == [
        "100.0", "20.0", "35.0"]


@pytest.mark.xdist_group("bench")
def test_handler_benchmark_runs_every_handler_and_one_cold_import(tmp_path, monkeypatch):
    bench = _load("bench_handlers_smoke", REPO / "bench" / "bench_handlers.py")
    for key, value in bench.ENV.items():
        monkeypatch.setenv(key, value)
    names = [name for name in bench.EVENTS if (bench.LAMBDA_DIR / name / "handler.py").is_file()]
    assert names == list(bench.EVENTS), "a handler the benchmark knows has gone: update bench/bench_handlers.py"
    bench.stage_shared_modules(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    rows = bench.per_event(names, 1, str(tmp_path))
    assert [(name, event) for name, event, *_ in rows] == [(n, e) for n in names for e in bench.EVENTS[n]]
    assert all(isinstance(action, str) and action for _, _, action, _, _ in rows)
    startup, imports = bench.cold_imports(names[:1], 1, str(tmp_path))
    assert startup > 0 and set(imports) == {names[0]}


@pytest.mark.xdist_group("bench")
def test_size_benchmark_attributes_every_resource_and_rebuilds_it_as_l1(default_platform, default_config, tmp_path):
    """``bench/sizes.py`` on the session's default platform: every endpoint, cluster and pipeline owns
    resources, owners plus shared add up to every resource of the assembly, and the L1 rebuild of a
    template synthesizes the same resources (type, properties) under the same logical ids."""
    import json
    import shutil

    from bench import sizes

    platform = default_platform.platform
    owners = sizes.platform_owners(platform, default_config)
    assert {o.split(":")[0] for o in owners} == {"endpoint", "cluster", "pipeline"}
    assert {o.split(":")[1] for o in owners if o.startswith("endpoint:")} == {
        "realtime", "serverless", "async", "multi-model", "inference-components"}
    owned, shared = sizes.attribute(default_platform.outdir, owners, {s.artifact_id: s.stack_name for s in platform.stacks})
    assert all(size.resources > 0 and size.template_bytes > 0 for size in owned.values()), owned
    total = sum(len(json.loads(p.read_text())["Resources"]) for p in default_platform.outdir.glob("*.template.json"))
    assert sum(s.resources for s in owned.values()) + shared.resources == total
    rows = sizes.size_rows(owned, shared)
    assert [r.split(":")[0] for r in rows if r.startswith("endpoint")] == [
        "endpoint async (x1)", "endpoint inference-components (x1)", "endpoint multi-model (x1)",
        "endpoint realtime (x3)", "endpoint serverless (x1)"]
    # The L1 rebuild, on the data stack only (the bench rebuilds every stack).
    data = tmp_path / "in"
    data.mkdir()
    name = f"{platform.data.artifact_id}.template.json"
    shutil.copy(default_platform.outdir / name, data / name)
    from tests.conftest import CDK_CONTEXT

    _, count, l1_out = sizes.l1_seconds(data, CDK_CONTEXT)
    ours = json.loads((data / name).read_text())["Resources"]
    theirs = json.loads((l1_out / name).read_text())["Resources"]
    strip = {k: {"Type": v["Type"], "Properties": v.get("Properties")} for k, v in ours.items() if v["Type"] != "AWS::CDK::Metadata"}
    assert count == len(strip) and {k: {"Type": v["Type"], "Properties": v.get("Properties")}
                                    for k, v in theirs.items() if v["Type"] != "AWS::CDK::Metadata"} == strip
