"""Training-job observability on the default platform: the llm-finetune pipeline's metric definitions
reach its training job, its dashboard references only metrics SageMaker and Step Functions publish
(exact namespaces, dimensions, statistics), and its alarms route by severity; config errors name their
key paths. Reads the shared ``default_platform`` synth; the config tests synthesize nothing.

Sources: SageMaker Developer Guide "Amazon SageMaker AI metrics in Amazon CloudWatch" (host metrics,
``Host`` = ``<job>/algo-N``, GPU metrics 0-100 x GPUs) and "Amazon CloudWatch Metrics for Monitoring and
Analyzing Training Jobs" (algorithm metrics, ``TrainingJobName``); Step Functions "Monitoring Step
Functions metrics using Amazon CloudWatch" (``AWS/States``, ``StateMachineArn``); CloudWatch "CloudWatch
search expression syntax" (dashboard SEARCH, partial matches of tokens). The per-job alarms themselves are
tested against moto in tests/lambda/test_lambda_training_job_alarms.py; here: the rule, the function, its
environment and IAM policy as synthesized.
"""

from __future__ import annotations

import copy
import itertools
import json

import pytest
import yaml

from constructs_lib.errors import PlatformValidationError
from tests.conftest import resources_of
from tests.test_observability import body_of

PREFIX = "acme-ml-dev-pipeline-llm-finetune"
DASHBOARD = PREFIX
NS = "/aws/sagemaker/TrainingJobs"


def search(metric: str, stat: str, dimension: str = "Host") -> str:
    """SEARCH of the pipeline's hosts (or jobs): partial match of the tokens of 'llm-finetune'."""
    return f"SEARCH('{{\"{NS}\",{dimension}}} MetricName=\"{metric}\" {dimension}=llm-finetune', '{stat}', 60)"

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


def test_dashboard_per_host_widgets_are_search_expressions_per_gpu(default_platform):
    """ml.g5.12xlarge has 4 GPUs: SageMaker's GPUUtilization is 0-400 there, the graph shows q / 4."""
    w = _widgets(default_platform["observability"])
    gpu = w["GPU utilization per host (% per GPU)"]["properties"]
    assert gpu["metrics"] == [
        [{"label": "${LABEL}", "expression": "q / 4", "period": 60}],
        [{"label": "", "expression": search("GPUUtilization", "Average"), "id": "q", "visible": False, "period": 60}],
    ]
    assert gpu["yAxis"] == {"left": {"min": 0, "max": 100, "showUnits": False}}
    memory = w["GPU memory per host (% per GPU)"]["properties"]["metrics"]
    assert memory[1][0]["expression"] == search("GPUMemoryUtilization", "Average")
    assert memory[0][0]["expression"] == "q / 4"
    assert w["Disk utilization per host (%)"]["properties"]["metrics"] == [
        [{"label": "${LABEL}", "expression": search("DiskUtilization", "Maximum"), "period": 60}]
    ]
    assert w["CPU utilization per host (% summed over cores)"]["properties"]["metrics"] == [
        [{"label": "${LABEL}", "expression": search("CPUUtilization", "Average"), "period": 60}]
    ]
    assert w["Memory utilization per host (%)"]["properties"]["metrics"] == [
        [{"label": "${LABEL}", "expression": search("MemoryUtilization", "Maximum"), "period": 60}]
    ]
    assert w["Hosts publishing (datapoints per minute)"]["properties"]["metrics"] == [
        [{"label": "hosts", "expression": "SUM(h)", "period": 60}],
        [{"label": "", "expression": search("CPUUtilization", "SampleCount"), "id": "h", "visible": False, "period": 60}],
    ]
    body = json.dumps(_dashboard(default_platform["observability"]))
    assert " LIKE " not in body and "SELECT " not in body  # no Metrics Insights operator AWS does not document


def test_dashboard_graphs_each_algorithm_metric_per_job(default_platform):
    w = _widgets(default_platform["observability"])
    for name in ("train_loss", "tokens_per_second"):
        assert w[f"{name} per job"]["properties"]["metrics"] == [
            [{"label": "${LABEL}", "expression": search(name, "Average", "TrainingJobName"), "period": 60}]
        ]
    widgets = _dashboard(default_platform["observability"])["widgets"]
    assert widgets[-1]["properties"].get("title") == "Alarms"
    header = widgets[0]["properties"]["markdown"]
    assert "Spot interruptions and savings: DescribeTrainingJob" in header
    assert f"`{PREFIX}-job/<job>/...` (stalled, GPUs under-used, disk)" in header


