"""Training-job observability on the default platform: the llm-finetune pipeline's metric definitions
reach its training job, its dashboard references only metrics SageMaker and Step Functions publish
(exact namespaces, dimensions, statistics), and its alarms route by severity; config errors name their
key paths. Reads the shared ``default_platform`` synth; the config tests synthesize nothing.

Sources: SageMaker Developer Guide "Amazon SageMaker AI metrics in Amazon CloudWatch" (host metrics,
``Host`` = ``<job>/algo-N``, GPU metrics 0-100 x GPUs) and "Amazon CloudWatch Metrics for Monitoring and
Analyzing Training Jobs" (algorithm metrics, ``TrainingJobName``); Step Functions "Monitoring Step
Functions metrics using Amazon CloudWatch" (``AWS/States``, ``StateMachineArn``); CloudWatch "Create a
CloudWatch alarm based on a Metrics Insights query".
"""

from __future__ import annotations

import copy
import json

import pytest
import yaml

from constructs_lib.errors import PlatformValidationError
from tests.conftest import resources_of
from tests.test_observability import body_of

PREFIX = "acme-ml-dev-pipeline-llm-finetune"
DASHBOARD = PREFIX
NS = "/aws/sagemaker/TrainingJobs"
HOSTS = f'FROM SCHEMA("{NS}", Host) WHERE Host LIKE \'llm-finetune-%\''
JOBS = f'FROM SCHEMA("{NS}", TrainingJobName) WHERE TrainingJobName LIKE \'llm-finetune-%\''
STATE_MACHINE_OUTPUT = "PublishOutputRefPipelinellmfinetune67C03EC444CCE65F"



def _dashboard(template) -> dict:
    (d,) = [d for d in resources_of(template, "AWS::CloudWatch::Dashboard").values()
            if d["Properties"]["DashboardName"] == DASHBOARD]
    return body_of(d)


def _widgets(template) -> dict[str, dict]:
    return {w["properties"].get("title", w["type"]): w for w in _dashboard(template)["widgets"]}


def _alarms(template) -> dict[str, dict]:
    return {
        a["Properties"]["AlarmName"]: a["Properties"]
        for t in ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm")
        for a in resources_of(template, t).values()
        if str(a["Properties"].get("AlarmName", "")).startswith(PREFIX + "-")
    }


def _train_request(default_platform) -> dict:
    (machine,) = [m for k, m in resources_of(default_platform["training"], "AWS::StepFunctions::StateMachine").items()
                  if k.startswith("Pipelinellmfinetune")]
    parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]
    return json.loads("".join(p if isinstance(p, str) else "<ref>" for p in parts))["States"]["Train"]["Parameters"]


# -- item 1: metric definitions reach the job ---------------------------------------------------------------
def test_metric_definitions_reach_the_training_job_with_time_series(default_platform):
    """CreateTrainingJob AlgorithmSpecification.MetricDefinitions + EnableSageMakerMetricsTimeSeries."""
    spec = _train_request(default_platform)["AlgorithmSpecification"]
    assert spec["MetricDefinitions"] == [
        {"Name": "train_loss", "Regex": "loss=([0-9\\.]+)"},
        {"Name": "tokens_per_second", "Regex": "tok/s=([0-9\\.]+)"},
    ]
    assert spec["EnableSageMakerMetricsTimeSeries"] is True
    assert spec["TrainingInputMode"] == "File"


# -- dashboard: only metrics that exist, exact namespaces/dimensions/statistics ----------------------------
def test_dashboard_execution_widgets_are_aws_states_metrics_of_the_state_machine(default_platform):
    w = _widgets(default_platform["observability"])
    rows = w["Executions (jobs) per hour"]["properties"]["metrics"]
    assert rows == [
        ["AWS/States", name, "StateMachineArn", STATE_MACHINE_OUTPUT, {"label": label, "period": 3600, "stat": "Sum"}]
        for name, label in (("ExecutionsStarted", "started"), ("ExecutionsSucceeded", "succeeded"),
                            ("ExecutionsFailed", "failed"), ("ExecutionsTimedOut", "timed out"),
                            ("ExecutionsAborted", "aborted"))
    ]
    duration = w["Execution duration (minutes)"]["properties"]["metrics"]
    assert duration == [
        [{"label": "longest", "expression": "t / 60000", "period": 3600}],
        ["AWS/States", "ExecutionTime", "StateMachineArn", STATE_MACHINE_OUTPUT,
         {"id": "t", "visible": False, "period": 3600, "stat": "Maximum"}],
        [{"label": "average", "expression": "a / 60000", "period": 3600}],
        ["AWS/States", "ExecutionTime", "StateMachineArn", STATE_MACHINE_OUTPUT,
         {"id": "a", "visible": False, "period": 3600}],  # Average: CloudWatch's default, left out
    ]


