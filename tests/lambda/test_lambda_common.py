"""lambda/common/lambda_common.py: the helpers every handler shares, and the assets that ship them.

* the helpers themselves (tolerant field access, readable text, SNS publish, tracer fallback);
* the conventions every handler follows: it imports the shared helpers instead of defining its own,
  reads its configuration at module scope only, and imports with no configuration at all;
* the bundled asset of every function (``constructs_lib.functions_code.stage_function``) holds the
  handler, ``lambda_common.py``, ``sagemaker_events.py`` and Powertools, and its handler imports and
  runs from that folder alone, in a fresh interpreter whose ``sys.path`` has only what Lambda's
  Python runtime adds (boto3 and its dependencies).
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import lambda_common as common
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from lambda_testkit import COMMON_DIR, LAMBDA_DIR, REGION, REPO, StubSNS

HANDLERS = sorted(p.parent.name for p in LAMBDA_DIR.glob("*/handler.py"))
# CloudFormation custom-resource handlers answer on the request's ResponseURL: no EventBridge envelope,
# no notification, no sagemaker_events vocabulary; the other conventions below hold for them too.
CUSTOM_RESOURCE_HANDLERS = ("endpoint_scaling_guard",)
EVENT_HANDLERS = [name for name in HANDLERS if name not in CUSTOM_RESOURCE_HANDLERS]
# Handlers that publish no notification themselves (the alarms they manage notify): no SNS helpers.
SILENT_HANDLERS = ("training_job_alarms",)
# Everything lambda_common defines: no handler may define one of these names again.
SHARED = sorted(
    name
    for name, value in vars(common).items()
    if getattr(value, "__module__", None) == common.__name__ and (callable(value) or isinstance(value, type))
)


class RecordingLogger:
    def __init__(self) -> None:
        self.records: list[tuple[str, str, dict[str, Any]]] = []

    def _record(self, level: str, message: str, extra: dict[str, Any] | None = None) -> None:
        self.records.append((level, message, extra or {}))

    def info(self, message: str, *, extra: dict[str, Any] | None = None) -> None:
        self._record("info", message, extra)

    def error(self, message: str, *, extra: dict[str, Any] | None = None) -> None:
        self._record("error", message, extra)

    def exception(self, message: str, *, extra: dict[str, Any] | None = None) -> None:
        self._record("exception", message, extra)


# --- the handlers use the shared module ------------------------------------------------------------
def test_all_handlers_exist():
    assert HANDLERS == [
        "endpoint_notifier",
        "endpoint_scaling_guard",
        "hyperpod_events",
        "idle_endpoint_guard",
        "model_deployer",
        "training_job_alarms",
        "training_job_notifier",
    ]


def test_shared_names_are_what_the_module_defines():
    expected = {"Envelope", "Notification", "_NoTracer", "as_text", "format_time", "publish", "ignored"}
    assert expected <= set(SHARED)


@pytest.mark.parametrize("name", EVENT_HANDLERS)
def test_handler_imports_lambda_common_and_redefines_none_of_it(name):
    tree = ast.parse((LAMBDA_DIR / name / "handler.py").read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert {"lambda_common", "sagemaker_events"} <= imported
    defined = {
        node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))
    }
    assert not defined & set(SHARED), f"{name} defines its own {sorted(defined & set(SHARED))}"


def test_handlers_share_the_very_same_objects(pure_handlers):
    for name, module in pure_handlers.items():
        if name in CUSTOM_RESOURCE_HANDLERS:
            assert module.common is common, name  # the same lambda_common, used as a module
            continue
        assert module.Envelope is common.Envelope, name
        assert module.clip is common.clip, name
        assert module.ignored.func is common.ignored and module.ignored.keywords == {"logger": module.logger}
        if name in SILENT_HANDLERS:
            assert not hasattr(module, "publish"), name
            continue
        assert module.Notification is common.Notification, name
        assert module.publish.func is common.publish and module.publish.keywords == {"logger": module.logger}


def test_handlers_import_with_no_configuration_at_all(pure_handlers):
    for name, module in pure_handlers.items():
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


def test_lambda_common_reads_no_environment_and_imports_only_what_lambda_has():
    tree = ast.parse((COMMON_DIR / "lambda_common.py").read_text())
    assert not any(isinstance(n, ast.Attribute) and n.attr == "environ" for n in ast.walk(tree))
    roots = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    roots |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    allowed = {"aws_lambda_powertools", "boto3", "botocore", "sagemaker_events"}
    assert roots - set(sys.stdlib_module_names) == allowed


# --- tolerant field access -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "expected"),
    [(" x ", "x"), (7, "7"), (1.5, "1.5"), (True, ""), (None, ""), ({"a": 1}, ""), (["a"], "")],
)
def test_as_text(value, expected):
    assert common.as_text(value) == expected


def test_as_object_and_as_objects():
    assert common.as_object({"a": 1}) == {"a": 1}
    assert common.as_object([1]) == {} and common.as_object(None) == {}
    assert common.as_objects([{"a": 1}, 2, "x", {"b": 2}]) == [{"a": 1}, {"b": 2}]
    assert common.as_objects({"a": 1}) == [] and common.as_objects(None) == []


def test_canonical_status_folds_spellings_of_known_statuses():
    known = common.known_values(common.ev.EndpointStatus)
    assert "InService" in known and "UpdateRollbackFailed" in known
    assert common.canonical_status("FAILED", known) == "Failed"
    assert common.canonical_status("IN_SERVICE", known) == "InService"
    assert common.canonical_status("failed", known) == "Failed"
    assert common.canonical_status("Exploding", known) == "Exploding"
    assert common.canonical_status(None, known) == ""


@pytest.mark.parametrize(
    ("code", "message", "expected"),
    [
        ("ValidationException", "Could not find endpoint \"x\".", True),
        ("ValidationException", "Model x does not exist.", True),
        ("ResourceNotFound", "Endpoint config not found", True),
        ("ValidationException", "Invalid parameter", False),
        ("ThrottlingException", "not found", False),
    ],
)
def test_is_not_found(code, message, expected):
    error = ClientError({"Error": {"Code": code, "Message": message}}, "DescribeEndpoint")
    assert common.is_not_found(error) is expected


# --- readable text ---------------------------------------------------------------------------------
def test_clip_marks_what_it_cuts():
    assert common.clip("abc", 3) == "abc"
    assert common.clip("abcdef", 4) == "abc\u2026"
    assert len(common.clip("x" * 5000)) == common.FIELD_MAX_CHARS


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1700000000, 1700000000.0),
        (1700000000123, 1700000000.123),
        ("1700000000", 1700000000.0),
        (" 1700000000.5 ", 1700000000.5),
        ("2026-11-22T08:30:00Z", None),
        (True, None),
        (None, None),
        (10**30, None),
        ("-5", None),
    ],
)
def test_epoch_seconds(value, expected):
    assert common.epoch_seconds(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1795336200, "2026-11-22T08:30:00Z"),
        ("2026-11-22T09:30:00+01:00", "2026-11-22T08:30:00Z"),
        ("2026-11-22T08:30:00", "2026-11-22T08:30:00Z"),
        ("yesterday", "yesterday"),
        ("", None),
        ("9" * 40, None),
        ({"t": 1}, None),
    ],
)
def test_format_time(value, expected):
    assert common.format_time(value) == expected


def test_origin_lines_name_region_account_and_time():
    envelope = common.Envelope.parse({"region": "eu-west-1", "time": "2026-11-22T08:30:00Z", "detail": {}})
    assert common.origin_lines(envelope) == [
        "Region:           eu-west-1",
        "Account:          (unknown)",
        "Time:             2026-11-22T08:30:00Z",
    ]


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
def test_sns_subject(text, expected):
    assert common.sns_subject(text) == expected


def test_bounded_message_never_splits_a_character():
    assert common.bounded_message("short") == "short"
    bounded = common.bounded_message("\u4e2d" * 5000, max_bytes=1000)
    assert len(bounded.encode()) <= 1000 and bounded.endswith("[message truncated]")
    assert len(common.bounded_message("x" * 20000).encode()) <= common.MESSAGE_MAX_BYTES


# --- the envelope ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("event", "detail_error", "is_object"),
    [
        ("not an event", "event is a str, not an object", False),
        ({"id": "1"}, "event has no detail", True),
        ({"id": "1", "detail": [1]}, "detail is a list, not an object", True),
        ({"id": "1", "detail": {}}, None, True),
    ],
)
def test_envelope_tolerates_malformed_events(event, detail_error, is_object):
    envelope = common.Envelope.parse(event)
    assert (envelope.detail_error, envelope.is_object) == (detail_error, is_object)


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        ([], "event is a list, not an object"),
        ({"detail-type": "Other", "detail": {}}, "unhandled detail-type 'Other'"),
        ({"detail-type": "Mine"}, "event has no detail"),
        ({"detail-type": "Mine", "detail": "x"}, "detail is a str, not an object"),
        ({"detail-type": "Mine", "detail": {}}, None),
    ],
)
def test_envelope_says_why_a_handler_cannot_act(event, reason):
    assert common.Envelope.parse(event).unhandled({"Mine"}) == reason


def test_envelope_reads_the_eventbridge_fields():
    envelope = common.Envelope.parse(
        {
            "id": " e-1 ",
            "detail-type": "SageMaker Endpoint State Change",
            "account": 123456789012,
            "region": "us-east-1",
            "time": "2026-11-22T08:30:00Z",
            "resources": ["arn:aws:sagemaker:us-east-1:123456789012:endpoint/x", 7],
            "detail": {"EndpointName": "x"},
        }
    )
    assert envelope.id == "e-1" and envelope.account == "123456789012"
    assert envelope.resources == ("arn:aws:sagemaker:us-east-1:123456789012:endpoint/x",)
    assert envelope.detail == {"EndpointName": "x"} and envelope.detail_error is None


# --- outcomes --------------------------------------------------------------------------------------
def test_publish_sends_subject_and_message_and_returns_the_message_id():
    sns, logger = StubSNS(), RecordingLogger()
    message_id = common.publish(sns, "arn:topic", common.Notification("s", "m"), logger=logger)
    assert message_id == "stub-1"
    assert sns.published == [{"TopicArn": "arn:topic", "Subject": "s", "Message": "m"}]
    assert logger.records == []


def test_publish_without_topic_logs_and_raises():
    logger = RecordingLogger()
    with pytest.raises(RuntimeError, match="TOPIC_ARN is not configured"):
        common.publish(StubSNS(), "", common.Notification("s", "m"), logger=logger)
    assert logger.records == [("error", "TOPIC_ARN is not configured; cannot notify", {})]


@pytest.mark.parametrize(
    "error",
    [
        ClientError({"Error": {"Code": "NotFound", "Message": "no topic"}}, "Publish"),
        EndpointConnectionError(endpoint_url="https://sns.us-east-1.amazonaws.com"),
    ],
)
def test_publish_failure_is_logged_and_raised_for_retry(error):
    class FailingSNS:
        def publish(self, **_: Any) -> dict[str, Any]:
            raise error

    logger = RecordingLogger()
    with pytest.raises(type(error)):
        common.publish(FailingSNS(), "arn:topic", common.Notification("s", "m"), logger=logger)
    assert logger.records == [("exception", "SNS publish failed", {"topic_arn": "arn:topic", "subject": "s"})]


def test_ignored_logs_the_reason_and_says_so():
    logger = RecordingLogger()
    assert common.ignored("why", logger=logger) == {"action": "ignored", "reason": "why"}
    assert logger.records == [("info", "Event ignored", {"reason": "why"})]


def test_notification_compose_makes_subject_and_message_acceptable_to_sns():
    notification = common.Notification.compose("a\nb \u00e9" + "x" * 200, ["line"] * 5000)
    assert notification.subject.startswith("a b ?") and len(notification.subject) == common.SUBJECT_MAX_CHARS
    assert notification.message.endswith("[message truncated]")
    assert len(notification.message.encode()) <= common.MESSAGE_MAX_BYTES


class RecordingMetrics:
    def __init__(self) -> None:
        self.added: list[tuple[str, float]] = []

    def add_metric(self, *, name: str, unit: Any, value: float) -> None:
        assert unit.value == "Count"
        self.added.append((name, value))


@pytest.mark.parametrize(
    ("action", "metric"),
    [("ignored", "EventsIgnored"), ("notified", "NotificationsPublished"), ("registered", "NotificationsPublished")],
)
def test_count_outcome(action, metric):
    metrics = RecordingMetrics()
    result = {"action": action}
    assert common.count_outcome(metrics, result) is result
    assert metrics.added == [(metric, 1)]


@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_lambda_handler_parses_the_event_and_counts_failures(monkeypatch):
    monkeypatch.setitem(sys.modules, "aws_xray_sdk", None)
    logger, tracer, metrics = common.powertools("unit-test", "AIPlatformTest")
    seen: list[tuple[Any, ...]] = []

    def run(envelope, event, context):
        seen.append((envelope.id, event, context))
        if envelope.detail_type == "Boom":
            raise ValueError("boom")
        return {"action": "ignored"}

    added: list[str] = []
    monkeypatch.setattr(metrics, "add_metric", lambda **kw: added.append(kw["name"]))
    handler = common.lambda_handler(run, logger=logger, tracer=tracer, metrics=metrics)

    class Context:
        function_name = "fn"
        memory_limit_in_mb = 128
        aws_request_id = "r"
        invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:fn"

    context = Context()
    assert handler({"id": "e-1", "detail": {}}, context) == {"action": "ignored"}
    assert seen == [("e-1", {"id": "e-1", "detail": {}}, context)] and added == []
    with pytest.raises(ValueError, match="boom"):
        handler({"id": "e-2", "detail-type": "Boom", "detail": {}}, context)
    assert added == ["ProcessingFailures"]


def test_powertools_names_the_logger_after_the_configured_service(monkeypatch):
    monkeypatch.setitem(sys.modules, "aws_xray_sdk", None)
    tools = common.powertools("svc", "Ns", "configured-name")
    assert tools.logger.service == "configured-name"
    assert common.powertools("svc", "Ns").logger.service == "svc"
    assert tools.metrics.namespace == "Ns" and type(tools.tracer).__name__ == "_NoTracer"


def test_clients_share_one_config(aws):
    sns, sagemaker = common.clients("sns", "sagemaker", read_timeout=30)
    assert sns.meta.service_model.service_name == "sns"
    assert sagemaker.meta.config.read_timeout == 30
    assert sagemaker.meta.config.retries["mode"] == "standard"


def test_boto_config_retries_in_standard_mode_with_short_timeouts():
    config = common.boto_config()
    assert config.retries == {"mode": "standard", "max_attempts": 5}
    assert (config.connect_timeout, config.read_timeout) == (5, 20)
    assert common.boto_config(read_timeout=30).read_timeout == 30


def test_tracer_falls_back_to_a_no_op_without_the_xray_sdk(monkeypatch):
    monkeypatch.setitem(sys.modules, "aws_xray_sdk", None)  # find_spec() -> None, as when not installed
    tracer = common.tracer_for("svc")
    assert type(tracer).__name__ == "_NoTracer" and tracer.disabled

    @tracer.capture_method(capture_response=False)
    def work(x: int) -> int:
        return x + 1

    assert work(1) == 2
    assert tracer.capture_lambda_handler(work) is work
    assert tracer.put_annotation("k", "v") is None


def test_metric_names_are_shared():
    assert (common.METRIC_NOTIFIED, common.METRIC_IGNORED, common.METRIC_FAILED) == (
        "NotificationsPublished",
        "EventsIgnored",
        "ProcessingFailures",
    )


def test_the_handlers_name_pattern_is_the_librarys_and_botocores():
    """One SageMaker name pattern: the handlers' (lambda_common, the shared schemas) is the one in
    sagemaker_events that the constructs and the config check with (limits.NAME_PATTERN), which is
    botocore's EndpointName/TrainingJobName/EntityName pattern."""
    import deploy_targets
    import job_alarm_requests
    import sagemaker_events
    from botocore.session import get_session

    from constructs_lib import limits

    assert common.NAME_RE is sagemaker_events.NAME_PATTERN is deploy_targets.NAME_PATTERN is job_alarm_requests.NAME_PATTERN
    assert common.NAME_RE.pattern == limits.NAME_PATTERN.pattern
    model = get_session().get_service_model("sagemaker")
    for operation, member in (("CreateEndpoint", "EndpointName"), ("CreateTrainingJob", "TrainingJobName"),
                              ("CreateModelPackageGroup", "ModelPackageGroupName")):
        shape = model.operation_model(operation).input_shape.members[member]
        assert limits.NAME_PATTERN.pattern == f"^{shape.metadata['pattern']}$", operation
    assert common.NAME_RE.match("acme-ml-dev-chat-llm") and not common.NAME_RE.match("-x")
    assert not common.NAME_RE.match("a" * 64) and not common.NAME_RE.match("a--")


