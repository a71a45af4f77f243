"""The signal registry (``constructs_lib/observability/endpoint_signals.py``): one alarm path for every
endpoint alarm, rollback alarms included, with exact properties; one incident notifies each severity
topic once; the deployment rolls back on exactly the critical alarms of the signals it watches.

Read from the default platform (session fixture, no synth of its own): chat-llm is a created real-time
endpoint with a canary deployment (its rollback alarms in the inference stack), embeddings a serverless
endpoint, both monitored with severity routing in the observability stack."""

from __future__ import annotations

import json

import pytest

from tests.conftest import new_app
from tests.test_inference_kinds import execution_policy

ALARM_TYPES = ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm")
IMAGE = "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.3.0-gpu-py311-cu121-ubuntu20.04-sagemaker"
CHAT, EMBEDDINGS = "acme-ml-dev-chat-llm", "acme-ml-dev-embeddings"


def _resources(platform, cfn_type: str) -> dict:
    """Resources of a type in the inference and observability stacks together (logical ids are unique)."""
    return {k: v for concern in ("inference", "observability") for k, v in platform[concern].raw["Resources"].items()
            if v["Type"] == cfn_type}


def _alarms(platform) -> dict[str, tuple[str, dict]]:
    """Alarm name -> (logical id, properties)."""
    return {a["Properties"]["AlarmName"]: (k, a["Properties"]) for t in ALARM_TYPES for k, a in _resources(platform, t).items()}


def _reached(platform) -> dict[str, set[str]]:
    """Alarm name -> topics its ALARM state reaches: its own actions or, transitively, those of the
    composite alarms whose rules name it (across stacks: a rule names another stack's alarm through an
    output whose name holds its logical id)."""
    alarms = dict(_alarms(platform).values())
    parents = {k: {c for c, p in alarms.items() if "AlarmRule" in p and k in json.dumps(p["AlarmRule"])} for k in alarms}

    outputs = {name: o["Value"] for concern in ("inference", "observability")
               for name, o in platform[concern].raw.get("Outputs", {}).items()}

    def topic(action: dict) -> str:
        """The topic's logical id: a Ref in the alarm's stack, or the observability stack's output of it
        that a shard reads with Fn::GetStackOutput."""
        if "Fn::GetStackOutput" in action:
            action = outputs[action["Fn::GetStackOutput"]["OutputName"]]
        return action["Ref"]

    def reach(k: str, seen: frozenset = frozenset()) -> set[str]:
        own = {topic(a) for a in alarms[k].get("AlarmActions", [])}
        return own | {t for parent in parents[k] - seen for t in reach(parent, seen | {k})}

    return {p["AlarmName"]: reach(k) for k, p in alarms.items()}


# -- the registry itself -----------------------------------------------------------------------------
def test_registry_entries_are_unique_complete_and_their_defaults_valid():
    from constructs_lib import EndpointKind
    from constructs_lib.observability import ROLLBACK_SIGNALS, SIGNALS

    assert len({s.key for s in SIGNALS}) == len({s.name for s in SIGNALS}) == len(SIGNALS)
    assert ROLLBACK_SIGNALS == ("error_rate_5xx_percent", "model_latency_p99_ms")
    for s in SIGNALS:
        assert s.kinds and s.unit and s.allowed and "{name}" in s.look_first_at, s.key
        for kind in s.kinds:
            for severity, value in s.defaults(kind).items():
                assert s.rule(value), (s.key, kind, severity, value)
    assert [s.key for s in SIGNALS if EndpointKind.SERVERLESS in s.kinds] == [
        "error_rate_5xx_percent", "model_latency_p99_ms", "model_setup_time_ms"]


def test_every_registry_signal_is_a_config_key_that_reaches_its_thresholds():
    """endpoints[].alarms.<signal> for every signal of the registry: both severities given reach the library's
    thresholds, one given keeps the kind's default for the other, null switches the signal off; a key that
    is no signal is refused."""
    from pydantic import ValidationError

    from constructs_lib.observability import SIGNALS
    from stacks.config.endpoints import AlarmsSection, endpoint_thresholds

    for signal in SIGNALS:
        kind = min(signal.kinds, key=lambda k: k.value)

        def thresholds(given, kind=kind, key=signal.key):
            return endpoint_thresholds(AlarmsSection.model_validate({key: given}), kind).of(key, kind)

        both, off, critical = thresholds({"warning": 1.0, "critical": 2.0}), thresholds(None), thresholds({"critical": 3.0})
        assert (both.warning, both.critical) == (1.0, 2.0), signal.key
        assert (off.warning, off.critical) == (None, None), signal.key
        assert (critical.warning, critical.critical) == (signal.defaults(kind).warning, 3.0), signal.key
    with pytest.raises(ValidationError, match="no_such_signal"):
        AlarmsSection.model_validate({"no_such_signal": {"critical": 1}})


