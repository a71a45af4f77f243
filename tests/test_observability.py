"""Observability: endpoint and cluster dashboards and alarms, burn-rate SLO alarms, severity routing,
the platform overview within CloudWatch's quotas, and the config that drives them."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from tests.conftest import lint_assembly, new_app, resources_of

pytestmark = pytest.mark.xdist_group("observability")  # one worker builds the module's kinds and extra synths once

ALARM_TYPES = ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm")
SAGEMAKER = "AWS/SageMaker"
INSTANCE = "/aws/sagemaker/Endpoints"
CHAT = "acme-ml-dev-chat-llm"
BARE = "ep-no-instances"  # extra's realtime endpoint built from a row without instance metrics


# -- helpers ---------------------------------------------------------------------------------------
def _render(part) -> str:
    if isinstance(part, str):
        return part
    if "Ref" in part:
        return part["Ref"]
    if "Fn::GetAtt" in part:
        return part["Fn::GetAtt"][0]
    if "Fn::GetStackOutput" in part:
        return part["Fn::GetStackOutput"]["OutputName"]
    raise AssertionError(f"unexpected token {part}")


def body_of(dashboard: dict) -> dict:
    body = dashboard["Properties"]["DashboardBody"]
    text = body if isinstance(body, str) else "".join(_render(p) for p in body["Fn::Join"][1])
    return json.loads(text)


def dashboards(template) -> dict[str, dict]:
    return {d["Properties"]["DashboardName"]: d for d in resources_of(template, "AWS::CloudWatch::Dashboard").values()}


def widget(body: dict, title: str) -> dict:
    found = [w for w in body["widgets"] if w["properties"].get("title") == title]
    assert len(found) == 1, f"{title!r} not found once in {[w['properties'].get('title') for w in body['widgets']]}"
    return found[0]


def metric_rows(w: dict) -> list[dict]:
    """A graph widget's metrics as dicts: namespace, name, dims, stat, period, label, expression, id."""
    assert all("." not in m[:2] for m in w["properties"]["metrics"]), "abbreviated rows are not expected"
    rows = []
    for m in w["properties"]["metrics"]:
        options = m[-1] if isinstance(m[-1], dict) else {}
        if "expression" in options:
            rows.append(dict(expression=options["expression"], label=options.get("label"), id=options.get("id")))
            continue
        plain = [x for x in m if not isinstance(x, dict)]
        namespace, name, flat = plain[0], plain[1], plain[2:]
        rows.append(dict(
            # CloudWatch's defaults, which CDK leaves out of the body: Average over 300 s.
            namespace=namespace, name=name, dims=dict(zip(flat[::2], flat[1::2])), stat=options.get("stat", "Average"),
            period=options.get("period", 300), label=options.get("label"), id=options.get("id"),
            visible=options.get("visible", True),
        ))
    return rows


def _monitoring_alarms(template, cfn_type: str) -> list[dict]:
    """The alarms of the monitoring constructs: in a shard, those of each ``EndpointMonitoring`` (construct
    id ``<Name>Dashboard``), not the endpoint's own rollback alarms (``<Name>Endpoint``, notification topic)."""
    return [a for k, a in resources_of(template, cfn_type).items() if not re.match(r"^[A-Za-z0-9]+?Endpoint[A-Z]", k)
            or "Dashboard" in k]


def by_name(template, name: str) -> dict:
    for t in ALARM_TYPES:
        for a in resources_of(template, t).values():
            if a["Properties"]["AlarmName"] == name:
                return a["Properties"]
    raise AssertionError(f"no alarm {name}")


def single_metric(props: dict) -> tuple:
    """(namespace, name, dimensions, statistic, period) of a one-metric alarm, in either rendering
    (CDK uses the ``Metrics`` form when the metric has a label)."""
    if "MetricName" in props:
        return props["Namespace"], props["MetricName"], props["Dimensions"], props["Statistic"], props["Period"]
    (m,) = props["Metrics"]
    s = m["MetricStat"]
    return s["Metric"]["Namespace"], s["Metric"]["MetricName"], s["Metric"]["Dimensions"], s["Stat"], s["Period"]


def alarm_metric_stats(props: dict) -> dict[str, dict]:
    return {m["Id"]: m for m in props["Metrics"]}


def logical_id_of_alarm(template, name: str) -> str:
    for t in ALARM_TYPES:
        for k, a in resources_of(template, t).items():
            if a["Properties"]["AlarmName"] == name:
                return k
    raise AssertionError(name)


# -- the default platform ----------------------------------------------------------------------------
def test_each_endpoint_gets_a_dashboard_named_after_it_and_an_overview(default_platform, default_config):
    # Each endpoint's dashboard lives with the endpoint in its shard (the default config: one shard).
    assert set(dashboards(default_platform["inference"])) == {f"acme-ml-dev-{e.name}" for e in default_config.endpoints} | {
        "acme-ml-dev-overview-1"}  # the overview's page of shard 1
    clusters = {f"acme-ml-dev-{c.name}-cluster" for c in default_config.training_clusters}
    assert clusters == {"acme-ml-dev-llm-pretrain-cluster"}
    pipelines = {f"acme-ml-dev-pipeline-{p.name}" for p in default_config.training_pipelines}
    assert pipelines == {"acme-ml-dev-pipeline-llm-finetune"}
    assert set(dashboards(default_platform["observability"])) == {"acme-ml-dev-overview"} | clusters | pipelines


def test_realtime_dashboard_widgets_have_exact_metrics(default_platform):
    body = body_of(dashboards(default_platform["inference"])[CHAT])
    dims = {"EndpointName": CHAT, "VariantName": "AllTraffic"}

    (inv,) = metric_rows(widget(body, "Invocations"))
    assert (inv["namespace"], inv["name"], inv["dims"], inv["stat"], inv["period"]) == (SAGEMAKER, "Invocations", dims, "Sum", 60)
    (ipi,) = metric_rows(widget(body, "Invocations per instance"))
    assert (ipi["name"], ipi["dims"], ipi["stat"]) == ("InvocationsPerInstance", dims, "Sum")

    count = widget(body, "Instances in service (derived) vs autoscaling min/max")
    rows = metric_rows(count)
    assert rows[0]["expression"] == "IF(m_invocationsperinstance_alltraffic > 0, m_invocations_alltraffic / m_invocationsperinstance_alltraffic)"
    assert {r["name"] for r in rows[1:]} == {"Invocations", "InvocationsPerInstance"}
    annotations = {a["label"]: a["value"] for a in count["properties"]["annotations"]["horizontal"]}
    assert annotations == {"autoscaling min": 2, "autoscaling max": 8}  # configs/default.yaml autoscaling

    errors = metric_rows(widget(body, "4XX and 5XX error rate (%)"))
    expressions = [r["expression"] for r in errors if "expression" in r]
    assert expressions == [
        "IF(m_invocations_alltraffic > 0, 100 * m_invocation4xxerrors_alltraffic / m_invocations_alltraffic, 0)",
        "IF(m_invocations_alltraffic > 0, 100 * m_invocation5xxerrors_alltraffic / m_invocations_alltraffic, 0)",
    ]
    fetched = {(r["name"], r["stat"], r["period"]) for r in errors if "name" in r}
    assert fetched == {("Invocations", "Sum", 60), ("Invocation4XXErrors", "Sum", 60), ("Invocation5XXErrors", "Sum", 60)}

    for title, name in (("Model latency (microseconds)", "ModelLatency"), ("Overhead latency (microseconds)", "OverheadLatency")):
        rows = metric_rows(widget(body, title))
        assert [(r["name"], r["stat"], r["label"]) for r in rows] == [
            (name, "p50", "AllTraffic p50"), (name, "p90", "AllTraffic p90"), (name, "p99", "AllTraffic p99"),
        ]
        assert all(r["namespace"] == SAGEMAKER and r["dims"] == dims for r in rows)

    utilization = {
        "CPU and memory utilization (%)": ["CPUUtilization", "MemoryUtilization"],
        "GPU and GPU memory utilization (%, 1 GPU(s) per instance)": ["GPUUtilization", "GPUMemoryUtilization"],
        "Disk utilization (%)": ["DiskUtilization"],
    }
    for title, names in utilization.items():
        rows = metric_rows(widget(body, title))
        assert [r["name"] for r in rows] == names
        assert all((r["namespace"], r["dims"], r["stat"], r["period"]) == (INSTANCE, dims, "Average", 60) for r in rows)
    assert any(w["type"] == "alarm" for w in body["widgets"])