def test_training_dashboard_picture_is_current(default_platform):
    """docs/training-dashboards.svg (docs/render_dashboards.py) draws the pipeline's dashboard as it is."""
    from pathlib import Path

    svg = (Path(__file__).resolve().parents[1] / "docs" / "training-dashboards.svg").read_text()
    widgets = len(_dashboard(default_platform["observability"])["widgets"])
    assert f"{DASHBOARD} ({widgets} widgets)" in svg


# -- alarms --------------------------------------------------------------------------------------------
def test_static_pipeline_alarms_are_the_execution_alarms_and_their_rollup(default_platform):
    alarms = _alarms(default_platform["observability"])
    assert sorted(alarms) == sorted(f"{PREFIX}-{s}" for s in (
        "execution-failed-critical", "execution-timed-out-critical", "unhealthy-critical",
    ))
    for signal, metric in (("execution-failed", "ExecutionsFailed"), ("execution-timed-out", "ExecutionsTimedOut")):
        a = alarms[f"{PREFIX}-{signal}-critical"]
        assert (a["Namespace"], a["MetricName"], a["Statistic"], a["Period"]) == ("AWS/States", metric, "Sum", 300)
        assert a["Dimensions"] == [{"Name": "StateMachineArn", "Value": {"Fn::GetStackOutput": {
            "StackName": "acme-ml-dev-training", "Region": {"Ref": "AWS::Region"}, "OutputName": STATE_MACHINE_OUTPUT}}}]
        assert (a["Threshold"], a["ComparisonOperator"], a["EvaluationPeriods"], a["DatapointsToAlarm"]) == (
            1, "GreaterThanOrEqualToThreshold", 1, 1)
        assert "AlarmActions" not in a  # through the rollup
    t = default_platform["observability"]
    topics = {v["Properties"]["DisplayName"].split()[-2]: k for k, v in resources_of(t, "AWS::SNS::Topic").items()
              if v["Properties"].get("DisplayName", "").endswith(" alarms")}
    unhealthy = alarms[f"{PREFIX}-unhealthy-critical"]
    assert unhealthy["AlarmActions"] == [{"Ref": topics["critical"]}]
    rule = json.dumps(unhealthy["AlarmRule"])
    for child in ("ExecutionFailedCritical", "ExecutionTimedOutCritical"):
        assert f"LlmFinetuneTraining{child}Alarm" in rule, child
    for name, a in alarms.items():
        assert "Look first at: " in a["AlarmDescription"], name


def _job_alarms_function(t) -> tuple[str, dict]:
    (found,) = [(k, f) for k, f in resources_of(t, "AWS::Lambda::Function").items()
                if k.startswith("TrainingJobAlarmsHandler")]
    return found


def test_job_alarms_function_gets_the_pipelines_thresholds_and_the_severity_topics(default_platform):
    """The settings the function turns into PutMetricAlarm requests (job_alarm_requests): 40 % per GPU on
    4 GPUs is 160, 30 minutes are 6 five-minute periods, the disk thresholds of the default config."""
    t = default_platform["observability"]
    _, function = _job_alarms_function(t)
    props = function["Properties"]
    raw = props["Environment"]["Variables"]["JOB_ALARMS"]
    parts = raw["Fn::Join"][1]
    topics = {v["Properties"]["DisplayName"].split()[-2]: k for k, v in resources_of(t, "AWS::SNS::Topic").items()
              if v["Properties"].get("DisplayName", "").endswith(" alarms")}
    text = "".join(p if isinstance(p, str) else f"<{p['Ref']}>" for p in parts)
    assert json.loads(text) == {
        "topics": {"critical": f"<{topics['critical']}>", "warning": f"<{topics['warning']}>"},
        "pipelines": [{
            "pipeline": "llm-finetune", "alarm_prefix": f"{PREFIX}-job/", "dashboard": DASHBOARD,
            "progress_metric": "tokens_per_second", "stall_periods": 6, "gpu_threshold": 160.0,
            "gpu_floor_percent": 40.0, "gpus": 4, "gpu_periods": 6,
            "disk_percent": {"warning": 80.0, "critical": 90.0},
        }],
    }
    assert (props["Handler"], props["Timeout"], props["ReservedConcurrentExecutions"], props["TracingConfig"]) == (
        "handler.handler", 120, 2, {"Mode": "Active"})
    assert props["DeadLetterConfig"]["TargetArn"]["Fn::GetAtt"][0].startswith("TrainingJobAlarmsHandlerFailureQueue")
    assert [layer["Ref"] for layer in props["Layers"]] == [
        k for k in resources_of(t, "AWS::Lambda::LayerVersion") if k.startswith("PowertoolsLayer")]


