"""lambda/idle_endpoint_guard: report idle endpoints; scale opted-in ones to zero where supported.

moto gaps worked around here: DescribeEndpoint in moto 5.2.5 never returns ``AsyncInferenceConfig`` and
always reports a fresh ``CreationTime``, so the tests set both on moto's endpoint objects; moto has no
ListInferenceComponents / UpdateInferenceComponentRuntimeConfig, so those two are RecordingClient
overrides (requests validated against the botocore model). CloudWatch GetMetricData and Application Auto
Scaling run on moto.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from lambda_testkit import REGION, Inbox, RecordingClient, StubSNS, emf_metric_names, events_for, sns_inbox
from moto.sagemaker.models import sagemaker_backends

NAME = "idle_endpoint_guard"
ROLE = "arn:aws:iam::123456789012:role/sagemaker-model-execution"
SCHEDULED = {
    "version": "0",
    "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": "123456789012",
    "time": "2026-11-28T06:00:00Z",
    "region": REGION,
    "resources": ["arn:aws:events:us-east-1:123456789012:rule/aiplatform-idle-guard"],
    "detail": {},
}
IC_COMPONENTS = [
    {
        "InferenceComponentName": "ic-llama",
        "InferenceComponentStatus": "InService",
        "EndpointName": "ic-endpoint",
    },
    {
        "InferenceComponentName": "ic-mistral",
        "InferenceComponentStatus": "Creating",
        "EndpointName": "ic-endpoint",
    },
]


def _backend():
    return sagemaker_backends["123456789012"][REGION]


def make_endpoint(
    sm, name: str, *, serverless: bool = False, async_: bool = False, age_hours: float = 72
) -> None:
    sm.create_model(ModelName=f"{name}-model", PrimaryContainer={"Image": "img"}, ExecutionRoleArn=ROLE)
    variant: dict[str, Any] = {"VariantName": "AllTraffic", "ModelName": f"{name}-model"}
    if serverless:
        variant["ServerlessConfig"] = {"MemorySizeInMB": 2048, "MaxConcurrency": 5}
    else:
        variant.update(InstanceType="ml.m5.xlarge", InitialInstanceCount=1)
    sm.create_endpoint_config(EndpointConfigName=f"{name}-config", ProductionVariants=[variant])
    sm.create_endpoint(EndpointName=name, EndpointConfigName=f"{name}-config")
    endpoint = _backend().endpoints[name]
    endpoint.creation_time = datetime.now(UTC) - timedelta(hours=age_hours)
    if async_:
        endpoint.async_inference_config = {"OutputConfig": {"S3OutputPath": "s3://bucket/async-out"}}


def invoke(
    name: str, count: float, hours_ago: float = 2, metric: str = "Invocations", variant: str | None = "AllTraffic"
) -> None:
    dimensions = [{"Name": "EndpointName", "Value": name}]
    if variant:
        dimensions.append({"Name": "VariantName", "Value": variant})
    boto3.client("cloudwatch", region_name=REGION).put_metric_data(
        Namespace="AWS/SageMaker",
        MetricData=[
            {
                "MetricName": metric,
                "Value": count,
                "Timestamp": datetime.now(UTC) - timedelta(hours=hours_ago),
                "Dimensions": dimensions,
            }
        ],
    )


def watched(name: str, kind: str = "realtime", components: tuple[str, ...] = ()) -> dict[str, Any]:
    """An ENDPOINTS entry as IdleEndpointGuard writes it (the kind comes from the construct)."""
    entry: dict[str, Any] = {"EndpointName": name, "Kind": kind}
    if components:
        entry["InferenceComponents"] = list(components)
    return entry


ASYNC = watched("batch-async", "async")
IC = watched("ic-endpoint", "inference-components", ("ic-llama", "ic-mistral"))


@pytest.fixture
def inbox(aws: None) -> Inbox:
    return sns_inbox()


@pytest.fixture
def sm(aws: None):
    return boto3.client("sagemaker", region_name=REGION)


@pytest.fixture
def guard(load_handler, inbox, monkeypatch):
    def load(endpoints: list[str], scale: list[str] = (), hours: str | None = None, components=IC_COMPONENTS):
        module = load_handler(
            NAME,
            TOPIC_ARN=inbox.topic_arn,
            ENDPOINTS=json.dumps(endpoints),
            SCALE_TO_ZERO_ENDPOINTS=json.dumps(list(scale)),
            IDLE_HOURS=hours,
        )

        def list_components(**kwargs: Any) -> dict[str, Any]:
            return {
                "InferenceComponents": [
                    c for c in components if c["EndpointName"] == kwargs["EndpointNameEquals"]
                ]
            }

        sagemaker = RecordingClient(
            module.sagemaker_client,
            overrides={
                "list_inference_components": list_components,
                "update_inference_component_runtime_config": lambda **kw: {"InferenceComponentArn": "arn:ic"},
            },
        )
        cloudwatch = RecordingClient(module.cloudwatch_client)
        autoscaling = RecordingClient(module.autoscaling_client)
        monkeypatch.setattr(module, "sagemaker_client", sagemaker)
        monkeypatch.setattr(module, "cloudwatch_client", cloudwatch)
        monkeypatch.setattr(module, "autoscaling_client", autoscaling)
        module.rec = {"sagemaker": sagemaker, "cloudwatch": cloudwatch, "autoscaling": autoscaling}
        return module

    return load


def register_async_target(name: str, minimum: int, maximum: int = 4) -> None:
    boto3.client("application-autoscaling", region_name=REGION).register_scalable_target(
        ServiceNamespace="sagemaker",
        ResourceId=f"endpoint/{name}/variant/AllTraffic",
        ScalableDimension="sagemaker:variant:DesiredInstanceCount",
        MinCapacity=minimum,
        MaxCapacity=maximum,
    )


def scalable_target(name: str) -> dict[str, Any]:
    return boto3.client("application-autoscaling", region_name=REGION).describe_scalable_targets(
        ServiceNamespace="sagemaker",
        ResourceIds=[f"endpoint/{name}/variant/AllTraffic"],
        ScalableDimension="sagemaker:variant:DesiredInstanceCount",
    )["ScalableTargets"][0]


def test_reports_idle_endpoints_and_scales_opted_in_ones(guard, sm, inbox, lambda_context, capsys):
    for name, kwargs in [
        ("chat-llm", {}),
        ("batch-async", {"async_": True}),
        ("ic-endpoint", {}),
        ("tiny-serverless", {"serverless": True}),
        ("rt-idle", {}),
    ]:
        make_endpoint(sm, name, **kwargs)
    invoke("chat-llm", 5)
    invoke("rt-idle", 9, hours_ago=30)  # outside the 24 h window
    register_async_target("batch-async", minimum=1, maximum=4)
    module = guard(
        ["chat-llm", ASYNC, IC, watched("tiny-serverless", "serverless"), "rt-idle", "gone"],
        scale=["batch-async", "ic-endpoint", "tiny-serverless"],
    )

    result = module.handler(copy.deepcopy(SCHEDULED), lambda_context)

    assert result["action"] == "reported"
    assert result["idle"] == ["batch-async", "ic-endpoint", "tiny-serverless", "rt-idle"]
    verdicts = {c["endpoint"]: c["verdict"] for c in result["checked"]}
    assert verdicts == {
        "chat-llm": "active",
        "batch-async": "idle",
        "ic-endpoint": "idle",
        "tiny-serverless": "idle",
        "rt-idle": "idle",
        "gone": "missing",
    }
    # async: MinCapacity lowered to 0 on the existing target, MaxCapacity kept
    assert (scalable_target("batch-async")["MinCapacity"], scalable_target("batch-async")["MaxCapacity"]) == (
        0,
        4,
    )
    # inference components: only the InService one is set to zero copies
    assert module.rec["sagemaker"].calls_to("update_inference_component_runtime_config") == [
        {"InferenceComponentName": "ic-llama", "DesiredRuntimeConfig": {"CopyCount": 0}}
    ]
    # metrics queried per kind with the documented dimensions, 1-hour periods over 24 h
    # one call for every endpoint's signals, one for the opted-in endpoint's inference components
    query_call, component_call = module.rec["cloudwatch"].calls_to("get_metric_data")
    assert [
        (q["MetricStat"]["Metric"]["MetricName"], q["MetricStat"]["Stat"], q["MetricStat"]["Metric"]["Dimensions"][0]["Value"])
        for q in query_call["MetricDataQueries"]
    ] == [
        ("Invocations", "Sum", "chat-llm"),
        ("InvocationsProcessed", "Sum", "batch-async"),
        ("ApproximateBacklogSize", "Maximum", "batch-async"),
        ("Invocations", "Sum", "ic-llama"),
        ("Invocations", "Sum", "ic-mistral"),
        ("Invocations", "Sum", "tiny-serverless"),
        ("Invocations", "Sum", "rt-idle"),
    ]
    assert [q["MetricStat"]["Metric"]["Dimensions"] for q in component_call["MetricDataQueries"]] == [
        [{"Name": "InferenceComponentName", "Value": "ic-llama"}],
        [{"Name": "InferenceComponentName", "Value": "ic-mistral"}],
    ]
    assert query_call["EndTime"] - query_call["StartTime"] == timedelta(hours=24)
    first = query_call["MetricDataQueries"][0]["MetricStat"]
    assert first["Metric"] == {
        "Namespace": "AWS/SageMaker",
        "MetricName": "Invocations",
        "Dimensions": [
            {"Name": "EndpointName", "Value": "chat-llm"},
            {"Name": "VariantName", "Value": "AllTraffic"},
        ],
    }
    assert (first["Period"], first["Stat"]) == (3600, "Sum")

    [message] = inbox.messages()
    assert message["Subject"] == (
        "[aiplatform] 4 idle endpoint(s): batch-async, ic-endpoint, tiny-serverless, rt-idle; 1 missing"
    )
    body = message["Message"]
    for text in (
        "IDLE     batch-async (async, variants: AllTraffic)",
        "action: AllTraffic: min-capacity-set-to-0 (was 1)",
        "action: ic-llama: copy-count-set-to-0",
        "action: ic-mistral: skipped (status Creating)",
        "action: serverless: scales to zero by itself, nothing to do",
        "IDLE     rt-idle (realtime, variants: AllTraffic)\n         action: report only",
        "MISSING  gone: endpoint not found",
        "chat-llm: active (5 invocations)",
    ):
        assert text in body
    names = emf_metric_names(capsys.readouterr().out)
    assert names.count("IdleEndpoints") == 1 and names.count("ScaleToZeroActions") == 1  # counted values
    assert "NotificationsPublished" in names and "EndpointsChecked" in names


def test_inference_component_endpoint_is_judged_on_its_components_invocations(guard, sm, lambda_context):
    """Per-component Invocations (dimension InferenceComponentName) decide; nothing is scaled."""
    make_endpoint(sm, "ic-endpoint")
    boto3.client("cloudwatch", region_name=REGION).put_metric_data(
        Namespace="AWS/SageMaker",
        MetricData=[
            {
                "MetricName": "Invocations",
                "Value": 12,
                "Timestamp": datetime.now(UTC) - timedelta(hours=1),
                "Dimensions": [{"Name": "InferenceComponentName", "Value": "ic-llama"}],
            }
        ],
    )
    module = guard([IC], scale=["ic-endpoint"])
    result = module.handler(copy.deepcopy(SCHEDULED), lambda_context)
    assert result["idle"] == [] and result["checked"][0]["signals"] == {"Invocations": 12.0}
    assert module.rec["sagemaker"].calls_to("update_inference_component_runtime_config") == []
    [query] = module.rec["cloudwatch"].calls_to("get_metric_data")
    assert [q["MetricStat"]["Metric"]["Dimensions"] for q in query["MetricDataQueries"]] == [
        [{"Name": "InferenceComponentName", "Value": "ic-llama"}],
        [{"Name": "InferenceComponentName", "Value": "ic-mistral"}],
    ]


@pytest.mark.parametrize(
    ("metrics", "verdict"),
    [
        ([], "idle"),
        ([("InvocationsProcessed", 3, "AllTraffic")], "active"),
        ([("ApproximateBacklogSize", 2, None)], "active"),  # queued but nothing processed yet
        ([("Invocations", 9, "AllTraffic")], "idle"),  # async endpoints publish no Invocations
    ],
)
def test_async_endpoint_is_idle_only_without_backlog_and_processed_invocations(
    guard, sm, lambda_context, metrics, verdict
):
    """SageMaker guide, "Alarms and logs for tracking metrics from asynchronous endpoints"."""
    make_endpoint(sm, "batch-async", async_=True)
    for metric, value, variant in metrics:
        invoke("batch-async", value, metric=metric, variant=variant)
    module = guard([ASYNC])
    result = module.handler(copy.deepcopy(SCHEDULED), lambda_context)
    assert result["checked"][0]["verdict"] == verdict
    [query] = module.rec["cloudwatch"].calls_to("get_metric_data")
    assert [q["MetricStat"] for q in query["MetricDataQueries"]] == [
        {
            "Metric": {
                "Namespace": "AWS/SageMaker",
                "MetricName": "InvocationsProcessed",
                "Dimensions": [
                    {"Name": "EndpointName", "Value": "batch-async"},
                    {"Name": "VariantName", "Value": "AllTraffic"},
                ],
            },
            "Period": 3600,
            "Stat": "Sum",
        },
        {
            "Metric": {
                "Namespace": "AWS/SageMaker",
                "MetricName": "ApproximateBacklogSize",
                "Dimensions": [{"Name": "EndpointName", "Value": "batch-async"}],
            },
            "Period": 3600,
            "Stat": "Maximum",
        },
    ]


def test_real_time_endpoint_opted_in_is_only_reported(guard, sm, lambda_context):
    make_endpoint(sm, "rt-idle")
    module = guard(["rt-idle"], scale=["rt-idle"], components=[])
    result = module.handler(copy.deepcopy(SCHEDULED), lambda_context)
    assert result["checked"][0]["actions"] == [
        "real-time instance-based: cannot scale below one instance, reported only"
    ]
    assert module.rec["sagemaker"].calls_to("update_inference_component_runtime_config") == []


@pytest.mark.parametrize(("minimum", "expected"), [(None, "no-scalable-target"), (0, "already-min-zero")])
def test_async_endpoint_without_target_or_already_zero_is_left_alone(
    guard, sm, lambda_context, minimum, expected
):
    make_endpoint(sm, "batch-async", async_=True)
    if minimum is not None:
        register_async_target("batch-async", minimum=minimum)
    module = guard([ASYNC], scale=["batch-async"])
    result = module.handler(copy.deepcopy(SCHEDULED), lambda_context)
    assert expected in result["checked"][0]["actions"][0]
    assert module.rec["autoscaling"].calls_to("register_scalable_target") == []


def test_nothing_idle_publishes_nothing(guard, sm, inbox, lambda_context):
    make_endpoint(sm, "chat-llm")
    invoke("chat-llm", 1, hours_ago=23)
    result = guard(["chat-llm"]).handler(copy.deepcopy(SCHEDULED), lambda_context)
    assert result["action"] == "none-idle" and result["idle"] == []
    assert inbox.messages() == []


def test_new_and_updating_endpoints_are_not_judged(guard, sm, inbox, lambda_context):
    make_endpoint(sm, "brand-new", age_hours=3)
    make_endpoint(sm, "busy-updating")
    _backend().endpoints["busy-updating"].endpoint_status = "Updating"
    result = guard(["brand-new", "busy-updating"], hours="24").handler(
        copy.deepcopy(SCHEDULED), lambda_context
    )
    assert [(c["verdict"], c["reason"]) for c in result["checked"]] == [
        ("not-evaluated", "created inside the observation window"),
        ("not-evaluated", "status Updating"),
    ]
    assert inbox.messages() == []


def test_idle_hours_window_is_configurable(guard, sm, lambda_context):
    make_endpoint(sm, "weekly", age_hours=24 * 10)
    invoke("weekly", 3, hours_ago=100)
    assert guard(["weekly"], hours="24").handler(copy.deepcopy(SCHEDULED), lambda_context)["idle"] == [
        "weekly"
    ]
    assert guard(["weekly"], hours="168").handler(copy.deepcopy(SCHEDULED), lambda_context)["idle"] == []


def test_scale_failure_is_reported_then_raised(guard, sm, inbox, lambda_context):
    make_endpoint(sm, "ic-endpoint")
    module = guard([IC], scale=["ic-endpoint"])

    def denied(**_: Any) -> None:
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "UpdateInference")

    module.rec["sagemaker"].overrides["update_inference_component_runtime_config"] = denied
    with pytest.raises(RuntimeError, match="scale-to-zero failed for ic-endpoint"):
        module.handler(copy.deepcopy(SCHEDULED), lambda_context)
    assert "FAILED: An error occurred (AccessDeniedException)" in inbox.messages()[0]["Message"]


def test_describe_failure_other_than_not_found_raises(guard, sm, inbox, lambda_context):
    module = guard(["chat-llm"])

    def throttled(**_: Any) -> None:
        raise ClientError(
            {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "DescribeEndpoint"
        )

    module.rec["sagemaker"].overrides["describe_endpoint"] = throttled
    with pytest.raises(ClientError, match="Throttling"):
        module.handler(copy.deepcopy(SCHEDULED), lambda_context)
    assert inbox.messages() == []


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({"ENDPOINTS": "not json"}, "ENDPOINTS is not JSON"),
        ({"ENDPOINTS": '{"a": 1}'}, "ENDPOINTS must be a JSON list"),
        ({"ENDPOINTS": '["ok", "bad name"]'}, "ENDPOINTS[1]: 'bad name' is not a valid endpoint name"),
        ({"ENDPOINTS": '[{"EndpointName": "ok", "Kind": "batch"}]'}, "ENDPOINTS[0].Kind: 'batch' is not one of"),
        ({"IDLE_HOURS": "abc"}, "IDLE_HOURS 'abc' is not a number; using 24"),
        ({"IDLE_HOURS": "100000"}, "IDLE_HOURS 100000 clamped to 720"),
        ({"IDLE_HOURS": "0"}, "IDLE_HOURS 0 clamped to 1"),
    ],
)
def test_configuration_problems_are_collected(load_handler, aws, env, problem):
    module = load_handler(NAME, TOPIC_ARN="t", **env)
    assert any(problem in p for p in module.CONFIG_PROBLEMS), module.CONFIG_PROBLEMS


def test_settings_file_next_to_the_handler_holds_the_lists(pure_handlers, tmp_path):
    """The construct ships ENDPOINTS and SCALE_TO_ZERO_ENDPOINTS in SETTINGS_FILE (Lambda's environment is
    4 KB in all); its values win over the environment's, and a bad file is a configuration problem."""
    read_settings = pure_handlers[NAME].read_settings
    watched = [{"EndpointName": f"acme-ml-prod-endpoint-{i:03d}", "Kind": "realtime"} for i in range(500)]
    (tmp_path / "settings.json").write_text(json.dumps({"ENDPOINTS": watched, "SCALE_TO_ZERO_ENDPOINTS": ["x"]}))
    settings, problems = read_settings({"SETTINGS_FILE": "settings.json", "ENDPOINTS": "[]", "IDLE_HOURS": "6"}, tmp_path)
    assert problems == [] and settings["IDLE_HOURS"] == "6"
    parsed, parse_problems = pure_handlers[NAME].parse_watched(settings["ENDPOINTS"])
    assert (len(parsed), parsed[499].name, parse_problems) == (500, "acme-ml-prod-endpoint-499", [])
    assert json.loads(settings["SCALE_TO_ZERO_ENDPOINTS"]) == ["x"]
    assert read_settings({"IDLE_HOURS": "6"}, tmp_path) == ({"IDLE_HOURS": "6"}, [])
    (tmp_path / "list.json").write_text("[]")
    assert read_settings({"SETTINGS_FILE": "list.json"}, tmp_path)[1] == [
        "SETTINGS_FILE 'list.json' must hold a JSON object, got list"]
    (_, (problem,)) = read_settings({"SETTINGS_FILE": "missing.json"}, tmp_path)
    assert problem.startswith("SETTINGS_FILE 'missing.json' is not a readable JSON file: ")