def test_kind_specific_widgets_in_the_default_platform(default_platform, default_config):
    boards = dashboards(default_platform["inference"])
    kinds = {f"acme-ml-dev-{e.name}": e.type for e in default_config.endpoints}
    for name, kind in kinds.items():
        titles = {w["properties"].get("title") for w in body_of(boards[name])["widgets"]}
        assert ("Invocations" in titles) is (kind != "async"), name
        assert ("Overhead latency (microseconds)" in titles) is (kind != "async"), name
        assert ("Disk utilization (%)" in titles) is (kind != "serverless"), name
        assert ("Backlog" in titles) is (kind == "async"), name
        assert ("Model setup time, cold starts (microseconds)" in titles) is (kind == "serverless"), name
        assert ("Instances in service (derived) vs autoscaling min/max" in titles) is (kind in ("realtime", "multi-model")), name


def _topic_of(action: dict) -> str:
    """The topic's logical id: a Ref, or the weak cross-stack reference to it (a shard's alarm notifies
    the observability stack's topics): ``PublishOutputRef<logical id><8 hex>``."""
    if "Ref" in action:
        return action["Ref"]
    return action["Fn::GetStackOutput"]["OutputName"].removeprefix("PublishOutputRef")[:-8]


def _notified_through(template) -> dict[str, set[str]]:
    """Alarm name -> the topics its ALARM state reaches: its own actions, or those of the composite
    alarms whose rules name it (transitively)."""
    alarms = {k: a["Properties"] for t in ALARM_TYPES for k, a in resources_of(template, t).items()}
    parents = {k: {c for c, p in alarms.items() if "AlarmRule" in p and k in json.dumps(p["AlarmRule"])} for k in alarms}

    def reach(k: str, seen: frozenset = frozenset()) -> set[str]:
        own = {_topic_of(a) for a in alarms[k].get("AlarmActions", [])}
        return own | {t for parent in parents[k] - seen for t in reach(parent, seen | {k})}

    return {p["AlarmName"]: reach(k) for k, p in alarms.items()}

def test_every_alarm_notifies_a_severity_topic_or_feeds_a_composite_that_does(default_platform, extra):
    shard, observability = default_platform["inference"], default_platform["observability"]
    for template, topic_template in ((shard, observability), (observability, observability),
                                     (extra.template, extra.template)):
        topics = {k for k, v in resources_of(topic_template, "AWS::SNS::Topic").items()
                  if re.search(r"(warning|critical) alarms$", v["Properties"]["DisplayName"])}
        assert len(topics) == 2
        reached = _notified_through(template)
        for t in ALARM_TYPES:
            for alarm in _monitoring_alarms(template, t):
                p = alarm["Properties"]
                name = p["AlarmName"]
                severity = re.search(r"-(warning|critical)(-\d+[mhd])?$", name).group(1)
                assert len(reached[name]) == 1, (name, reached[name])  # one topic, the alarm's severity's
                (topic,) = reached[name]
                assert topic in topics and topic.startswith((f"Topics{severity.capitalize()}",
                                                             f"AlarmTopics{severity.capitalize()}")), name
                if "AlarmActions" in p:
                    assert p["OKActions"] == p["AlarmActions"] and len(p["AlarmActions"]) == 1, name


def test_one_incident_notifies_each_severity_topic_once(extra):
    """An endpoint with an SLO: whatever set of its alarms one incident trips (both burn-rate tiers and
    their windows, the composites), only one alarm per severity has actions, and every other alarm of
    the endpoint reaches the topics only through it."""
    alarms = {a["Properties"]["AlarmName"]: a["Properties"] for t in ALARM_TYPES
              for a in resources_of(extra.template, t).values() if a["Properties"]["AlarmName"].startswith(CHAT + "-")}
    with_actions = sorted(n for n, p in alarms.items() if p.get("AlarmActions"))
    assert with_actions == [f"{CHAT}-degraded-warning", f"{CHAT}-unhealthy-critical"]
    assert alarms[f"{CHAT}-unhealthy-critical"]["AlarmActions"][0]["Ref"].startswith("TopicsCritical")
    assert alarms[f"{CHAT}-degraded-warning"]["AlarmActions"][0]["Ref"].startswith("TopicsWarning")
    reached = _notified_through(extra.template)
    burn = [n for n in alarms if "-burn-" in n]
    assert len(burn) == 18  # 2 SLIs x 3 tiers x (composite + 2 windows)
    for name in alarms:
        assert len(reached[name]) == 1, name
    critical_rule = json.dumps(alarms[f"{CHAT}-unhealthy-critical"]["AlarmRule"])
    warning_rule = json.dumps(alarms[f"{CHAT}-degraded-warning"]["AlarmRule"])
    for sli in ("availability", "latency"):
        for tier, *_, sev in TIERS:
            logical_id = logical_id_of_alarm(extra.template, f"{CHAT}-{sli}-burn-{tier}-{sev}")
            assert (logical_id in critical_rule, logical_id in warning_rule) == (sev == "critical", sev == "warning")


def test_alarm_names_follow_endpoint_signal_severity_and_say_what_to_look_at(default_platform):
    for t, template in ((t, tpl) for t in ALARM_TYPES for tpl in (default_platform["inference"], default_platform["observability"])):
        for alarm in _monitoring_alarms(template, t):
            p = alarm["Properties"]
            assert re.fullmatch(r"acme-ml-dev-[a-z0-9-]+-[a-z0-9-]+-(warning|critical)", p["AlarmName"]), p["AlarmName"]
            # A description may embed a deploy-time value (e.g. the FSx file system id) through Fn::Join.
            text = p["AlarmDescription"]
            if isinstance(text, dict):
                text = "".join(part if isinstance(part, str) else "<token>" for part in text["Fn::Join"][1])
            assert "Look first at: " in text and len(text) <= 1024


def test_5xx_rate_alarms_use_metric_math_over_invocations(default_platform):
    template = default_platform["inference"]  # both with the endpoint, in its shard
    for severity, threshold in (("warning", 1), ("critical", 5)):
        p = by_name(template, f"{CHAT}-5xx-rate-{severity}")
        assert (p["Threshold"], p["ComparisonOperator"], p["EvaluationPeriods"], p["DatapointsToAlarm"]) == (
            threshold, "GreaterThanOrEqualToThreshold", 3, 2)
        assert p["TreatMissingData"] == "notBreaching"
        metrics = alarm_metric_stats(p)
        assert metrics["expr_1"]["Expression"] == (
            "IF(m_invocations_alltraffic > 0, 100 * m_invocation5xxerrors_alltraffic / m_invocations_alltraffic, 0)")
        for mid, name in (("m_invocations_alltraffic", "Invocations"), ("m_invocation5xxerrors_alltraffic", "Invocation5XXErrors")):
            stat = metrics[mid]["MetricStat"]
            assert (stat["Metric"]["Namespace"], stat["Metric"]["MetricName"], stat["Period"], stat["Stat"]) == (
                SAGEMAKER, name, 60, "Sum")
            assert stat["Metric"]["Dimensions"] == [
                {"Name": "EndpointName", "Value": CHAT}, {"Name": "VariantName", "Value": "AllTraffic"}]


