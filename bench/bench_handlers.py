"""Benchmark of the Lambda handlers in lambda/<name>/handler.py.

Run from the repository root: ``.venv/bin/python bench/bench_handlers.py [--repeat N] [--iterations N]``.

* Cold import: each handler module is imported in a fresh interpreter (subprocess), the way a Lambda cold
  start imports it (boto3, Powertools, module-scope clients and configuration), ``--repeat`` times; the
  median is reported next to the interpreter's own start-up (``python -c pass``), and once more with the
  X-Ray SDK hidden, as in the asset (the handlers then use a no-op tracer).
* Per event: every sample event in tests/events is handled ``--iterations`` times in-process with stubbed
  clients (no moto, no network), logs and metrics going to /dev/null. The baseline is ``json.loads`` of
  the same event (the no-op parse every invocation pays); the ratio says how many baselines one event costs.

Numbers are indicative only (shared machine, no pinning); nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import importlib.util
import json
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from botocore.exceptions import ClientError

REPO = Path(__file__).resolve().parents[1]
LAMBDA_DIR = REPO / "lambda"
EVENTS_DIR = REPO / "tests" / "events"

ENV = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "POWERTOOLS_TRACE_DISABLED": "1",
    "POWERTOOLS_METRICS_NAMESPACE": "AIPlatformBench",
    "TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:aiplatform-bench",
    "MODEL_PACKAGE_GROUP": "llm-finetune-models",
    "INFERENCE_IMAGE": "123456789012.dkr.ecr.us-east-1.amazonaws.com/llm-serving:1.4.0",
    "DEPLOY_TARGETS": json.dumps({"chat-llm-models": ["chat-llm"]}),
    "MODEL_EXECUTION_ROLE_ARN": "arn:aws:iam::123456789012:role/sagemaker-model-execution",
    "AUTO_REPAIR_CLUSTERS": json.dumps(["llm-pretrain"]),
    "ENDPOINTS": json.dumps(["chat-llm", "batch-async", "ic-endpoint"]),
    "SCALE_TO_ZERO_ENDPOINTS": json.dumps(["batch-async", "ic-endpoint"]),
}
SCHEDULED_EVENT = {
    "version": "0",
    "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": "123456789012",
    "time": "2026-11-28T06:00:00Z",
    "region": "us-east-1",
    "resources": ["arn:aws:events:us-east-1:123456789012:rule/aiplatform-idle-guard"],
    "detail": {},
}
EVENTS = {
    "endpoint_notifier": ["endpoint-failed.json", "endpoint-deployment-baking.json"],
    "training_job_notifier": ["training-job-failed.json", "training-job-completed.json"],
    "model_deployer": ["model-package-approved.json"],
    "hyperpod_events": [
        "hyperpod-cluster-failed.json",
        "hyperpod-cluster-event-error.json",
        "hyperpod-node-health-replace.json",
    ],
    "idle_endpoint_guard": ["scheduled"],
}


# --- stubbed clients: constant answers, no state, so every iteration does the same work --------------
class StubClient:
    """Answers every call with a canned response (see RESPONSES); a callable response may raise."""

    RESPONSES: ClassVar[dict[str, Any]] = {
        "publish": {"MessageId": "bench-message"},
        "describe_endpoint": lambda kw: {
            "EndpointName": kw["EndpointName"],
            "EndpointConfigName": "old-config",
            "EndpointStatus": "InService",
            "CreationTime": 1_600_000_000,
            "ProductionVariants": [{"VariantName": "AllTraffic"}],
            **({"AsyncInferenceConfig": {"OutputConfig": {}}} if kw["EndpointName"] == "batch-async" else {}),
        },
        "describe_model_package": lambda kw: {
            "ModelPackageArn": kw["ModelPackageName"],
            "ModelPackageVersion": 7,
            "ModelApprovalStatus": "Approved",
            "ModelPackageStatus": "Completed",
            "InferenceSpecification": {"Containers": [{"Image": "img", "ModelDataUrl": "s3://b/m.tar.gz"}]},
        },
        "describe_model": lambda kw: _not_found("model"),
        "create_model": {"ModelArn": "arn:model"},
        "describe_endpoint_config": lambda kw: (
            _not_found("endpoint configuration")
            if kw["EndpointConfigName"] != "old-config"
            else {
                "EndpointConfigName": "old-config",
                "KmsKeyId": "arn:aws:kms:us-east-1:123456789012:key/k",
                "ProductionVariants": [
                    {
                        "VariantName": "AllTraffic",
                        "ModelName": "m-old",
                        "InstanceType": "ml.m5.xlarge",
                        "InitialInstanceCount": 2,
                    }
                ],
            }
        ),
        "create_endpoint_config": {"EndpointConfigArn": "arn:config"},
        "update_endpoint": {"EndpointArn": "arn:endpoint"},
        "create_model_package": {
            "ModelPackageArn": "arn:aws:sagemaker:us-east-1:123456789012:model-package/g/3"
        },
        "batch_replace_cluster_nodes": {"Successful": ["i-0123456789abcdef0"]},
        "batch_reboot_cluster_nodes": {"Successful": ["i-0123456789abcdef0"]},
        "get_metric_data": lambda kw: {
            "MetricDataResults": [
                {"Id": q["Id"], "Values": [3.0] if i == 0 else []}
                for i, q in enumerate(kw["MetricDataQueries"])
            ]
        },
        "describe_scalable_targets": {"ScalableTargets": [{"MinCapacity": 1, "MaxCapacity": 4}]},
        "register_scalable_target": {},
        "list_inference_components": lambda kw: {
            "InferenceComponents": [
                {"InferenceComponentName": "ic-a", "InferenceComponentStatus": "InService"}
            ]
            if kw["EndpointNameEquals"] == "ic-endpoint"
            else []
        },
        "update_inference_component_runtime_config": {"InferenceComponentArn": "arn:ic"},
    }

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name not in self.RESPONSES:
            raise AttributeError(name)  # e.g. ``meta``: the handlers fall back as for any stub client
        response = self.RESPONSES[name]

        def call(**kwargs: Any) -> Any:
            return response(kwargs) if callable(response) else response

        return call


def _not_found(what: str) -> Any:
    raise ClientError(
        {"Error": {"Code": "ValidationException", "Message": f"Could not find {what}"}}, "Describe"
    )


class Context:
    function_name = "aiplatform-bench"
    function_version = "$LATEST"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:aiplatform-bench"
    aws_request_id = "bench-request"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 60_000


# --- measurements ------------------------------------------------------------------------------------
_IMPORT_SNIPPET = """
import importlib.util, sys, time
if {asset_like!r}:  # the Lambda asset vendors Powertools but not the X-Ray SDK
    sys.modules["aws_xray_sdk"] = None