def test_job_alarms_rules_select_the_pipelines_jobs_by_name_prefix_and_sweep_hourly(default_platform):
    t = default_platform["observability"]
    name, _ = _job_alarms_function(t)
    rules = {k: r["Properties"] for k, r in resources_of(t, "AWS::Events::Rule").items() if k.startswith("TrainingJobAlarms")}
    (events,) = [r for r in rules.values() if "EventPattern" in r]
    assert events["EventPattern"] == {
        "source": ["aws.sagemaker"],
        "detail-type": ["SageMaker Training Job State Change"],
        "detail": {
            "TrainingJobName": [{"prefix": "llm-finetune-"}],
            "TrainingJobStatus": [{"equals-ignore-case": s}
                                  for s in ("InProgress", "Completed", "Failed", "Stopping", "Stopped")],
        },
    }
    (sweep,) = [r for r in rules.values() if "ScheduleExpression" in r]
    assert sweep["ScheduleExpression"] == "rate(1 hour)"
    for rule in (events, sweep):
        (target,) = rule["Targets"]
        assert target["Arn"] == {"Fn::GetAtt": [name, "Arn"]}
        assert target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 7200, "MaximumRetryAttempts": 8}
        assert target["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0].startswith("TrainingJobAlarmsDeadLetterQueue")


def test_job_alarms_cleanup_is_served_by_the_function_and_deleted_after_both_rules(default_platform):
    """The cleanup custom resource (its Delete deletes the pipelines' alarms): ServiceToken is the function's
    ARN, so it is deleted before the function; both rules DependsOn it, so they are deleted before it
    (CloudFormation deletes dependents first: Template Reference, "DependsOn attribute")."""
    t = default_platform["observability"]
    name, _ = _job_alarms_function(t)
    ((cleanup_id, cleanup),) = resources_of(t, "Custom::TrainingJobAlarmsCleanup").items()
    assert cleanup_id.startswith("TrainingJobAlarmsCleanup")
    assert cleanup["Properties"] == {
        "ServiceToken": {"Fn::GetAtt": [name, "Arn"]}, "ServiceTimeout": "600", "AlarmPrefixes": [f"{PREFIX}-job/"]}
    assert (cleanup["UpdateReplacePolicy"], cleanup["DeletionPolicy"]) == ("Delete", "Delete")
    rules = {k: r for k, r in resources_of(t, "AWS::Events::Rule").items() if k.startswith("TrainingJobAlarms")}
    assert len(rules) == 2
    for rule_id, rule in rules.items():
        assert cleanup_id in rule["DependsOn"], rule_id


def test_job_alarms_policy_is_scoped_to_the_alarm_prefix_and_the_pipelines_jobs(default_platform):
    from tests.test_lifecycle import render

    t = default_platform["observability"]
    (policy,) = [p for k, p in resources_of(t, "AWS::IAM::Policy").items() if k.startswith("TrainingJobAlarmsHandlerRole")]
    by_sid = {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"] if "Sid" in s}
    topics = {v["Properties"]["DisplayName"].split()[-2]: k for k, v in resources_of(t, "AWS::SNS::Topic").items()
              if v["Properties"].get("DisplayName", "").endswith(" alarms")}
    alarm_arn = f"arn:${{Partition}}:cloudwatch:${{Region}}:${{Account}}:alarm:{PREFIX}-job/*"
    assert (by_sid["PutJobAlarms"]["Action"], render(by_sid["PutJobAlarms"]["Resource"])) == (
        "cloudwatch:PutMetricAlarm", alarm_arn)
    condition = by_sid["PutJobAlarms"]["Condition"]["ForAllValues:StringEquals"]["cloudwatch:AlarmActions"]
    assert sorted(c["Ref"] for c in condition) == sorted(topics[s] for s in ("critical", "warning"))
    assert (by_sid["DeleteJobAlarms"]["Action"], render(by_sid["DeleteJobAlarms"]["Resource"])) == (
        "cloudwatch:DeleteAlarms", alarm_arn)
    assert (by_sid["ListJobAlarms"]["Action"], by_sid["ListJobAlarms"]["Resource"]) == ("cloudwatch:DescribeAlarms", "*")
    assert (by_sid["DescribePipelineJobs"]["Action"], render(by_sid["DescribePipelineJobs"]["Resource"])) == (
        "sagemaker:DescribeTrainingJob", "arn:${Partition}:sagemaker:${Region}:${Account}:training-job/llm-finetune-*")
    actions = {a for s in policy["Properties"]["PolicyDocument"]["Statement"] for a in
               (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])}
    assert "iam:PassRole" not in actions and not any(a.endswith(":*") for a in actions)


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
        "(the job alarms' 5-minute periods)"),
        ("training_pipelines[0].monitoring.gpu_underuse_minutes: got 240; a multiple of 5 minutes from 10 to 180 "
        "(the job alarms' 5-minute periods)"),
        "training_pipelines[0].monitoring.gpu_utilization_floor_percent: got 0.0; a percentage per GPU in (0, 100]",
        ("training_pipelines[0].monitoring.disk_utilization_warning_percent: got 95.0; below "
        "disk_utilization_critical_percent (90)"),
    ]