# -- the serverless ModelSetupTime alarm (added by one registry entry) --------------------------------
def test_model_setup_time_alarm_has_exact_properties(default_platform):
    alarms = _alarms(default_platform)
    _, p = alarms[f"{EMBEDDINGS}-model-setup-time-warning"]
    assert {k: v for k, v in p.items() if k not in ("AlarmDescription", "Tags")} == {
        "AlarmName": f"{EMBEDDINGS}-model-setup-time-warning",
        "Namespace": "AWS/SageMaker", "MetricName": "ModelSetupTime",
        "Dimensions": [{"Name": "EndpointName", "Value": EMBEDDINGS}, {"Name": "VariantName", "Value": "AllTraffic"}],
        "Statistic": "Maximum", "Period": 300, "EvaluationPeriods": 1, "DatapointsToAlarm": 1,
        "Threshold": 30_000_000,  # 30 s in microseconds, the metric's unit
        "ComparisonOperator": "GreaterThanThreshold", "TreatMissingData": "notBreaching",
    }
    assert p["AlarmDescription"] == (
        f"A cold start of {EMBEDDINGS} took more than 30000 ms (ModelSetupTime). Look first at: the model archive's "
        f"size and the container's start-up in /aws/sagemaker/Endpoints/{EMBEDDINGS}; provisioned_concurrency keeps "
        "capacity warm")
    # Warning only by default, on serverless endpoints only; it notifies through the warning rollup.
    assert {n for n in alarms if "model-setup" in n} == {f"{EMBEDDINGS}-model-setup-time-warning"}
    assert "AlarmActions" not in p


def test_model_setup_time_thresholds_are_drawn_on_the_cold_start_widget(default_platform):
    (dash,) = [d for d in _resources(default_platform, "AWS::CloudWatch::Dashboard").values()
               if d["Properties"]["DashboardName"] == EMBEDDINGS]
    body = dash["Properties"]["DashboardBody"]
    text = body if isinstance(body, str) else "".join(p if isinstance(p, str) else "0" for p in body["Fn::Join"][1])
    (widget,) = [w for w in json.loads(text)["widgets"]
                 if w.get("properties", {}).get("title") == "Model setup time, cold starts (microseconds)"]
    assert widget["properties"]["annotations"] == {
        "horizontal": [{"value": 30_000_000, "label": "model-setup-time warning", "yAxis": "left"}]}


def test_model_setup_time_threshold_is_validated_in_config_and_library(tmp_path):
    import yaml
    from aws_cdk import Stack

    from constructs_lib import EndpointKind, InferenceEndpoint, PlatformValidationError
    from constructs_lib.observability import EndpointAlarmThresholds, EndpointMonitoring, SeverityThresholds
    from stacks.config import DEFAULT_CONFIG, parse_config

    data = yaml.safe_load(DEFAULT_CONFIG.read_text())
    index = next(i for i, e in enumerate(data["endpoints"]) if e.get("type") == "serverless")
    data["endpoints"][index]["alarms"] = {"model_setup_time_ms": {"warning": 0}}
    with pytest.raises(PlatformValidationError, match=rf"endpoints\[{index}\]\.alarms\.model_setup_time_ms\.warning: got 0\.0; >= 1 ms"):
        parse_config(data)
    stack = Stack(new_app(tmp_path), "Bad")
    ep = InferenceEndpoint.from_endpoint_name(stack, "E", "cold", kind=EndpointKind.SERVERLESS)
    bad = EndpointAlarmThresholds(model_setup_time_ms=SeverityThresholds(warning=60_000, critical=10_000))
    with pytest.raises(PlatformValidationError, match=r"thresholds\.model_setup_time_ms\.warning: got 60000; at most the critical threshold \(10000\)"):
        EndpointMonitoring(stack, "M", endpoint=ep, thresholds=bad)