def test_dashboard_per_host_widgets_are_metrics_insights_queries_per_gpu(default_platform):
    """ml.g5.12xlarge has 4 GPUs: SageMaker's GPUUtilization is 0-400 there, the graph shows q / 4."""
    w = _widgets(default_platform["observability"])
    gpu = w["GPU utilization per host (% per GPU)"]["properties"]
    assert gpu["metrics"] == [
        [{"label": "${LABEL}", "expression": "q / 4", "period": 60}],
        [{"label": "", "expression": f'SELECT AVG("GPUUtilization") {HOSTS} GROUP BY Host', "id": "q",
          "visible": False, "period": 60}],
    ]
    assert gpu["yAxis"] == {"left": {"min": 0, "max": 100, "showUnits": False}}
    memory = w["GPU memory per host (% per GPU)"]["properties"]["metrics"]
    assert memory[1][0]["expression"] == f'SELECT AVG("GPUMemoryUtilization") {HOSTS} GROUP BY Host'
    assert memory[0][0]["expression"] == "q / 4"
    assert w["Disk utilization per host (%)"]["properties"]["metrics"] == [
        [{"label": "${LABEL}", "expression": f'SELECT MAX("DiskUtilization") {HOSTS} GROUP BY Host', "period": 60}]
    ]
    assert w["CPU utilization per host (% summed over cores)"]["properties"]["metrics"] == [
        [{"label": "${LABEL}", "expression": f'SELECT AVG("CPUUtilization") {HOSTS} GROUP BY Host', "period": 60}]
    ]
    assert w["Memory utilization per host (%)"]["properties"]["metrics"] == [
        [{"label": "${LABEL}", "expression": f'SELECT MAX("MemoryUtilization") {HOSTS} GROUP BY Host', "period": 60}]
    ]
    assert w["Hosts publishing (datapoints per minute)"]["properties"]["metrics"] == [
        [{"label": "hosts", "expression": f'SELECT COUNT("CPUUtilization") {HOSTS}', "period": 60}]
    ]


def test_dashboard_graphs_each_algorithm_metric_per_job(default_platform):
    w = _widgets(default_platform["observability"])
    for name in ("train_loss", "tokens_per_second"):
        assert w[f"{name} per job"]["properties"]["metrics"] == [
            [{"label": "${LABEL}", "expression": f'SELECT AVG("{name}") {JOBS} GROUP BY TrainingJobName', "period": 60}]
        ]
    titles = [x["properties"].get("title") for x in _dashboard(default_platform["observability"])["widgets"]]
    assert titles[-1] == "Alarms"
    assert "Spot interruptions and savings: DescribeTrainingJob" in _dashboard(
        default_platform["observability"])["widgets"][0]["properties"]["markdown"]


def test_training_dashboard_picture_is_current(default_platform):
    """docs/training-dashboards.svg (docs/render_dashboards.py) draws the pipeline's dashboard as it is."""
    from pathlib import Path

    svg = (Path(__file__).resolve().parents[1] / "docs" / "training-dashboards.svg").read_text()
    widgets = len(_dashboard(default_platform["observability"])["widgets"])
    assert f"{DASHBOARD} ({widgets} widgets)" in svg