def test_a_pipeline_name_may_not_extend_another_with_a_hyphen():
    """llm-finetune-v2's jobs would be llm-finetune's for the job alarms' rule (prefix llm-finetune-), and
    llm-finetune's dashboard SEARCH (Host=llm-finetune, tokens llm, finetune) would graph them too."""
    data = _config_with()
    data["training_pipelines"].append({**data["training_pipelines"][0], "name": "llm-finetune-v2"})
    assert _problems(data) == [
        ("training_pipelines[0].name: got 'llm-finetune'; a name whose CloudWatch search tokens (llm, finetune) "
         "do not occur in that order in training_pipelines[1]'s name 'llm-finetune-v2': the dashboard's SEARCH "
         "Host=<name> is a partial match and would graph that pipeline's jobs too"),
        ("training_pipelines[1].name: got 'llm-finetune-v2'; a name that does not start with 'llm-finetune-' "
         "(training_pipelines[0]'s job alarms select its jobs by that prefix)"),
    ]


def test_pipeline_names_whose_search_would_match_other_jobs_are_refused():
    """Partial matches are by token (CloudWatch search expression syntax): 'finetune' is a token of
    'llm-finetune', wherever it stands; 'cafe-1' could be made of any job id's hex letters and digits."""
    data = _config_with()
    first = data["training_pipelines"][0]
    data["training_pipelines"] = [first, {**first, "name": "finetune"}, {**first, "name": "cafe-1"},
                                  {**first, "name": "chat-sft"}]
    assert _problems(data) == [
        ("training_pipelines[1].name: got 'finetune'; a name whose CloudWatch search tokens (finetune) do not occur "
         "in that order in training_pipelines[0]'s name 'llm-finetune': the dashboard's SEARCH Host=<name> is a "
         "partial match and would graph that pipeline's jobs too"),
        ("training_pipelines[2].name: got 'cafe-1'; a name with a search token other than numbers, 'algo' and the "
         "letters a-f (CloudWatch search tokens of a job's id and host suffix would match it)"),
    ]


def test_search_tokens_follow_the_documented_examples():
    """CloudWatch User Guide, "CloudWatch search expressions: Tokenization" table."""
    from constructs_lib.training import job_metrics as jm

    assert jm.search_tokens("CustomCount1") == ["custom", "count", "1"]
    assert jm.search_tokens("SDBFailure") == ["sdb", "failure"]
    assert jm.search_tokens("Project2-trial333") == ["project", "2", "trial", "333"]
    assert jm.search_may_match("llm", "llm-finetune") and not jm.search_may_match("llm-finetune-v2", "llm-finetune")
    assert jm.search_may_match("llm-a1", "llm")  # 'a', '1' can begin the job id after 'llm-'
    assert not jm.search_may_match("chat-sft", "llm-pretrain")


# -- TrainingJobAlarms construct rules (constructed, not synthesized) -----------------------------------
def _job_alarms(**overrides):
    from aws_cdk import App, Stack
    from aws_cdk import aws_kms as kms
    from aws_cdk import aws_sns as sns

    from constructs_lib.job_alarm_requests import PipelineJobAlarms
    from constructs_lib.lifecycle import TrainingJobAlarms

    stack = Stack(App(), "JobAlarms")
    key = kms.Key(stack, "Key")
    spec = PipelineJobAlarms(pipeline="llm-finetune", alarm_prefix="p-llm-finetune-job/", dashboard="d")
    props = {"pipelines": [spec], "topics": {"critical": sns.Topic(stack, "Critical")}, "key": key, **overrides}
    return TrainingJobAlarms(stack, "TrainingJobAlarms", **props), spec