# -- rollback alarms are the critical alarms; one incident, one notification per severity -------------
def test_deployment_rolls_back_on_exactly_the_critical_alarms_of_the_watched_signals(default_platform):
    alarms = _alarms(default_platform)
    (endpoint,) = [r["Properties"] for r in _resources(default_platform, "AWS::SageMaker::Endpoint").values()
                   if r["Properties"]["EndpointName"] == CHAT]
    critical = [alarms[f"{CHAT}-{s}-critical"][0] for s in ("5xx-rate", "p99-model-latency")]
    assert endpoint["DeploymentConfig"]["AutoRollbackConfiguration"] == {
        "Alarms": [{"AlarmName": {"Ref": logical_id}} for logical_id in critical]}
    # One alarm per signal and severity: the monitoring adopted the endpoint's, it made no second set.
    assert sorted(n for n in alarms if n.startswith(f"{CHAT}-") and ("5xx" in n or "latency" in n)) == [
        f"{CHAT}-5xx-rate-critical", f"{CHAT}-5xx-rate-warning", f"{CHAT}-p99-model-latency-critical"]
    assert {alarms[f"{CHAT}-{s}-critical"][0] for s in ("5xx-rate", "p99-model-latency")} <= set(
        default_platform["inference"].raw["Resources"])  # created by the endpoint, next to it
    rule = json.dumps(alarms[f"{CHAT}-unhealthy-critical"][1]["AlarmRule"])
    # The rollup lives in the endpoint's shard with them: plain Fn::GetAtt, no cross-stack reference.
    assert all(json.dumps({"Fn::GetAtt": [logical_id, "Arn"]}) in rule for logical_id in critical)
    # SageMaker reads them with the endpoint's execution role ("Auto-Rollback Configuration and
    # Monitoring": cloudwatch:DescribeAlarms on the auto-rollback alarms): on exactly these alarms.
    (describe,) = [st for st in execution_policy(default_platform["inference"], "ChatLlmEndpoint")["PolicyDocument"]["Statement"]
                   if st.get("Sid") == "DescribeRollbackAlarms"]
    assert describe == {"Sid": "DescribeRollbackAlarms", "Effect": "Allow", "Action": "cloudwatch:DescribeAlarms",
                        "Resource": [{"Fn::GetAtt": [logical_id, "Arn"]} for logical_id in critical]}
    # The typed fact the lifecycle deploys with: the same alarms by name.
    chat = default_platform.platform.endpoints["chat-llm"]
    assert chat.deployment_config["AutoRollbackConfiguration"] == {"Alarms": [
        {"AlarmName": f"{CHAT}-5xx-rate-critical"}, {"AlarmName": f"{CHAT}-p99-model-latency-critical"}]}
    assert [a.node.path for a in chat.rollback_alarms] == [
        a.node.path for a in (*chat.signal_alarms["error_rate_5xx_percent.critical"],
                              *chat.signal_alarms["model_latency_p99_ms.critical"])]


def test_rollback_latency_alarm_has_exact_properties(default_platform):
    _, p = _alarms(default_platform)[f"{CHAT}-p99-model-latency-critical"]
    assert {k: v for k, v in p.items() if k not in ("AlarmDescription", "Tags")} == {
        "AlarmName": f"{CHAT}-p99-model-latency-critical",
        "Namespace": "AWS/SageMaker", "MetricName": "ModelLatency", "ExtendedStatistic": "p99", "Period": 60,
        "Dimensions": [{"Name": "EndpointName", "Value": CHAT}, {"Name": "VariantName", "Value": "AllTraffic"}],
        "Threshold": 30_000_000, "ComparisonOperator": "GreaterThanThreshold",
        "EvaluationPeriods": 3, "DatapointsToAlarm": 2, "TreatMissingData": "notBreaching",
    }


def test_one_incident_notifies_each_severity_topic_once(default_platform):
    """Whatever set of an endpoint's alarms one incident trips (its rollback alarms in the inference stack
    included), only its two rollups have actions, and every other alarm reaches exactly one topic, its
    severity's, through one of them."""
    topics = {k: v["Properties"]["DisplayName"] for k, v in _resources(default_platform, "AWS::SNS::Topic").items()}
    alarms = _alarms(default_platform)
    reached = _reached(default_platform)
    for endpoint in (CHAT, EMBEDDINGS):
        mine = {n: p for n, (_, p) in alarms.items() if n.startswith(f"{endpoint}-")}
        assert sorted(n for n, p in mine.items() if p.get("AlarmActions")) == [
            f"{endpoint}-degraded-warning", f"{endpoint}-unhealthy-critical"]
        for name in mine:
            (topic,) = reached[name]
            severity = "critical" if name.endswith("-critical") else "warning"
            assert topics[topic].endswith(f"{severity} alarms"), (name, topics[topic])
    assert sorted(n for n in alarms if n.startswith(f"{CHAT}-") and n.endswith("-critical")) == [
        f"{CHAT}-5xx-rate-critical", f"{CHAT}-disk-critical", f"{CHAT}-p99-model-latency-critical",
        f"{CHAT}-unhealthy-critical"]


def test_an_endpoint_whose_alarms_notify_a_topic_is_refused_by_routed_monitoring(tmp_path):
    from aws_cdk import Stack
    from aws_cdk import aws_sns as sns

    from constructs_lib import (
        DeploymentSpec,
        EndpointMonitoring,
        InferenceEndpoint,
        ModelSpec,
        PlatformValidationError,
        VariantSpec,
    )

    stack = Stack(new_app(tmp_path), "Twice")
    topic = sns.Topic(stack, "Topic")
    ep = InferenceEndpoint(
        stack, "E", endpoint_name="twice", alarm_topic=topic, deployment=DeploymentSpec(),
        variants=[VariantSpec(model=ModelSpec(image=IMAGE), instance_type="ml.c5.xlarge", instance_count=2)],
    )
    from constructs_lib.observability import Severity

    with pytest.raises(PlatformValidationError, match=r"endpoint: got 'twice'; an endpoint created without alarm_topic"):
        EndpointMonitoring(stack, "M", endpoint=ep, routing={Severity.CRITICAL: topic})