# -- alarms --------------------------------------------------------------------------------------------
def test_pipeline_alarms_have_the_configured_thresholds(default_platform):
    alarms = _alarms(default_platform["observability"])
    assert sorted(alarms) == sorted(f"{PREFIX}-{s}" for s in (
        "execution-failed-critical", "execution-timed-out-critical", "job-running-critical",
        "progress-absent-critical", "stalled-critical", "gpu-underused-warning", "disk-warning", "disk-critical",
        "unhealthy-critical", "degraded-warning",
    ))
    for signal, metric in (("execution-failed", "ExecutionsFailed"), ("execution-timed-out", "ExecutionsTimedOut")):
        a = alarms[f"{PREFIX}-{signal}-critical"]
        assert (a["Namespace"], a["MetricName"], a["Statistic"], a["Period"]) == ("AWS/States", metric, "Sum", 300)
        assert a["Dimensions"] == [{"Name": "StateMachineArn", "Value": {"Fn::GetStackOutput": {
            "StackName": "acme-ml-dev-training", "Region": {"Ref": "AWS::Region"}, "OutputName": STATE_MACHINE_OUTPUT}}}]
        assert (a["Threshold"], a["ComparisonOperator"], a["EvaluationPeriods"], a["DatapointsToAlarm"]) == (
            1, "GreaterThanOrEqualToThreshold", 1, 1)
    gpu = alarms[f"{PREFIX}-gpu-underused-warning"]
    # 40 % per GPU on a 4-GPU instance: SageMaker reports 0-400.
    assert (gpu["Threshold"], gpu["ComparisonOperator"], gpu["EvaluationPeriods"], gpu["DatapointsToAlarm"],
            gpu["TreatMissingData"]) == (160, "LessThanThreshold", 6, 6, "notBreaching")
    assert gpu["Metrics"] == [{"Id": "expr_1", "Expression": f'SELECT AVG("GPUUtilization") {HOSTS}',
                               "Label": "GPUUtilization (summed over GPUs)", "Period": 300, "ReturnData": True}]
    for severity, threshold in (("warning", 80), ("critical", 90)):
        disk = alarms[f"{PREFIX}-disk-{severity}"]
        assert disk["Threshold"] == threshold and disk["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert disk["Metrics"][0]["Expression"] == f'SELECT MAX("DiskUtilization") {HOSTS}'
        assert (disk["Metrics"][0]["Period"], disk["EvaluationPeriods"]) == (300, 3)


def test_stall_is_progress_absent_while_a_job_has_been_running_for_stall_minutes(default_platform):
    """30 minutes = 6 five-minute periods; no progress datapoint breaches, no host datapoint does not."""
    t = default_platform["observability"]
    alarms = _alarms(t)
    running, absent = alarms[f"{PREFIX}-job-running-critical"], alarms[f"{PREFIX}-progress-absent-critical"]
    assert running["Metrics"][0]["Expression"] == f'SELECT COUNT("CPUUtilization") {HOSTS}'
    assert (running["Threshold"], running["ComparisonOperator"], running["EvaluationPeriods"],
            running["DatapointsToAlarm"], running["TreatMissingData"], running["Metrics"][0]["Period"]) == (
        1, "GreaterThanOrEqualToThreshold", 6, 6, "notBreaching", 300)
    assert absent["Metrics"][0]["Expression"] == f'SELECT COUNT("tokens_per_second") {JOBS}'
    assert (absent["Threshold"], absent["ComparisonOperator"], absent["EvaluationPeriods"],
            absent["DatapointsToAlarm"], absent["TreatMissingData"], absent["Metrics"][0]["Period"]) == (
        1, "LessThanThreshold", 6, 6, "breaching", 300)
    # The inputs notify only through the composite.
    assert "AlarmActions" not in running and "AlarmActions" not in absent
    ids = {a["Properties"]["AlarmName"]: k for k, a in resources_of(t, "AWS::CloudWatch::Alarm").items()
           if isinstance(a["Properties"].get("AlarmName"), str)}
    rule = alarms[f"{PREFIX}-stalled-critical"]["AlarmRule"]
    assert rule == {"Fn::Join": ["", [
        '(ALARM("', {"Fn::GetAtt": [ids[f"{PREFIX}-job-running-critical"], "Arn"]}, '") AND ALARM("',
        {"Fn::GetAtt": [ids[f"{PREFIX}-progress-absent-critical"], "Arn"]}, '"))']]}


def test_only_the_rollups_notify_each_to_its_severity_topic(default_platform):
    t = default_platform["observability"]
    alarms = _alarms(t)
    topics = {v["Properties"]["DisplayName"].split()[-2]: k for k, v in resources_of(t, "AWS::SNS::Topic").items()
              if v["Properties"].get("DisplayName", "").endswith(" alarms")}
    notifying = {n: a for n, a in alarms.items() if a.get("AlarmActions")}
    assert sorted(notifying) == [f"{PREFIX}-degraded-warning", f"{PREFIX}-unhealthy-critical"]
    assert notifying[f"{PREFIX}-unhealthy-critical"]["AlarmActions"] == [{"Ref": topics["critical"]}]
    assert notifying[f"{PREFIX}-degraded-warning"]["AlarmActions"] == [{"Ref": topics["warning"]}]
    unhealthy = json.dumps(notifying[f"{PREFIX}-unhealthy-critical"]["AlarmRule"])
    for child in ("ExecutionFailedCritical", "ExecutionTimedOutCritical", "StalledCritical", "DiskCritical"):
        assert f"LlmFinetuneTraining{child}Alarm" in unhealthy, child
    assert "Warning" not in unhealthy
    for name, a in alarms.items():
        assert "Look first at: " in a["AlarmDescription"], name


def test_overview_lists_the_pipeline_rollup(default_platform):
    overview = [d for d in resources_of(default_platform["observability"], "AWS::CloudWatch::Dashboard").values()
                if d["Properties"]["DashboardName"].startswith("acme-ml-dev-overview")]
    text = json.dumps([d["Properties"]["DashboardBody"] for d in overview])
    assert "LlmFinetuneTrainingUnhealthyCriticalAlarm" in text


# -- config -------------------------------------------------------------------------------------------
def _config_with(**monitoring_or_definitions):
    from stacks.config import DEFAULT_CONFIG

    data = yaml.safe_load(DEFAULT_CONFIG.read_text())
    pipeline = copy.deepcopy(data["training_pipelines"][0])
    pipeline.update(monitoring_or_definitions)
    data["training_pipelines"] = [pipeline]
    return data


def _problems(data) -> list[str]:
    from stacks.config import parse_config

    with pytest.raises(PlatformValidationError) as caught:
        parse_config(data, source="test.yaml")
    return [str(p) for p in caught.value.problems]


def test_progress_metric_must_name_a_metric_definition():
    with pytest.raises(PlatformValidationError, match=(
        r"training_pipelines\[0\]\.monitoring\.progress_metric: got 'step'; the name of one of "
        r"metric_definitions: train_loss, tokens_per_second"
    )):
        from stacks.config import parse_config

        parse_config(_config_with(monitoring={"progress_metric": "step"}), source="test.yaml")
    assert _problems(_config_with(metric_definitions=[], monitoring={"progress_metric": "train_loss"})) == [
        ("training_pipelines[0].monitoring.progress_metric: got 'train_loss'; the name of one of metric_definitions: "
        "none defined")
    ]


def test_bad_metric_definitions_are_refused_with_key_paths():
    found = _problems(_config_with(metric_definitions=[
        {"name": "train loss", "regex": "loss=([0-9.]+)"},
        {"name": "tok", "regex": "tok=([0-9.]+"},
        {"name": "acc", "regex": "acc=[0-9.]+"},
        {"name": "acc", "regex": "acc2=([0-9.]+)"},
        {"name": "big", "regex": "(x)" + "y" * 500},
    ], monitoring={}))
    assert found == [
        ("training_pipelines[0].metric_definitions[0].name: got 'train loss'; 1-255 letters, digits and "
        "_ . : / # % + - (no quotes or spaces: it is a CloudWatch metric name)"),
        ("training_pipelines[0].metric_definitions[1].regex: got 'tok=([0-9.]+'; a regular expression that "
        "compiles (missing ), unterminated subpattern at position 4)"),
        ("training_pipelines[0].metric_definitions[2].regex: got 'acc=[0-9.]+'; a capture group around the value, "
        "e.g. loss=([0-9\\.]+) (SageMaker publishes the first group)"),
        ("training_pipelines[0].metric_definitions[3].name: got 'acc'; a unique name "
        "(metric_definitions[2] has it)"),
        f"training_pipelines[0].metric_definitions[4].regex: got '(x){'y' * 500}'; 1-500 characters",
    ]
    many = [{"name": f"m{i}", "regex": "v=(\\d+)"} for i in range(41)]
    assert _problems(_config_with(metric_definitions=many, monitoring={})) == [
        "training_pipelines[0].metric_definitions: got '41 definitions'; at most 40 (CreateTrainingJob MetricDefinitions)"
    ]


def test_bad_monitoring_values_are_refused_together():
    found = _problems(_config_with(monitoring={
        "progress_metric": "train_loss", "stall_minutes": 7, "gpu_utilization_floor_percent": 0,
        "gpu_underuse_minutes": 240, "disk_utilization_warning_percent": 95, "disk_utilization_critical_percent": 90,
    }))
    assert found == [
        ("training_pipelines[0].monitoring.stall_minutes: got 7; a multiple of 5 minutes from 10 to 180 "
        "(Metrics Insights queries see the last 3 hours)"),
        ("training_pipelines[0].monitoring.gpu_underuse_minutes: got 240; a multiple of 5 minutes from 10 to 180 "
        "(Metrics Insights queries see the last 3 hours)"),
        "training_pipelines[0].monitoring.gpu_utilization_floor_percent: got 0.0; a percentage per GPU in (0, 100]",
        ("training_pipelines[0].monitoring.disk_utilization_warning_percent: got 95.0; below "
        "disk_utilization_critical_percent (90)"),
    ]


def test_a_pipeline_name_may_not_extend_another_with_a_hyphen():
    """Both pipelines' job alarms select jobs by '<name>-': llm-finetune-v2's jobs would be llm-finetune's too."""
    data = _config_with()
    data["training_pipelines"].append({**data["training_pipelines"][0], "name": "llm-finetune-v2"})
    assert _problems(data) == [
        ("training_pipelines[1].name: got 'llm-finetune-v2'; a name that does not start with 'llm-finetune-' "
        "(training_pipelines[0]'s dashboard and alarms select its jobs by that prefix)")
    ]
