"""Every handler carries the same small helpers (each asset ships one handler.py): keep them identical.

Also checks the conventions every handler shares: module-scope configuration with safe defaults, the
Powertools trio, and the sagemaker_events import that works both in the asset and in the repository.
"""

from __future__ import annotations

import ast
import inspect
import json
import os
import shutil
import subprocess
import sys

import pytest
from lambda_testkit import LAMBDA_DIR, REPO, TEST_ENV

HANDLERS = sorted(p.parent.name for p in LAMBDA_DIR.glob("*/handler.py"))
SHARED = (
    "_NoTracer",
    "Envelope",
    "_s",
    "_obj",
    "_dicts",
    "canonical_status",
    "clip",
    "_epoch_seconds",
    "format_time",
    "sns_subject",
    "bounded_message",
    "publish",
    "ignored",
)


@pytest.fixture
def modules(pure_handlers):
    return pure_handlers


def test_all_five_handlers_exist():
    assert HANDLERS == [
        "endpoint_notifier",
        "hyperpod_events",
        "idle_endpoint_guard",
        "model_deployer",
        "training_job_notifier",
    ]


@pytest.mark.parametrize("helper", SHARED)
def test_shared_helpers_are_identical_in_every_handler(modules, helper):
    sources = {name: inspect.getsource(getattr(module, helper)) for name, module in modules.items()}
    reference = sources["endpoint_notifier"]
    assert all(source == reference for source in sources.values()), [
        n for n, s in sources.items() if s != reference
    ]


def test_handlers_import_with_no_configuration_at_all(modules):
    for name, module in modules.items():
        assert callable(module.handler), name
        assert module.METRICS_NAMESPACE == "AIPlatformTest"
        assert module.tracer.disabled, name  # POWERTOOLS_TRACE_DISABLED=1, and no X-Ray daemon needed


@pytest.mark.parametrize("name", HANDLERS)
def test_no_environment_reads_inside_functions(name):
    """Configuration is read once at import (module scope), never per invocation."""
    tree = ast.parse((LAMBDA_DIR / name / "handler.py").read_text())
    for function in (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)):
        for node in ast.walk(function):
            if isinstance(node, ast.Attribute) and node.attr == "environ":
                pytest.fail(f"{name}: {function.name} reads os.environ")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[p] Endpoint chat-llm Failed", "[p] Endpoint chat-llm Failed"),
        ("a\nb\r\tc", "a b c"),
        ("caf\u00e9 \u4e2d", "caf? ?"),
        ("x" * 150, "x" * 96 + "..."),
        ("", "SageMaker notification"),
    ],
)
def test_sns_subject(modules, text, expected):
    assert modules["endpoint_notifier"].sns_subject(text) == expected


def test_bounded_message_never_splits_a_character(modules):
    bounded = modules["endpoint_notifier"].bounded_message("\u4e2d" * 5000, max_bytes=1000)
    assert len(bounded.encode()) <= 1000 and bounded.endswith("[message truncated]")
    bounded.encode("utf-8")  # valid text


_ASSET_SMOKE = """
import importlib.util, json, sys
# What the Lambda asset lacks: the X-Ray SDK, pydantic, the CDK library and this repository.
for name in ("aws_xray_sdk", "aws_xray_sdk.core", "pydantic", "aws_cdk", "constructs_lib", "moto"):
    sys.modules[name] = None
sys.path.insert(0, sys.argv[1])
class Context:
    function_name = "fn"; memory_limit_in_mb = 128; aws_request_id = "r"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:fn"
    def get_remaining_time_in_millis(self): return 1000
results = {}
for path in sys.argv[2:]:
    spec = importlib.util.spec_from_file_location("handler_" + str(len(results)), path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    event = {"id": "1", "detail-type": "Something Else", "source": "aws.sagemaker", "detail": {}}
    results[path] = (type(module.tracer).__name__, module.handler(event, Context())["action"])
print(json.dumps(results))
"""


def test_handlers_run_with_only_what_the_asset_ships(tmp_path):
    """Powertools' Tracer imports aws_xray_sdk even when disabled; the asset does not vendor it."""
    shutil.copy2(REPO / "constructs_lib" / "sagemaker_events.py", tmp_path / "sagemaker_events.py")
    env = {k: v for k, v in os.environ.items() if k != "POWERTOOLS_TRACE_DISABLED"}
    env.update(
        {k: v for k, v in TEST_ENV.items() if k != "POWERTOOLS_TRACE_DISABLED"},
        LAMBDA_TASK_ROOT=str(tmp_path),
        AWS_LAMBDA_FUNCTION_NAME="fn",
    )  # as inside Lambda
    paths = [str(LAMBDA_DIR / name / "handler.py") for name in HANDLERS]
    done = subprocess.run(
        [sys.executable, "-c", _ASSET_SMOKE, str(tmp_path), *paths],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout.strip().splitlines()[-1])
    assert len(results) == len(HANDLERS)
    assert {tuple(outcome) for outcome in results.values()} == {("_NoTracer", "ignored")}, results