def test_async_error_rate_counts_requests_with_samplecount(default_platform, default_config):
    async_ep = next(e for e in default_config.endpoints if e.type == "async")
    p = by_name(default_platform["inference"], f"acme-ml-dev-{async_ep.name}-5xx-rate-critical")
    stats = {m["Id"]: m["MetricStat"]["Stat"] for m in p["Metrics"] if "MetricStat" in m}
    assert stats == {"m_invocation5xxerrors_alltraffic": "Sum", "m_count_invocation5xxerrors_alltraffic": "SampleCount"}
    backlog = by_name(default_platform["inference"], f"acme-ml-dev-{async_ep.name}-backlog-without-capacity-critical")
    assert single_metric(backlog) == (SAGEMAKER, "HasBacklogWithoutCapacity",
                                      [{"Name": "EndpointName", "Value": f"acme-ml-dev-{async_ep.name}"}], "Maximum", 60)
    assert (backlog["EvaluationPeriods"], backlog["DatapointsToAlarm"], backlog["Threshold"]) == (15, 15, 1)


def test_gpu_memory_disk_and_capacity_alarms(default_platform):
    template = default_platform["inference"]
    gpu = by_name(template, f"{CHAT}-gpu-memory-warning")  # ml.g5.2xlarge: 1 GPU
    assert single_metric(gpu) == (INSTANCE, "GPUMemoryUtilization",
                                  [{"Name": "EndpointName", "Value": CHAT}, {"Name": "VariantName", "Value": "AllTraffic"}],
                                  "Maximum", 300)
    assert gpu["Threshold"] == 95
    assert (gpu["EvaluationPeriods"], gpu["DatapointsToAlarm"]) == (3, 3)
    for severity, threshold in (("warning", 80), ("critical", 90)):
        disk = by_name(template, f"{CHAT}-disk-{severity}")
        assert single_metric(disk)[1:5:3] == ("DiskUtilization", 300) and disk["Threshold"] == threshold
    cap = by_name(template, f"{CHAT}-at-max-capacity-warning")
    assert cap["Threshold"] == 7.5  # autoscaling max 8, derived count allows rounding
    assert (cap["EvaluationPeriods"], cap["DatapointsToAlarm"]) == (3, 3)
    assert {m["MetricStat"]["Period"] for m in cap["Metrics"] if "MetricStat" in m} == {300}
    with pytest.raises(AssertionError):
        by_name(template, f"{CHAT}-gpu-memory-critical")  # off by default


def test_unhealthy_composite_is_any_critical_alarm(default_platform):
    template = default_platform["inference"]
    p = by_name(template, f"{CHAT}-unhealthy-critical")
    rule = json.dumps(p["AlarmRule"])
    assert logical_id_of_alarm(template, f"{CHAT}-disk-critical") in rule
    # The endpoint's rollback alarms (inference stack) are its critical 5XX and latency alarms.
    for name in (f"{CHAT}-5xx-rate-critical", f"{CHAT}-p99-model-latency-critical"):
        assert logical_id_of_alarm(default_platform["inference"], name) in rule
    assert logical_id_of_alarm(template, f"{CHAT}-disk-warning") not in rule
    assert " OR " in rule and " AND " not in rule


def test_degraded_composite_is_any_warning_alarm_and_only_rollups_notify(default_platform):
    template = default_platform["inference"]
    rule = json.dumps(by_name(template, f"{CHAT}-degraded-warning")["AlarmRule"])
    for name in (f"{CHAT}-5xx-rate-warning", f"{CHAT}-disk-warning", f"{CHAT}-gpu-memory-warning"):
        assert logical_id_of_alarm(template, name) in rule
        assert "AlarmActions" not in by_name(template, name)  # its notification is the rollup's
    assert logical_id_of_alarm(template, f"{CHAT}-disk-critical") not in rule
    assert " OR " in rule and " AND " not in rule


def test_severity_topics_are_encrypted_with_the_platform_key_and_subscribed(default_platform):
    template = default_platform["observability"]
    topics = {v["Properties"]["DisplayName"]: v["Properties"] for v in resources_of(template, "AWS::SNS::Topic").values()}
    assert set(topics) == {"acme-ml-dev warning alarms", "acme-ml-dev critical alarms"}
    for props in topics.values():
        assert "KmsMasterKeyId" in props  # the data stack's PlatformKey, imported
    subs = resources_of(template, "AWS::SNS::Subscription").values()
    assert sorted(s["Properties"]["Endpoint"] for s in subs) == ["ml-oncall@example.com"] * 2
    assert not resources_of(template, "AWS::Chatbot::SlackChannelConfiguration")


def test_overview_shows_every_endpoint_and_its_alarm_states(default_platform, default_config):
    """Every endpoint's key metrics and its rollup alarms (named: the observability stack imports nothing
    from a shard, whose alarms notify its topics), then every cluster alarm that stands for a condition."""
    template = default_platform["observability"]
    body = body_of(dashboards(template)["acme-ml-dev-overview"])
    # Each shard's page carries its endpoints' key metrics (the front page would outgrow one stack).
    page = body_of(dashboards(default_platform["inference"])["acme-ml-dev-overview-1"])
    titles = [w["properties"].get("title", "") for w in page["widgets"]]
    for e in default_config.endpoints:
        assert f"acme-ml-dev-{e.name}: p99 model latency (microseconds)" in titles
    assert "(#dashboards:name=acme-ml-dev-overview-1)" in body["widgets"][0]["properties"]["markdown"]
    assert "(#dashboards:name=acme-ml-dev-overview)" in page["widgets"][0]["properties"]["markdown"]
    assert not [w for w in body["widgets"] if "acme-ml-dev-chat-llm" in w["properties"].get("title", "")]
    listed = [a for w in body["widgets"] if w["type"] == "alarm" for a in w["properties"]["alarms"]]
    arn = "arn:AWS::Partition:cloudwatch:AWS::Region:AWS::AccountId:alarm:"
    named = [a.removeprefix(arn) for a in listed if a.startswith(arn)]
    in_shard = {a["Properties"]["AlarmName"] for t in ALARM_TYPES for a in resources_of(default_platform["inference"], t).values()}
    rollups = [n for e in default_config.endpoints for n in (f"acme-ml-dev-{e.name}-unhealthy-critical",
                                                              f"acme-ml-dev-{e.name}-degraded-warning") if n in in_shard]
    assert named == rollups and len(rollups) >= len(default_config.endpoints)
    assert listed[: len(named)] == [arn + n for n in named]  # the endpoints' states first
    cluster_alarms = [k for t in ALARM_TYPES for k, a in resources_of(template, t).items()
                      if not re.search(r"-\d+[mhd]$", a["Properties"]["AlarmName"])]
    assert sorted(listed[len(named):]) == sorted(cluster_alarms) and len(listed) == len(set(listed))

# -- config ------------------------------------------------------------------------------------------
def _config(**endpoint_extra):
    import yaml

    from stacks.config import DEFAULT_CONFIG, parse_config

    data = yaml.safe_load(DEFAULT_CONFIG.read_text())
    assert data["endpoints"][0]["name"] == "chat-llm"  # the entry the cases below change (endpoints[0])
    data["endpoints"][0] = dict(data["endpoints"][0], **endpoint_extra)
    return data, parse_config