def test_job_alarms_construct_refuses_what_would_break_names_or_the_environment():
    from constructs_lib.job_alarm_requests import PipelineJobAlarms, max_alarm_prefix_chars

    spec = PipelineJobAlarms(pipeline="llm-finetune", alarm_prefix="p-llm-finetune-job/", dashboard="d")
    limit = max_alarm_prefix_chars()
    assert limit == 255 - 63 - len("/gpu-underused-warning-hosts-91-100")
    long = PipelineJobAlarms(pipeline="other", alarm_prefix="x" * (limit + 1), dashboard="d")
    overlapping = PipelineJobAlarms(pipeline="llm", alarm_prefix="p-llm-finetune-job/x", dashboard="d")
    with pytest.raises(PlatformValidationError) as caught:
        _job_alarms(pipelines=[spec, spec, long, overlapping], topics={"info": None})
    assert [str(p) for p in caught.value.problems] == [
        ("pipelines[0].alarm_prefix: got 'p-llm-finetune-job/'; a prefix that does not start with pipelines[1]'s "
        "(p-llm-finetune-job/): each pipeline's sweep deletes the alarms under its prefix"),
        "pipelines[1].pipeline: got 'llm-finetune'; a unique pipeline (pipelines[0] has it)",
        ("pipelines[1].alarm_prefix: got 'p-llm-finetune-job/'; a prefix that does not start with pipelines[0]'s "
        "(p-llm-finetune-job/): each pipeline's sweep deletes the alarms under its prefix"),
        (f"pipelines[2].alarm_prefix: got '{'x' * (limit + 1)}'; 1-{limit} characters (job alarm names add the job "
        "name and up to 35 characters; PutMetricAlarm AlarmName is at most 255)"),
        ("pipelines[3].alarm_prefix: got 'p-llm-finetune-job/x'; a prefix that does not start with pipelines[0]'s "
        "(p-llm-finetune-job/): each pipeline's sweep deletes the alarms under its prefix"),
        ("pipelines[3].alarm_prefix: got 'p-llm-finetune-job/x'; a prefix that does not start with pipelines[1]'s "
        "(p-llm-finetune-job/): each pipeline's sweep deletes the alarms under its prefix"),
        "topics: got 'info'; one of critical, warning",
    ]
    with pytest.raises(PlatformValidationError, match=r"pipelines: got \[\]; at least one pipeline"):
        _job_alarms(pipelines=[])
    many = [PipelineJobAlarms(pipeline=f"pipeline-{i:02d}", alarm_prefix=f"acme-ml-dev-pipeline-{i:02d}-job/",
                              dashboard=f"acme-ml-dev-pipeline-{i:02d}", progress_metric="tokens_per_second",
                              gpu_threshold=160.0, gpu_floor_percent=40.0, gpus=4,
                              disk_percent={"warning": 80.0, "critical": 90.0}) for i in range(20)]
    with pytest.raises(PlatformValidationError, match=(
        r"pipelines: got '20 pipelines'; fewer: their alarm settings \(about \d+ bytes\) must fit the function's "
        r"environment \(Lambda: 4096 bytes in all\); split them with pack_pipelines"
    )):
        _job_alarms(pipelines=many)


def test_pipelines_are_packed_into_functions_whose_environment_fits():
    """30 pipelines (the most the observability stack's size check lets in): consecutive groups, each of
    which one function accepts; the platform creates TrainingJobAlarms, TrainingJobAlarms2, ..."""
    from aws_cdk import App, Stack
    from aws_cdk import aws_sns as sns

    from constructs_lib.job_alarm_requests import PipelineJobAlarms
    from constructs_lib.lifecycle import pack_pipelines
    from constructs_lib.lifecycle.training_job_alarms import ENVIRONMENT_BUDGET, settings_size

    stack = Stack(App(), "Packed")
    topics = {s: sns.Topic(stack, s) for s in ("critical", "warning")}
    many = [PipelineJobAlarms(pipeline=f"pipeline-{i:02d}-" + "x" * 14, alarm_prefix=f"acme-ml-dev-pipeline-{i:02d}-job/",
                              dashboard=f"acme-ml-dev-pipeline-{i:02d}", progress_metric="tokens_per_second",
                              gpu_threshold=160.0, gpu_floor_percent=40.0, gpus=4,
                              disk_percent={"warning": 80.0, "critical": 90.0}) for i in range(30)]
    groups = pack_pipelines(many, topics)
    assert [p for g in groups for p in g] == many and [len(g) for g in groups] == [12, 12, 6]
    # Each group fits the budget the construct checks (its refusal is tested above); one more pipeline would not.
    for group, following in itertools.pairwise(groups):
        assert settings_size(group, topics) <= ENVIRONMENT_BUDGET < settings_size([*group, following[0]], topics)