# --- the bundled assets ----------------------------------------------------------------------------
# What Lambda's Python runtime puts on sys.path besides the function's folder: boto3 and its deps.
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")


@pytest.fixture(scope="module")
def staged(tmp_path_factory) -> dict[str, Path]:
    from constructs_lib.functions_code import stage_function

    root = tmp_path_factory.mktemp("staged-functions")
    return {name: stage_function(name, root / name) for name in HANDLERS}


@pytest.fixture(scope="module")
def layer(tmp_path_factory) -> Path:
    """The Powertools layer's content: what Lambda unpacks to /opt for every function of a stack."""
    from constructs_lib.functions_code import stage_layer

    return stage_layer(tmp_path_factory.mktemp("powertools-layer"))


@pytest.fixture(scope="module")
def tracing_vendored() -> bool:
    from constructs_lib.functions_code import tracing_vendored

    return tracing_vendored()


@pytest.fixture(scope="module")
def lambda_runtime(tmp_path_factory) -> Path:
    """A folder with only what the Lambda Python runtime provides (links into this environment)."""
    folder = tmp_path_factory.mktemp("lambda-runtime")
    for package in RUNTIME_PACKAGES:
        spec = importlib.util.find_spec(package)
        assert spec and spec.origin, package
        origin = Path(spec.origin)
        source = origin.parent if origin.name == "__init__.py" else origin
        (folder / source.name).symlink_to(source)
    return folder