sys.path.insert(0, {events_dir!r})
start = time.perf_counter()
spec = importlib.util.spec_from_file_location("handler", {path!r})
module = importlib.util.module_from_spec(spec)
sys.modules["handler"] = module
spec.loader.exec_module(module)
print(time.perf_counter() - start)
"""


def _run(code: str, env: dict[str, str]) -> float:
    start = time.perf_counter()
    output = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - start
    if output.returncode:
        raise SystemExit(f"import failed:\n{output.stderr}")
    return float(output.stdout.strip().splitlines()[-1]) if output.stdout.strip() else elapsed


def cold_imports(
    names: list[str], repeat: int, staging: str
) -> tuple[float, dict[str, tuple[float, float, float]]]:
    """Median interpreter start (s) and, per handler, median (import, whole process, import without the
    X-Ray SDK as in the asset) times."""
    env = {**os.environ, **ENV}
    startup = statistics.median(_timed_process("pass", env) for _ in range(repeat))
    results = {}
    for name in names:
        path = str(LAMBDA_DIR / name / "handler.py")
        code = _IMPORT_SNIPPET.format(events_dir=staging, path=path, asset_like=False)
        asset_code = _IMPORT_SNIPPET.format(events_dir=staging, path=path, asset_like=True)
        imports, totals, asset_imports = [], [], []
        for _ in range(repeat):
            begin = time.perf_counter()
            imports.append(_run(code, env))
            totals.append(time.perf_counter() - begin)
            asset_imports.append(_run(asset_code, env))
        results[name] = (
            statistics.median(imports),
            statistics.median(totals),
            statistics.median(asset_imports),
        )
    return startup, results


def _timed_process(code: str, env: dict[str, str]) -> float:
    begin = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], env=env, check=True)
    return time.perf_counter() - begin


def load_in_process(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", LAMBDA_DIR / name / "handler.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    devnull = open(os.devnull, "w")  # noqa: SIM115 - kept open for the rest of the run
    for handler in logging.getLogger(name.replace("_", "-")).handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(devnull)
    for attr in ("sns_client", "sagemaker_client", "cloudwatch_client", "autoscaling_client"):
        if hasattr(module, attr):
            setattr(module, attr, StubClient())
    return module


def _per_call(function: Callable[[], Any], iterations: int) -> float:
    """Median over 5 batches of the mean seconds per call."""
    batches = []
    for _ in range(5):
        begin = time.perf_counter()
        for _ in range(iterations):
            function()
        batches.append((time.perf_counter() - begin) / iterations)
    return statistics.median(batches)


def per_event(names: list[str], iterations: int, staging: str) -> list[tuple[str, str, str, float, float]]:
    """(handler, event, action, seconds per event, baseline seconds) for every sample event."""
    sys.path.insert(0, staging)  # `import sagemaker_events`, as in the asset
    rows = []
    context = Context()
    with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
        for name in names:
            module = load_in_process(name)
            for event_name in EVENTS[name]:
                event = (
                    SCHEDULED_EVENT
                    if event_name == "scheduled"
                    else json.loads((EVENTS_DIR / event_name).read_text())
                )
                raw = json.dumps(event)
                action = module.handler(copy.deepcopy(event), context)["action"]
                handled = _per_call(lambda m=module, r=raw: m.handler(json.loads(r), context), iterations)
                baseline = _per_call(lambda r=raw: json.loads(r), iterations * 10)
                rows.append((name, event_name, action, handled, baseline))
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="cold imports per handler (median)")
    parser.add_argument("--iterations", type=int, default=200, help="events per timing batch")
    args = parser.parse_args(argv)
    os.environ.update(ENV)
    names = [name for name in EVENTS if (LAMBDA_DIR / name / "handler.py").is_file()]

    with tempfile.TemporaryDirectory() as staging:
        stage_shared_modules(Path(staging))
        run(names, args, staging)


def stage_shared_modules(staging: Path) -> None:
    """The modules the bundler puts next to every handler (constructs_lib/functions_code.py): the shared
    ``lambda/common/*.py``, ``sagemaker_events.py`` and the shared schemas; not constructs_lib/ itself, whose ``platform``
    package would shadow the standard library's."""
    sys.path.insert(0, str(REPO))
    from constructs_lib.functions_code import SHARED_SCHEMAS, common_source_dir

    for shared in sorted(common_source_dir().glob("*.py")):
        shutil.copy2(shared, staging / shared.name)
    shutil.copy2(REPO / "constructs_lib" / "sagemaker_events.py", staging / "sagemaker_events.py")
    for schema in sorted({s for schemas in SHARED_SCHEMAS.values() for s in schemas}):  # e.g. deploy_targets.py
        shutil.copy2(REPO / "constructs_lib" / schema, staging / schema)


def run(names: list[str], args: argparse.Namespace, staging: str) -> None:
    startup, imports = cold_imports(names, args.repeat, staging)
    print(
        f"Cold import (fresh interpreter, median of {args.repeat}; interpreter start alone {startup * 1000:.0f} ms)"
    )
    print(f"{'handler':24} {'import ms':>10} {'process ms':>11} {'x start':>8} {'no X-Ray ms':>12}")
    for name, (imported, total, asset_like) in imports.items():
        print(
            f"{name:24} {imported * 1000:10.0f} {total * 1000:11.0f} {total / startup:8.1f} "
            f"{asset_like * 1000:12.0f}"
        )

    rows = per_event(names, args.iterations, staging)
    print()
    print(
        f"Per event (stubbed clients, {args.iterations} x 5 batches, median); baseline = json.loads of the event"
    )
    print(f"{'handler':24} {'event':38} {'action':17} {'us/event':>9} {'baseline us':>12} {'ratio':>8}")
    for name, event_name, action, handled, baseline in rows:
        print(
            f"{name:24} {event_name:38} {action:17} {handled * 1e6:9.1f} {baseline * 1e6:12.2f} "
            f"{handled / baseline:8.0f}"
        )


if __name__ == "__main__":
    main()