def test_empty_configuration_and_other_events_are_ignored(load_handler, aws, lambda_context):
    module = load_handler(NAME, TOPIC_ARN="t", ENDPOINTS=None)
    assert module.handler(copy.deepcopy(SCHEDULED), lambda_context) == {
        "action": "ignored",
        "reason": "ENDPOINTS is empty: nothing to check",
    }
    module = load_handler(NAME, TOPIC_ARN="t", ENDPOINTS='["x"]')
    other = dict(SCHEDULED, **{"detail-type": "SageMaker Endpoint State Change"})
    assert module.handler(other, lambda_context)["action"] == "ignored"


class FakeCloudWatch:
    def __init__(self, values: float = 0.0) -> None:
        self.calls: list[dict[str, Any]] = []
        self.values = values

    def get_metric_data(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        results = [{"Id": q["Id"], "Values": [self.values]} for q in kwargs["MetricDataQueries"]]
        if "NextToken" not in kwargs:
            return {"MetricDataResults": results[:1], "NextToken": "page-2"}
        return {"MetricDataResults": results[1:]}


def test_metric_queries_are_chunked_and_paginated(load_handler, aws):
    module = load_handler(NAME, TOPIC_ARN="t")
    checks = [module.EndpointCheck(name=f"ep-{i}", variants=("a", "b", "c")) for i in range(200)]
    queries, owner = module.invocation_queries(checks)
    assert len(queries) == 600 and len(set(owner)) == 600
    cloudwatch = FakeCloudWatch(values=1.0)
    now = datetime(2026, 11, 28, tzinfo=UTC)
    totals = module.invocation_sums(cloudwatch, queries, owner, now - timedelta(hours=1), now)
    assert [len(c["MetricDataQueries"]) for c in cloudwatch.calls] == [500, 500, 100, 100]
    assert [c.get("NextToken") for c in cloudwatch.calls] == [None, "page-2", None, "page-2"]
    assert totals == {f"ep-{i}": 3.0 for i in range(200)}


class FakeSageMaker:
    def describe_endpoint(self, **kwargs: Any) -> dict[str, Any]:
        return {
            "EndpointName": kwargs["EndpointName"],
            "EndpointStatus": "InService",
            "CreationTime": datetime(2020, 1, 1, tzinfo=UTC),
            "ProductionVariants": [{"VariantName": "v"}],
        }

    def list_inference_components(self, **kwargs: Any) -> dict[str, Any]:
        return {"InferenceComponents": []}


@pytest.fixture
def prop_module(load_handler, aws):
    return load_handler(NAME, TOPIC_ARN="t", ENDPOINTS='["a", "b"]', SCALE_TO_ZERO_ENDPOINTS='["a"]')


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=events_for(["Scheduled Event"], ["anything"]))
def test_arbitrary_input_never_raises(prop_module, lambda_context, monkeypatch, raw):
    sns = StubSNS()
    monkeypatch.setattr(prop_module, "sns_client", sns)
    monkeypatch.setattr(prop_module, "sagemaker_client", FakeSageMaker())
    monkeypatch.setattr(prop_module, "cloudwatch_client", FakeCloudWatch())
    result = prop_module.handler(copy.deepcopy(raw), lambda_context)
    assert result["action"] in {"reported", "ignored"}
    if result["action"] == "reported":
        assert result["idle"] == ["a", "b"] and len(sns.published) == 1