def test_alarm_overrides_merge_with_the_library_defaults():
    from constructs_lib.observability import SeverityThresholds
    from stacks.config.endpoints import endpoint_slo, endpoint_thresholds

    data, parse = _config(
        alarms={"error_rate_5xx_percent": {"critical": 8}, "gpu_memory_percent": {"warning": None, "critical": 98},
                "at_max_capacity_minutes": None},
        slo={"availability_percent": 99.5},
    )
    ep = parse(data).endpoints[0]
    t = endpoint_thresholds(ep.alarms, ep.type)
    assert t.of("error_rate_5xx_percent") == SeverityThresholds(warning=1.0, critical=8)
    assert t.of("gpu_memory_percent") == SeverityThresholds(warning=None, critical=98)
    assert t.of("disk_percent") == SeverityThresholds(warning=80.0, critical=90.0)  # not given: the default
    assert t.of("at_max_capacity_minutes") == SeverityThresholds()  # null: off
    assert t.of("model_latency_p99_ms") == SeverityThresholds(critical=30_000)  # half the invocation timeout
    slo = endpoint_slo(ep)
    assert (slo.availability_percent, slo.latency_ms, slo.latency_percentile) == (99.5, None, 99)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"alarms": {"disk_percent": {"warning": 95, "critical": 90}}},
         r"endpoints\[0\]\.alarms\.disk_percent\.warning: got 95\.0; at most the critical threshold \(90\)"),
        ({"alarms": {"error_rate_5xx_percent": {"critical": 150}}},
         r"endpoints\[0\]\.alarms\.error_rate_5xx_percent\.critical: got 150\.0; a percentage in \(0, 100\]"),
        ({"alarms": {"at_max_capacity_minutes": 7}},
         r"endpoints\[0\]\.alarms\.at_max_capacity_minutes\.warning: got 7\.0; a multiple of 5 minutes, 5-1440"),
        ({"slo": {"latency_percentile": 99}}, r"endpoints\[0\]\.slo: got None; availability_percent, latency_ms or both"),
        ({"slo": {"availability_percent": 100}},
         r"endpoints\[0\]\.slo\.availability_percent: got 100\.0; a percentage between 0 and 100, exclusive"),
        ({"slo": {"availability_percent": 99.9, "min_requests": 0}},
         r"endpoints\[0\]\.slo\.min_requests: got 0; >= 1 request per window"),
    ],
)
def test_bad_observability_config_is_refused_with_its_path(extra, message):
    from constructs_lib.errors import PlatformValidationError

    data, parse = _config(**extra)
    with pytest.raises(PlatformValidationError, match=message):
        parse(data)


def test_slack_channel_ids_are_validated():
    from constructs_lib.errors import PlatformValidationError

    data, parse = _config()
    data["notifications"]["slack"] = {"workspace_id": "t-lower", "channel_id": "C0456EFGH"}
    with pytest.raises(PlatformValidationError, match=r"notifications\.slack\.workspace_id: got 't-lower'"):
        parse(data)
    data["notifications"]["slack"] = {"workspace_id": "T0123ABCD", "channel_id": "C0456EFGH"}
    assert parse(data).notifications.slack.channel_id == "C0456EFGH"


# -- library use: SLO, Slack, cluster, all in one stack with every nag pack ---------------------------
class _AgentMetrics:
    """Stands in for HyperPodCluster (same vocabulary: constructs_lib.training.metrics) without building
    a VPC, FSx and a cluster: the CloudWatch agent's GPU metrics of one cluster."""

    def _metric(self, name, *, statistic="Average", period=None, label=None):
        from aws_cdk import Duration
        from aws_cdk import aws_cloudwatch as cw

        from constructs_lib.training.metrics import NAMESPACE, Dimension

        return cw.Metric(namespace=NAMESPACE, metric_name=name, dimensions_map={Dimension.CLUSTER_NAME: "llm-pretrain"},
                         statistic=statistic, period=period or Duration.minutes(1), label=label)

    def metric_gpu_utilization(self, **kw):
        from constructs_lib.training.metrics import MetricName

        return self._metric(MetricName.GPU_UTILIZATION, **kw)

    def metric_gpu_memory_utilization(self, **kw):
        from constructs_lib.training.metrics import MetricName

        return self._metric(MetricName.GPU_MEMORY_UTILIZATION, **kw)

    def metric_gpu_temperature(self, **kw):
        from constructs_lib.training.metrics import MetricName

        return self._metric(MetricName.GPU_TEMPERATURE, **kw)


def test_hyperpod_cluster_is_a_cluster_metrics_source():
    from constructs_lib.observability.cluster_monitoring import ClusterMetricsSource
    from constructs_lib.training.cluster import HyperPodCluster

    for name in ("metric_gpu_utilization", "metric_gpu_memory_utilization", "metric_gpu_temperature"):
        assert callable(getattr(HyperPodCluster, name)), name
        assert hasattr(ClusterMetricsSource, name)


class _Synth:
    def __init__(self, template: dict, constructs: dict) -> None:
        from aws_cdk.assertions import Template

        self.raw = template
        self.template = Template.from_json(template)
        self.template.raw = template
        self.constructs = constructs


@pytest.fixture(scope="module")
def extra(tmp_path_factory) -> _Synth:
    """An SLO endpoint, severity topics with Slack and a cluster, synthesized with all five nag packs."""
    from aws_cdk import Stack

    from constructs_lib import InferenceEndpoint, PlatformKey, add_compliance_checks
    from constructs_lib.inference import KIND_TRAITS, EndpointKind
    from constructs_lib.observability import (
        ClusterMonitoring,
        EndpointMonitoring,
        LustreFileSystem,
        ServiceLevelObjective,
        SeverityTopics,
        SlackChannel,
    )

    outdir = tmp_path_factory.mktemp("observability-out")
    app = new_app(outdir)
    stack = Stack(app, "Extra")
    key = PlatformKey(stack, "Key", alias="alias/observability-test").key
    topics = SeverityTopics(stack, "Topics", key=key, name_prefix="acme-ml-dev", emails=["oncall@example.com"],
                            slack=SlackChannel(workspace_id="T0123ABCD", channel_id="C0456EFGH"))
    endpoint = InferenceEndpoint.from_endpoint_name(stack, "Chat", CHAT)
    monitoring = EndpointMonitoring(
        stack, "ChatMonitoring", endpoint=endpoint, routing=topics.routing,
        slo=ServiceLevelObjective(availability_percent=99.9, latency_ms=500, latency_percentile=99),
    )
    # The same kind of endpoint built while its KIND_TRAITS row says it publishes no instance metrics:
    # what the monitoring builds follows the row (test_monitoring_follows_the_kind_traits_row).
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(KIND_TRAITS, EndpointKind.REALTIME,
                      dataclasses.replace(KIND_TRAITS[EndpointKind.REALTIME], instance_metrics=frozenset()))
        bare = InferenceEndpoint.from_endpoint_name(stack, "Bare", BARE)
        EndpointMonitoring(stack, "BareMonitoring", endpoint=bare, routing=topics.routing, gpu=True)
    cluster = ClusterMonitoring(
        stack, "Cluster", cluster_name="llm-pretrain", metrics=_AgentMetrics(),
        file_system=LustreFileSystem(file_system_id="fs-0123456789abcdef0", storage_capacity_gib=1200),
        routing=topics.routing, encryption_key=key,
    )
    add_compliance_checks(app)
    template = app.synth().get_stack_by_name("Extra").template  # fails on any unacknowledged finding
    synth = _Synth(template, {"monitoring": monitoring, "cluster": cluster, "topics": topics})
    synth.outdir = outdir
    return synth


TIERS = [  # (tier, long window s, short window s, burn rate, severity)
    ("1h", 3600, 300, 14.4, "critical"),
    ("6h", 21600, 1800, 6, "critical"),
    ("3d", 259200, 21600, 1, "warning"),
]