@pytest.mark.parametrize("name", HANDLERS)
def test_asset_holds_the_handler_and_shared_modules_only(staged, name):
    root = staged[name]
    files = {p.name for p in root.iterdir()}
    from constructs_lib.functions_code import SHARED_SCHEMAS

    assert files == {"handler.py", "lambda_common.py", "sagemaker_events.py", *SHARED_SCHEMAS.get(name, ())} | {
        p.name for p in (LAMBDA_DIR / name).iterdir() if p.name not in ("__pycache__",)
    }
    for schema in SHARED_SCHEMAS.get(name, ()):
        assert (root / schema).read_bytes() == (REPO / "constructs_lib" / schema).read_bytes()
    assert (root / "handler.py").read_bytes() == (LAMBDA_DIR / name / "handler.py").read_bytes()
    assert (root / "lambda_common.py").read_bytes() == (COMMON_DIR / "lambda_common.py").read_bytes()
    # Powertools and its imports come from the stack's shared layer, not from a copy per function.
    assert not {"aws_lambda_powertools", "typing_extensions.py", "aws_xray_sdk", "wrapt", "python"} & files


def test_layer_holds_powertools_under_python_for_lambdas_sys_path(layer, tracing_vendored):
    # Lambda Developer Guide, "Packaging your layer content": Python runtimes add /opt/python to sys.path.
    assert [p.name for p in layer.iterdir()] == ["python"]
    packages = layer / "python"
    assert (packages / "aws_lambda_powertools" / "__init__.py").is_file()
    assert (packages / "typing_extensions.py").is_file()
    compiled = [p.name for p in layer.rglob("*") if p.suffix in (".so", ".pyd", ".c", ".pyc")]
    assert compiled == []  # built for this machine, not for Lambda
    names = {p.name for p in packages.iterdir()}
    if tracing_vendored:
        assert names == {"aws_lambda_powertools", "typing_extensions.py", "aws_xray_sdk", "wrapt"}
    else:
        assert names == {"aws_lambda_powertools", "typing_extensions.py"}