@pytest.mark.parametrize(("tier", "long_s", "short_s", "burn", "severity"), TIERS)
def test_availability_slo_gives_multiwindow_burn_rate_alarms(extra, tier, long_s, short_s, burn, severity):
    from constructs_lib.observability._quotas import valid_alarm_window

    template = extra.template
    composite = by_name(template, f"{CHAT}-availability-burn-{tier}-{severity}")
    rule = json.dumps(composite["AlarmRule"])
    assert " AND " in rule and "AlarmActions" not in composite  # it notifies through the rollup of its severity
    rollup = by_name(template, f"{CHAT}-{'unhealthy' if severity == 'critical' else 'degraded'}-{severity}")
    assert logical_id_of_alarm(template, composite["AlarmName"]) in json.dumps(rollup["AlarmRule"])
    for seconds, span in ((long_s, _span(long_s)), (short_s, _span(short_s))):
        p = by_name(template, f"{CHAT}-availability-burn-{tier}-{severity}-{span}")
        assert logical_id_of_alarm(template, p["AlarmName"]) in rule
        assert (p["Threshold"], p["ComparisonOperator"], p["EvaluationPeriods"], p["DatapointsToAlarm"]) == (
            burn, "GreaterThanThreshold", 1, 1)
        assert valid_alarm_window(seconds, 1)
        metrics = alarm_metric_stats(p)
        returned = [m for m in p["Metrics"] if m.get("ReturnData", True)]
        assert len(returned) == 1 and returned[0]["Expression"].endswith("/ 0.001")
        # Low-traffic guard: a paging window counts only with enough requests that one 5XX alone stays
        # under its burn rate (floor(1 / (burn x 0.001)) + 1); the ticket tier is unguarded.
        guard = {"1h": ">= 70", "6h": ">= 167", "3d": "> 0"}[tier]
        ratio = next(m["Expression"] for m in p["Metrics"] if m.get("ReturnData") is False and "Expression" in m)
        assert ratio == f"IF(m_invocations_alltraffic {guard}, m_invocation5xxerrors_alltraffic / m_invocations_alltraffic, 0)"
        stats = {(m["MetricStat"]["Metric"]["MetricName"], m["MetricStat"]["Stat"], m["MetricStat"]["Period"])
                 for m in metrics.values() if "MetricStat" in m}
        assert stats == {("Invocations", "Sum", seconds), ("Invocation5XXErrors", "Sum", seconds)}