_ASSET_RUN = """
import importlib.util, json, os, sys
assets, layer, runtime, block_xray = sys.argv[1].split(":"), sys.argv[2], sys.argv[3], sys.argv[4] == "block"
if block_xray:
    sys.modules["aws_xray_sdk"] = None
base = list(sys.path)  # -I -S: the standard library only (no site-packages, no PYTHONPATH, no cwd)
class Context:
    function_name = "fn"; memory_limit_in_mb = 128; aws_request_id = "r"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:fn"
    def get_remaining_time_in_millis(self): return 1000
names = ("lambda_common", "sagemaker_events", "aws_lambda_powertools", "typing_extensions", "aws_xray_sdk",
         "wrapt", "boto3")
results = {}
for asset in assets:
    # Lambda's order: the function's folder, the layer's python/ (/opt/python), the runtime's packages.
    # One function at a time: only its folder is on the path, and nothing imported from another
    # function's folder stays loaded (the layer's and the runtime's modules are the same files for all).
    sys.path[:] = [asset, layer + "/python", runtime, *base]
    os.environ["LAMBDA_TASK_ROOT"] = asset
    for name, loaded in list(sys.modules.items()):
        origin = getattr(loaded, "__file__", None) or ""
        if name == "handler" or any(origin.startswith(other + "/") for other in assets):
            del sys.modules[name]
    spec = importlib.util.spec_from_file_location("handler", asset + "/handler.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["handler"] = module
    spec.loader.exec_module(module)
    event = {"id": "1", "detail-type": "Something Else", "source": "aws.sagemaker", "detail": {}}
    action = module.handler(event, Context())["action"]
    origins = {n: getattr(sys.modules.get(n), "__file__", None) for n in names}
    wrapt_c = getattr(sys.modules.get("wrapt.__wrapt__"), "_using_c_extension", None)
    results[asset] = {"tracer": type(module.tracer).__name__, "disabled": module.tracer.disabled,
                      "action": action, "origins": origins, "wrapt_c": wrapt_c}
print(json.dumps(results))
"""