def _span(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    raise AssertionError(seconds)


def test_latency_slo_burns_on_the_percentile_rank_of_model_latency(extra):
    p = by_name(extra.template, f"{CHAT}-latency-burn-1h-critical-1h")
    stats = {(m["MetricStat"]["Metric"]["MetricName"], m["MetricStat"]["Stat"], m["MetricStat"]["Period"])
             for m in p["Metrics"] if "MetricStat" in m}
    # PR(:x), not PR(0:x): a percentile rank's lower bound is exclusive (CloudWatch "Statistics definitions").
    assert stats == {("ModelLatency", "PR(:500000)", 3600), ("ModelLatency", "SampleCount", 3600)}
    expressions = [m["Expression"] for m in p["Metrics"] if "Expression" in m]
    # 99 % objective, 14.4x: the 1 h window needs floor(1 / 0.144) + 1 = 7 requests.
    assert "IF((m_requests_alltraffic) >= 7, ((100 - m_within_alltraffic) * m_requests_alltraffic) / (100 * (m_requests_alltraffic)), 0)" in expressions
    assert any(e.endswith("/ 0.01") for e in expressions)


def test_slo_replaces_the_static_error_and_latency_alarms(extra):
    names = {a["Properties"]["AlarmName"] for t in ALARM_TYPES for a in resources_of(extra.template, t).values()}
    assert not any("5xx-rate" in n or "p99-model-latency" in n for n in names if n.startswith(f"{CHAT}-"))
    composites = {a["Properties"]["AlarmName"] for a in resources_of(extra.template, "AWS::CloudWatch::CompositeAlarm").values()}
    assert {f"{CHAT}-{sli}-burn-{tier}-{sev}" for sli in ("availability", "latency") for tier, *_, sev in TIERS} <= composites
    unhealthy = json.dumps(by_name(extra.template, f"{CHAT}-unhealthy-critical")["AlarmRule"])
    for sli in ("availability", "latency"):
        for tier, *_, sev in TIERS:
            assert (logical_id_of_alarm(extra.template, f"{CHAT}-{sli}-burn-{tier}-{sev}") in unhealthy) is (sev == "critical")


def test_monitoring_follows_the_kind_traits_row(extra):
    """Two imported realtime endpoints, one built while the realtime ``KIND_TRAITS`` row says it publishes
    no instance metrics: the signals and the dashboard ask the row, not the kind, so that one gets no
    GPU-memory or disk alarm and no utilization widgets; the other keeps them (the row as AWS has it)."""
    names = {a["Properties"]["AlarmName"] for a in resources_of(extra.template, "AWS::CloudWatch::Alarm").values()}
    assert {n for n in names if n.startswith(f"{BARE}-")} == {
        f"{BARE}-5xx-rate-warning", f"{BARE}-5xx-rate-critical", f"{BARE}-p99-model-latency-critical",
    }
    assert {f"{CHAT}-gpu-memory-warning", f"{CHAT}-disk-warning", f"{CHAT}-disk-critical"} <= names
    assert (by_name(extra.template, f"{CHAT}-disk-critical")["Namespace"],
            by_name(extra.template, f"{CHAT}-disk-critical")["MetricName"]) == (INSTANCE, "DiskUtilization")
    titles = {name: {w["properties"].get("title") for w in body_of(d)["widgets"]}
              for name, d in dashboards(extra.template).items()}
    utilization = {"CPU and memory utilization (%)", "Disk utilization (%)",
                   "GPU and GPU memory utilization (%, 1 GPU(s) per instance)"}
    assert utilization <= titles[CHAT]
    assert not utilization & titles[BARE]
    assert {"Invocations", "Invocations per instance", "Overhead latency (microseconds)"} <= titles[BARE]


def test_slack_channel_receives_both_severity_topics(extra):
    (channel,) = resources_of(extra.template, "AWS::Chatbot::SlackChannelConfiguration").values()
    p = channel["Properties"]
    assert (p["SlackWorkspaceId"], p["SlackChannelId"], p["ConfigurationName"], p["LoggingLevel"]) == (
        "T0123ABCD", "C0456EFGH", "acme-ml-dev-alarms", "ERROR")
    topics = {k for k, v in resources_of(extra.template, "AWS::SNS::Topic").items()}
    assert {t["Ref"] for t in p["SnsTopicArns"]} == topics


def test_cluster_node_health_events_become_a_metric(extra):
    t = extra.template
    rules = [r["Properties"] for r in resources_of(t, "AWS::Events::Rule").values()]
    (rule,) = [r for r in rules if r["EventPattern"]["detail-type"] == ["SageMaker HyperPod Cluster Node Health Event"]]
    assert rule["EventPattern"] == {
        "source": ["aws.sagemaker"],
        "detail-type": ["SageMaker HyperPod Cluster Node Health Event"],
        "detail": {"ClusterName": ["llm-pretrain"],
                   "HealthSummary": {"HealthStatus": [{"anything-but": {"equals-ignore-case": "healthy"}}]}},
    }
    (target,) = rule["Targets"]
    assert ":log-group:" in json.dumps(target["Arn"]) and "DeadLetterConfig" in target
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 8, "MaximumEventAgeInSeconds": 7200}
    (group_id, group) = next(iter(resources_of(t, "AWS::Logs::LogGroup").items()))
    (key_id,) = resources_of(t, "AWS::KMS::Key")
    assert group["Properties"]["RetentionInDays"] == 365
    assert group["Properties"]["KmsKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    (policy,) = resources_of(t, "AWS::Logs::ResourcePolicy").values()
    assert "events.amazonaws.com" in json.dumps(policy["Properties"]["PolicyDocument"])
    (mf,) = resources_of(t, "AWS::Logs::MetricFilter").values()
    assert mf["Properties"]["LogGroupName"] == {"Ref": group_id}
    assert mf["Properties"]["FilterPattern"] == '{ $.detail.ClusterName = "llm-pretrain" }'
    assert mf["Properties"]["MetricTransformations"] == [{
        "MetricNamespace": "AIPlatform/Observability", "MetricName": "UnhealthyNodeEvents", "MetricValue": "1",
        "Dimensions": [{"Key": "ClusterName", "Value": "$.detail.ClusterName"}],
    }]


def test_cluster_alarms_have_exact_properties(extra):
    t = extra.template
    for severity, threshold in (("warning", 80), ("critical", 90)):
        p = by_name(t, f"llm-pretrain-fsx-used-{severity}")
        # 15 one-minute periods: FreeDataStorageCapacity is emitted once a minute per disk.
        assert (p["Threshold"], p["EvaluationPeriods"], p["DatapointsToAlarm"]) == (threshold, 15, 15)
        metrics = alarm_metric_stats(p)
        assert metrics["expr_1"]["Expression"] == f"100 * (1 - (free / (PERIOD(free) / 60)) / {1200 * 1024 ** 3})"
        stat = metrics["free"]["MetricStat"]
        assert (stat["Metric"]["Namespace"], stat["Metric"]["MetricName"], stat["Stat"], stat["Period"]) == (
            "AWS/FSx", "FreeDataStorageCapacity", "Sum", 60)
        assert stat["Metric"]["Dimensions"] == [{"Name": "FileSystemId", "Value": "fs-0123456789abcdef0"}]
    for severity, threshold in (("warning", 1), ("critical", 3)):
        p = by_name(t, f"llm-pretrain-unhealthy-nodes-{severity}")
        assert single_metric(p) == ("AIPlatform/Observability", "UnhealthyNodeEvents",
                                    [{"Name": "ClusterName", "Value": "llm-pretrain"}], "Sum", 900)
        assert (p["Threshold"], p["EvaluationPeriods"], p["DatapointsToAlarm"]) == (threshold, 1, 1)
    low = by_name(t, "llm-pretrain-low-gpu-utilization-warning")
    assert single_metric(low) == ("AIPlatform/HyperPod", "nvidia_smi_utilization_gpu",
                                  [{"Name": "ClusterName", "Value": "llm-pretrain"}], "Average", 900)
    assert low["Threshold"] == 20
    assert (low["ComparisonOperator"], low["EvaluationPeriods"], low["DatapointsToAlarm"], low["TreatMissingData"]) == (
        "LessThanThreshold", 4, 4, "notBreaching")
    assert by_name(t, "llm-pretrain-unhealthy-critical")["AlarmActions"][0]["Ref"].startswith("TopicsCritical")


def _evaluate(expression: str, *, free: float, period_seconds: int) -> float:
    """Evaluate a CloudWatch metric-math expression of ``free`` and ``PERIOD(free)`` (arithmetic only)."""
    text = expression.replace("PERIOD(free)", str(period_seconds)).replace("free", repr(float(free)))
    assert re.fullmatch(r"[0-9.e+\-*/() ]+", text), text
    return eval(text)  # digits and operators only, checked above


@pytest.mark.parametrize("disks", [1, 2, 4])
def test_fsx_used_percent_is_80_at_960_of_1200_gib_whatever_the_disk_count(extra, disks):
    """FSx for Lustre emits FreeDataStorageCapacity once a minute per disk (FSx for Lustre User Guide,
    "Monitoring with Amazon CloudWatch"): a one-minute Sum is the file system's free space, a Sum over n
    minutes counts each disk n times. 1200 GiB provisioned, 960 GiB used -> 80 % at the alarm's period,
    and on a dashboard that widens the period to 5 minutes."""
    gib = 1024**3
    expression = alarm_metric_stats(by_name(extra.template, "llm-pretrain-fsx-used-warning"))["expr_1"]["Expression"]
    free_per_disk = 240 * gib / disks
    one_minute_sum = disks * free_per_disk
    assert _evaluate(expression, free=one_minute_sum, period_seconds=60) == pytest.approx(80.0)
    assert _evaluate(expression, free=5 * one_minute_sum, period_seconds=300) == pytest.approx(80.0)
    # The former alarm (5-minute Sum, no divisor) reached its 80 % only at 96 % real use (48 GiB free).
    former = f"100 * (1 - free / {1200 * gib})"
    assert _evaluate(former, free=5 * 48 * gib, period_seconds=300) == pytest.approx(80.0)
    assert _evaluate(expression, free=5 * 48 * gib, period_seconds=300) == pytest.approx(96.0)


def test_extra_assembly_passes_cfn_lint(extra):
    assert lint_assembly(extra.outdir) == []


def test_cluster_dashboard_widgets(extra):
    body = body_of(dashboards(extra.template)["llm-pretrain-cluster"])
    gpu = metric_rows(widget(body, "GPU utilization (%)"))
    assert [(r["namespace"], r["name"], r["stat"]) for r in gpu] == [
        ("AIPlatform/HyperPod", "nvidia_smi_utilization_gpu", "Average"),
        ("AIPlatform/HyperPod", "nvidia_smi_utilization_gpu", "Minimum")]
    (temp,) = metric_rows(widget(body, "GPU health: temperature (max, Celsius)"))
    assert (temp["name"], temp["stat"]) == ("nvidia_smi_temperature_gpu", "Maximum")
    used = metric_rows(widget(body, "FSx for Lustre used (%)"))
    assert used[0]["expression"] == f"100 * (1 - (free / (PERIOD(free) / 60)) / {1200 * 1024 ** 3})"
    assert [(r["name"], r["stat"], r["period"]) for r in used[1:]] == [("FreeDataStorageCapacity", "Sum", 60)]
    free = metric_rows(widget(body, "FSx for Lustre free capacity (GiB)"))
    assert free[0]["expression"] == f"(free / (PERIOD(free) / 60)) / {1024 ** 3}"
    assert [(r["name"], r["stat"], r["period"]) for r in free[1:]] == [("FreeDataStorageCapacity", "Sum", 60)]
    throughput = metric_rows(widget(body, "FSx for Lustre throughput (MB/s)"))
    assert throughput[0]["expression"] == "(readbytes + writebytes) / PERIOD(readbytes) / 1000000"
    assert {(r["name"], r["stat"], r["period"]) for r in throughput[1:]} == {
        ("DataReadBytes", "Sum", 60), ("DataWriteBytes", "Sum", 60)}
    (events,) = metric_rows(widget(body, "Unhealthy-node events (per 15 minutes)"))
    assert (events["name"], events["stat"], events["period"]) == ("UnhealthyNodeEvents", "Sum", 900)
    logs = widget(body, "Latest unhealthy-node events")
    assert logs["type"] == "log" and "sort @timestamp desc" in logs["properties"]["query"]


# -- endpoint kinds, imported ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def kinds(tmp_path_factory) -> dict:
    from aws_cdk import Stack

    from constructs_lib import EndpointKind, InferenceEndpoint
    from constructs_lib.observability import EndpointAlarmThresholds, EndpointMonitoring, SeverityThresholds

    outdir = tmp_path_factory.mktemp("kinds-out")
    app = new_app(outdir)
    stack = Stack(app, "Kinds")
    for kind in EndpointKind:
        ep = InferenceEndpoint.from_endpoint_name(stack, f"E{kind.name}", f"ep-{kind.value}", kind=kind)
        EndpointMonitoring(
            stack, f"M{kind.name}", endpoint=ep, gpus_per_instance=4,
            inference_component_names=["llama-8b", "mistral-7b"] if kind is EndpointKind.INFERENCE_COMPONENTS else None,
        )
    latency = EndpointAlarmThresholds(model_latency_p99_ms=SeverityThresholds(critical=2000))
    two = InferenceEndpoint.from_endpoint_name(stack, "Two", "ep-two-variants", variant_names=["current", "candidate"])
    EndpointMonitoring(stack, "MTwo", endpoint=two, thresholds=latency, max_capacity=4)
    six = InferenceEndpoint.from_endpoint_name(stack, "Six", "ep-six-variants", variant_names=[f"v{i}" for i in range(6)])
    EndpointMonitoring(stack, "MSix", endpoint=six, gpu=False)
    template = app.synth().get_stack_by_name("Kinds").template
    return {d["Properties"]["DashboardName"]: body_of(d) for d in template["Resources"].values()
            if d["Type"] == "AWS::CloudWatch::Dashboard"} | {"_template": template, "_outdir": outdir}


def test_kinds_assembly_passes_cfn_lint(kinds):
    assert lint_assembly(kinds["_outdir"]) == []


def test_serverless_has_no_instance_metrics(kinds):
    body = kinds["ep-serverless"]
    namespaces = {r.get("namespace") for w in body["widgets"] if w["type"] == "metric" for r in metric_rows(w)}
    mem = metric_rows(widget(body, "Memory utilization (%)"))
    assert [(r["namespace"], r["name"]) for r in mem] == [(INSTANCE, "MemoryUtilization")]
    assert {r["name"] for w in body["widgets"] if w["type"] == "metric" for r in metric_rows(w) if r.get("namespace") == INSTANCE} == {"MemoryUtilization"}
    assert SAGEMAKER in namespaces
    (setup,) = metric_rows(widget(body, "Model setup time, cold starts (microseconds)"))
    assert (setup["name"], setup["stat"]) == ("ModelSetupTime", "Maximum")


def test_async_backlog_metrics_are_per_endpoint(kinds):
    body = kinds["ep-async"]
    rows = metric_rows(widget(body, "Backlog")) + metric_rows(widget(body, "Backlog without capacity (1 = queued requests, no instance)")) \
        + metric_rows(widget(body, "Age of the oldest queued request (seconds)"))
    assert [(r["name"], r["stat"]) for r in rows] == [
        ("ApproximateBacklogSize", "Average"), ("ApproximateBacklogSizePerInstance", "Average"),
        ("HasBacklogWithoutCapacity", "Maximum"), ("ApproximateAgeOfOldestRequest", "Maximum")]
    assert all(r["dims"] == {"EndpointName": "ep-async"} and r["namespace"] == SAGEMAKER for r in rows)
    names = {r.get("name") for w in body["widgets"] if w["type"] == "metric" for r in metric_rows(w)}
    assert not names & {"Invocations", "InvocationsPerInstance", "OverheadLatency"}


def test_inference_components_metrics_are_per_component(kinds):
    body = kinds["ep-inference-components"]
    (a, b) = metric_rows(widget(body, "Concurrent requests per copy (max)"))
    assert (a["name"], a["stat"], a["dims"]) == ("ConcurrentRequestsPerCopy", "Maximum", {"InferenceComponentName": "llama-8b"})
    assert b["dims"] == {"InferenceComponentName": "mistral-7b"}
    copies = metric_rows(widget(body, "Copies in service (derived)"))
    assert [r["expression"] for r in copies if "expression" in r] == [
        "IF(m_invocationspercopy_llama_8b > 0, m_invocations_llama_8b / m_invocationspercopy_llama_8b)",
        "IF(m_invocationspercopy_mistral_7b > 0, m_invocations_mistral_7b / m_invocationspercopy_mistral_7b)"]
    per_copy = metric_rows(widget(body, "Invocations per copy"))
    assert [(r["name"], r["stat"]) for r in per_copy] == [("InvocationsPerCopy", "Sum")] * 2
    # utilization stays per variant (the instances), on /aws/sagemaker/Endpoints
    (cpu, _memory) = metric_rows(widget(body, "CPU and memory utilization (%)"))
    assert cpu["dims"] == {"EndpointName": "ep-inference-components", "VariantName": "AllTraffic"}
    gpu_alarm = next(a["Properties"] for a in kinds["_template"]["Resources"].values()
                     if a["Properties"].get("AlarmName") == "ep-inference-components-gpu-memory-warning")
    assert gpu_alarm["Threshold"] == 380  # 95 % per GPU x 4 GPUs (the metric is summed over GPUs)


def _alarms_of(template: dict, prefix: str) -> dict[str, dict]:
    return {r["Properties"]["AlarmName"]: r["Properties"] for r in template["Resources"].values()
            if r["Type"] in ALARM_TYPES and r["Properties"]["AlarmName"].startswith(prefix)}


def test_variants_share_error_and_latency_alarms_within_the_metric_math_limit(kinds):
    alarms = _alarms_of(kinds["_template"], "ep-two-variants-")
    rate = alarms["ep-two-variants-5xx-rate-critical"]
    (expr,) = [m["Expression"] for m in rate["Metrics"] if "Expression" in m]
    assert expr == ("IF((FILL(m_invocations_current, 0)+FILL(m_invocations_candidate, 0)) > 0, 100 * "
                    "(FILL(m_invocation5xxerrors_current, 0)+FILL(m_invocation5xxerrors_candidate, 0)) / "
                    "(FILL(m_invocations_current, 0)+FILL(m_invocations_candidate, 0)), 0)")
    latency = alarms["ep-two-variants-p99-model-latency-critical"]
    assert latency["Threshold"] == 2_000_000  # ModelLatency is in microseconds
    assert [m["Expression"] for m in latency["Metrics"] if "Expression" in m] == ["MAX([m_p99_0, m_p99_1])"]
    assert {(m["MetricStat"]["Metric"]["MetricName"], m["MetricStat"]["Stat"]) for m in latency["Metrics"]
            if "MetricStat" in m} == {("ModelLatency", "p99")}
    # instance signals per variant
    assert {"ep-two-variants-disk-current-critical", "ep-two-variants-disk-candidate-critical",
            "ep-two-variants-at-max-capacity-current-warning", "ep-two-variants-gpu-memory-candidate-warning"} <= set(alarms)
    # 6 variants x 2 metrics > 10 metrics per alarm: one 5XX alarm per variant
    six = _alarms_of(kinds["_template"], "ep-six-variants-")
    assert {f"ep-six-variants-5xx-rate-v{i}-critical" for i in range(6)} <= set(six)
    assert all(len(a.get("Metrics", [])) <= 10 for a in six.values())
    assert not any("gpu-memory" in n for n in six)


# -- the overview at scale ---------------------------------------------------------------------------
def test_overview_of_200_imported_endpoints_splits_within_cloudwatch_quotas(tmp_path):
    from aws_cdk import Stack

    from constructs_lib import InferenceEndpoint, PlatformOverview
    from constructs_lib.observability import _quotas
    from constructs_lib.observability.platform_overview import count_metrics  # noqa: F401 (documented helper)

    app = new_app(tmp_path)
    stack = Stack(app, "Overview")
    endpoints = [InferenceEndpoint.from_endpoint_name(stack, f"E{i}", f"endpoint-{i:03d}") for i in range(200)]
    overview = PlatformOverview(stack, "Overview", dashboard_name="acme-ml-prod-overview", endpoints=endpoints)
    template = app.synth().get_stack_by_name("Overview").template
    assert lint_assembly(tmp_path) == []
    boards = [r for r in template["Resources"].values() if r["Type"] == "AWS::CloudWatch::Dashboard"]
    assert len(boards) == len(overview.dashboards) > 1
    assert [b["Properties"]["DashboardName"] for b in boards] == overview.page_names
    seen = []
    for board in boards:
        body = body_of(board)
        widgets = body["widgets"]
        assert len(widgets) <= _quotas.MAX_WIDGETS_PER_DASHBOARD
        per_widget = [len(w["properties"].get("metrics", [])) for w in widgets]
        assert max(per_widget) <= _quotas.MAX_METRICS_PER_WIDGET
        assert sum(per_widget) <= _quotas.MAX_METRICS_PER_DASHBOARD
        seen += [w["properties"]["title"].split(":")[0] for w in widgets if "p99 model latency" in w["properties"].get("title", "")]
        assert all(w["x"] + w["width"] <= 24 for w in widgets)
    assert sorted(seen) == [f"endpoint-{i:03d}" for i in range(200)]  # each endpoint exactly once
    assert len(json.dumps(template)) < _quotas.CLOUDFORMATION_TEMPLATE_BYTES
    # the construct's own count (what it splits on) never undercounts what the bodies fetch
    fetched = [sum(len(w["properties"].get("metrics", [])) for w in body_of(b)["widgets"]) for b in boards]
    assert all(f <= c <= _quotas.MAX_METRICS_PER_DASHBOARD for f, c in zip(fetched, overview.metric_counts, strict=True))


# -- validation --------------------------------------------------------------------------------------
def test_monitoring_refuses_bad_thresholds_with_every_problem(tmp_path):
    from aws_cdk import Stack

    from constructs_lib import InferenceEndpoint, PlatformValidationError
    from constructs_lib.observability import (
        EndpointAlarmThresholds,
        EndpointMonitoring,
        ServiceLevelObjective,
        SeverityThresholds,
    )

    stack = Stack(new_app(tmp_path), "Bad")
    ep = InferenceEndpoint.from_endpoint_name(stack, "E", "bad")
    bad = EndpointAlarmThresholds(disk_percent=SeverityThresholds(warning=95, critical=90), at_max_capacity_minutes=7)
    with pytest.raises(PlatformValidationError, match=r"(?s)2 problem\(s\).*disk_percent\.warning: got 95.*at_max_capacity_minutes\.warning: got 7"):
        EndpointMonitoring(stack, "M", endpoint=ep, thresholds=bad)
    with pytest.raises(PlatformValidationError, match=r"slo\.availability_percent: got 100"):
        EndpointMonitoring(stack, "M2", endpoint=ep, slo=ServiceLevelObjective(availability_percent=100))


def test_cluster_monitoring_refuses_a_metrics_source_without_gpu_helpers(tmp_path):
    from aws_cdk import Stack

    from constructs_lib import ClusterMonitoring, PlatformValidationError

    stack = Stack(new_app(tmp_path), "Bad")
    with pytest.raises(PlatformValidationError, match=r"metrics: got 'object'; an object with metric_gpu_utilization\(\)"):
        ClusterMonitoring(stack, "C", cluster_name="llm-pretrain", metrics=object())


def test_alarm_windows_are_checked_against_cloudwatch_limits(tmp_path):
    from aws_cdk import Duration, Stack
    from aws_cdk import aws_cloudwatch as cw

    from constructs_lib import PlatformValidationError
    from constructs_lib.observability import AlarmFactory, Datapoints, Severity
    from constructs_lib.observability._quotas import valid_alarm_window

    assert valid_alarm_window(259200, 1) and valid_alarm_window(3600, 168) and not valid_alarm_window(3600, 169)
    assert not valid_alarm_window(300, 289) and not valid_alarm_window(90, 1) and valid_alarm_window(30, 2)
    stack = Stack(new_app(tmp_path), "Windows")
    metric = cw.Metric(namespace="AWS/SageMaker", metric_name="Invocations")
    with pytest.raises(PlatformValidationError, match=r"period x evaluation_periods: got \(300, 300\)"):
        AlarmFactory(stack, prefix="x").metric_alarm(
            signal="s", severity=Severity.WARNING, metric=metric, threshold=1,
            comparison=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
            datapoints=Datapoints(Duration.minutes(5), 300, 1), summary="s.", look_first_at="x",
        )


def test_gpu_count_per_instance_type():
    from constructs_lib.observability._accelerators import gpus_per_instance

    assert [gpus_per_instance(t) for t in ("ml.g5.2xlarge", "ml.g5.12xlarge", "ml.p4d.24xlarge", "ml.c5.xlarge")] == [1, 4, 8, 1]


def test_endpoint_dashboard_remains_the_dashboard_only_form(tmp_path):
    from aws_cdk import Stack

    from constructs_lib import EndpointDashboard, InferenceEndpoint

    app = new_app(tmp_path)
    stack = Stack(app, "Legacy")
    ep = InferenceEndpoint.from_endpoint_name(stack, "E", "legacy-endpoint")
    EndpointDashboard(stack, "D", endpoint=ep, gpu=False)
    template = app.synth().get_stack_by_name("Legacy").template
    assert lint_assembly(tmp_path) == []
    types = {r["Type"] for r in template["Resources"].values()}
    assert types == {"AWS::CloudWatch::Dashboard"}
    body = body_of(next(iter(template["Resources"].values())))
    assert not any("GPU" in w["properties"].get("title", "") for w in body["widgets"])


def test_rendered_dashboard_image_is_committed():
    assert (Path(__file__).resolve().parents[1] / "docs" / "observability-dashboards.svg").is_file()


def test_observability_stack_monitors_clusters_and_puts_them_on_the_overview(tmp_path):
    from aws_cdk import Stack

    from constructs_lib import PlatformKey
    from constructs_lib.observability import LustreFileSystem
    from stacks.config import parse_config
    from stacks.observability_stack import MonitoredCluster, ObservabilityStack

    config = parse_config({"platform": {"name": "acme-ml", "environment": "dev"}, "notifications": {"emails": []}})
    app = new_app(tmp_path)
    key = PlatformKey(Stack(app, "Data"), "Key", alias="alias/acme").key
    stack = ObservabilityStack(
        app, "Obs", config=config, key=key,
        clusters=[MonitoredCluster("llm-pretrain", _AgentMetrics(), LustreFileSystem("fs-0123456789abcdef0", 2400))],
    )
    stack.add_overview([])
    template = app.synth().get_stack_by_name("Obs").template
    assert lint_assembly(tmp_path) == []
    names = {r["Properties"]["DashboardName"] for r in template["Resources"].values() if r["Type"] == "AWS::CloudWatch::Dashboard"}
    assert names == {"llm-pretrain-cluster", "acme-ml-dev-overview"}
    overview = next(body_of(r) for r in template["Resources"].values()
                    if r["Type"] == "AWS::CloudWatch::Dashboard" and r["Properties"]["DashboardName"] == "acme-ml-dev-overview")
    titles = [w["properties"].get("title") for w in overview["widgets"]]
    assert titles[1:5] == ["Alarms", "llm-pretrain: GPU utilization (%)", "llm-pretrain: unhealthy-node events",
                           "llm-pretrain: FSx used (%)"]
    unhealthy = next(k for k, r in template["Resources"].items()
                     if r["Properties"].get("AlarmName") == "llm-pretrain-unhealthy-critical")
    assert overview["widgets"][1]["properties"]["alarms"][0] == unhealthy
    assert stack.clusters["llm-pretrain"].file_system.storage_capacity_gib == 2400


def test_default_platform_monitors_its_training_cluster(default_platform):
    """The configured Slurm cluster gets ClusterMonitoring: FSx, node-health and GPU alarms, each with an action."""
    t = default_platform["observability"]
    alarms = {a["Properties"]["AlarmName"]: a["Properties"] for a in resources_of(t, "AWS::CloudWatch::Alarm").values()
              if isinstance(a["Properties"].get("AlarmName"), str)}
    prefix = "acme-ml-dev-llm-pretrain-"
    thresholds = {n.removeprefix(prefix): a["Threshold"] for n, a in alarms.items() if n.startswith(prefix)}
    assert thresholds == {
        "fsx-used-warning": 80, "fsx-used-critical": 90,
        "unhealthy-nodes-warning": 1, "unhealthy-nodes-critical": 3,
        "low-gpu-utilization-warning": 20,
        # training_clusters[0].monitoring (node collector; exact metrics in tests/test_cluster_monitoring.py)
        "idle-gpu-hours-workers-warning": 1, "gpu-xid-workers-warning": 0, "gpu-ecc-dbe-workers-critical": 1,
        "nvlink-errors-workers-warning": 1,
    }
    gpu = alarms[prefix + "low-gpu-utilization-warning"]
    assert (gpu["Namespace"], gpu["MetricName"], gpu["ComparisonOperator"]) == (
        "AIPlatform/HyperPod", "nvidia_smi_utilization_gpu", "LessThanThreshold"
    )
    fsx = alarm_metric_stats(alarms[prefix + "fsx-used-critical"])
    assert fsx["expr_1"]["Expression"] == f"100 * (1 - (free / (PERIOD(free) / 60)) / {1200 * 1024 ** 3})"
    assert fsx["free"]["MetricStat"] == {
        "Metric": {
            "Dimensions": [{"Name": "FileSystemId", "Value": {"Fn::GetStackOutput": {
                "StackName": "acme-ml-dev-training", "Region": {"Ref": "AWS::Region"},
                "OutputName": "PublishOutputRefllmpretrainStorageCB89BDE4D95A1BC3"}}}],
            "MetricName": "FreeDataStorageCapacity", "Namespace": "AWS/FSx",
        },
        "Period": 60, "Stat": "Sum",
    }
    assert all(alarms[prefix + n].get("AlarmActions") for n in thresholds)