def _run_assets(roots: list[Path], layer: Path, runtime: Path, mode: str) -> dict[Path, dict[str, Any]]:
    """Runs each asset's handler, in turn, in one fresh interpreter with Lambda's environment (one
    interpreter per function cost about 1.5 CPU-s each, most of it importing boto3 and Powertools)."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_LAMBDA_FUNCTION_NAME": "fn",  # as inside Lambda: Powertools traces unless disabled
        "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
        "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
    }
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", _ASSET_RUN, ":".join(map(str, roots)), str(layer), str(runtime), mode],
        env=env,
        cwd=roots[0],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout.strip().splitlines()[-1])
    return {Path(asset): result for asset, result in results.items()}


@pytest.fixture(scope="module")
def asset_runs(staged, layer, lambda_runtime) -> dict[Path, dict[str, Any]]:
    return _run_assets([staged[name] for name in HANDLERS], layer, lambda_runtime, "vendored")


@pytest.mark.parametrize("name", HANDLERS)
def test_handler_runs_from_its_asset_and_the_layer_alone(staged, layer, lambda_runtime, tracing_vendored, asset_runs, name):
    root = staged[name]
    result = asset_runs[root]
    assert result["action"] == "ignored"
    origins = result["origins"]
    ours = ("lambda_common",) + (("sagemaker_events",) if name in EVENT_HANDLERS else ())
    for module in ours:
        assert origins[module].startswith(str(root) + "/"), (module, origins[module])
    for module in ("aws_lambda_powertools", "typing_extensions"):
        assert origins[module].startswith(str(layer / "python")), (module, origins[module])
    assert origins["boto3"].startswith(str(lambda_runtime))
    if tracing_vendored:
        assert (result["tracer"], result["disabled"]) == ("Tracer", False)  # traced, as in Lambda
        assert origins["aws_xray_sdk"].startswith(str(layer)) and origins["wrapt"].startswith(str(layer))
        assert result["wrapt_c"] is False  # wrapt's pure-Python implementation
    else:
        assert result["tracer"] == "_NoTracer"


def test_handlers_run_untraced_when_the_layer_lacks_the_xray_sdk(staged, layer, lambda_runtime):
    (result,) = _run_assets([staged["endpoint_notifier"]], layer, lambda_runtime, "block").values()
    assert (result["tracer"], result["action"]) == ("_NoTracer", "ignored")


# --- messages people can trust (issue: no forged lines, one message per event id) -------------------
def test_event_text_cannot_forge_lines_or_reorder_what_is_read():
    forged = "OOM\nStatus:           Completed\r\nApproved by: security\u2028x\u202etxt.exe\x1b[31m"
    notification = common.Notification.compose(f"Job {forged}", [f"Failure reason:   {forged}", "Region: r"])
    assert notification.message.split("\n") == [
        "Failure reason:   OOM Status:           Completed Approved by: security x txt.exe [31m",
        "Region: r",
    ]
    assert "\n" not in notification.subject and "\u202e" not in notification.subject
    assert common.one_line("a\tb\x85c\u2029d") == "a b c d"


def test_once_per_event_runs_once_per_id_and_again_after_a_failure(aws, lambda_context):
    import boto3

    boto3.client("dynamodb", region_name="us-east-1").create_table(
        TableName="dedup", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
    )
    runs: list[str] = []
    fail = {"next": True}

    def run(envelope, event, context):
        runs.append(envelope.id)
        if envelope.id == "b" and fail["next"]:
            fail["next"] = False
            raise RuntimeError("SNS down")
        return {"action": "notified", "id": envelope.id}

    once = common.once_per_event(run, table_name="dedup", expiry_seconds=3600, key_prefix="test")
    for event_id in ("a", "a"):
        event = {"id": event_id, "detail-type": "x", "detail": {}}
        assert once(common.Envelope.parse(event), event, lambda_context) == {"action": "notified", "id": "a"}
    event_b = {"id": "b", "detail": {}}
    with pytest.raises(RuntimeError):
        once(common.Envelope.parse(event_b), event_b, lambda_context)
    assert once(common.Envelope.parse(event_b), event_b, lambda_context)["id"] == "b"  # retried, not remembered
    once(common.Envelope.parse("x"), "x", lambda_context)  # no id: simply run
    assert runs == ["a", "b", "b", ""]
    assert common.once_per_event(run, table_name="", expiry_seconds=1, key_prefix="t") is run
