"""lambda/training_job_alarms: each running job of a pipeline gets alarms with its exact dimension values,
and loses them when it ends; repeated, late and out-of-order events and leaked alarms are handled.

Runs in-process against moto (PutMetricAlarm / DescribeAlarms / DeleteAlarms, DescribeTrainingJob); moto
creates training jobs as Completed, so a test sets a job's status in moto's backend. moto validates
every request against the pinned botocore model, as the real service would; it does not evaluate alarms
(what CloudWatch does with the math expressions is not proved here).
"""

from __future__ import annotations

import json

import boto3
import pytest
from lambda_testkit import ACCOUNT, REGION, cloudformation_responses, emf_metric_names

NAME = "training_job_alarms"
COMPLETED = "training-job-completed.json"  # llm-finetune-2026-11-20-09-01, 2 x ml.p4d.24xlarge
FAILED = "training-job-failed.json"  # vision-pretrain-7, 1 x ml.g5.12xlarge
JOB = "llm-finetune-2026-11-20-09-01"
PREFIX = "acme-ml-dev-pipeline-llm-finetune-job/"
VISION_PREFIX = "acme-ml-dev-pipeline-vision-pretrain-job/"


@pytest.fixture
def topics(aws: None) -> dict[str, str]:
    sns = boto3.client("sns", region_name=REGION)
    return {s: sns.create_topic(Name=f"acme-ml-dev-{s}-alarms")["TopicArn"] for s in ("critical", "warning")}


@pytest.fixture
def config(topics):
    import job_alarm_requests as ja

    return ja.JobAlarmsConfig(
        topics=topics,
        pipelines=(
            ja.PipelineJobAlarms(
                pipeline="llm-finetune", alarm_prefix=PREFIX, dashboard="acme-ml-dev-pipeline-llm-finetune",
                progress_metric="tokens_per_second", stall_periods=6, gpu_threshold=320.0, gpu_floor_percent=40.0,
                gpus=8, gpu_periods=6, disk_percent={"warning": 80.0, "critical": 90.0},
            ),
            ja.PipelineJobAlarms(
                pipeline="vision-pretrain", alarm_prefix=VISION_PREFIX, dashboard="acme-ml-dev-pipeline-vision-pretrain",
                disk_percent={"critical": 95.0},
            ),
        ),
    )


@pytest.fixture
def alarms_fn(load_handler, config):
    return load_handler(NAME, JOB_ALARMS=json.dumps(config.to_json()))


@pytest.fixture
def cloudwatch(aws: None):
    return boto3.client("cloudwatch", region_name=REGION)


@pytest.fixture
def sagemaker(aws: None):
    return boto3.client("sagemaker", region_name=REGION)


def training_job(sagemaker, name: str, status: str, instance_count: int = 2) -> None:
    """A job in moto with this status (moto creates every job Completed)."""
    from moto.sagemaker.models import sagemaker_backends

    sagemaker.create_training_job(
        TrainingJobName=name,
        AlgorithmSpecification={"TrainingImage": "123456789012.dkr.ecr.us-east-1.amazonaws.com/t:1",
                                "TrainingInputMode": "File"},
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/ml-training",
        OutputDataConfig={"S3OutputPath": "s3://ml-artifacts/out/"},
        ResourceConfig={"InstanceType": "ml.p4d.24xlarge", "InstanceCount": instance_count, "VolumeSizeInGB": 100},
        StoppingCondition={"MaxRuntimeInSeconds": 3600},
    )
    sagemaker_backends[ACCOUNT][REGION].training_jobs[name].training_job_status = status


def set_status(name: str, status: str) -> None:
    from moto.sagemaker.models import sagemaker_backends

    sagemaker_backends[ACCOUNT][REGION].training_jobs[name].training_job_status = status


def state_change(event, status: str, *, job: str = JOB, sample: str = COMPLETED, **detail) -> dict:
    e = event(sample)
    e["detail"].update(TrainingJobName=job, TrainingJobStatus=status, **detail)
    e["detail"]["TrainingJobArn"] = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:training-job/{job}"
    return e


def alarms(cloudwatch, prefix: str = PREFIX) -> dict[str, dict]:
    found = cloudwatch.describe_alarms(AlarmNamePrefix=prefix, MaxRecords=100)["MetricAlarms"]
    return {a["AlarmName"]: a for a in found}


def host_metric(metric: str, stat: str, n: int, job: str = JOB) -> dict:
    return {
        "Id": f"m{n}",
        "MetricStat": {"Metric": {"Namespace": "/aws/sagemaker/TrainingJobs", "MetricName": metric,
                                  "Dimensions": [{"Name": "Host", "Value": f"{job}/algo-{n}"}]},
                       "Period": 300, "Stat": stat},
        "ReturnData": False,
    }


def test_in_progress_job_gets_its_alarms_with_exact_dimensions(alarms_fn, event, sagemaker, cloudwatch, topics,
                                                               lambda_context, capsys):
    training_job(sagemaker, JOB, "InProgress")
    result = alarms_fn.handler(state_change(event, "InProgress"), lambda_context)
    assert (result["action"], result["hosts"], result["swept"]) == ("alarms-put", 2, [])
    found = alarms(cloudwatch)
    assert sorted(found) == [
        f"{PREFIX}{JOB}/disk-critical-hosts-1-2", f"{PREFIX}{JOB}/disk-warning-hosts-1-2",
        f"{PREFIX}{JOB}/gpu-underused-warning-hosts-1-2", f"{PREFIX}{JOB}/stalled-critical",
    ]
    stalled = found[f"{PREFIX}{JOB}/stalled-critical"]
    assert (stalled["Namespace"], stalled["MetricName"], stalled["Dimensions"], stalled["Statistic"],
            stalled["Period"]) == ("/aws/sagemaker/TrainingJobs", "tokens_per_second",
                                   [{"Name": "TrainingJobName", "Value": JOB}], "SampleCount", 300)
    assert (stalled["EvaluationPeriods"], stalled["DatapointsToAlarm"], stalled["Threshold"],
            stalled["ComparisonOperator"], stalled["TreatMissingData"], stalled["AlarmActions"]) == (
        6, 6, 1.0, "LessThanThreshold", "breaching", [topics["critical"]])
    assert "no tokens_per_second datapoint for 30 minutes" in stalled["AlarmDescription"]

    gpu = found[f"{PREFIX}{JOB}/gpu-underused-warning-hosts-1-2"]
    assert gpu["Metrics"] == [
        host_metric("GPUUtilization", "Average", 1), host_metric("GPUUtilization", "Average", 2),
        {"Id": "e", "Expression": "(m1 + m2) / 2", "Label": "mean GPUUtilization (summed over GPUs)",
         "ReturnData": True},
    ]
    assert (gpu["Threshold"], gpu["ComparisonOperator"], gpu["EvaluationPeriods"], gpu["DatapointsToAlarm"],
            gpu["TreatMissingData"], gpu["AlarmActions"]) == (
        320.0, "LessThanThreshold", 6, 6, "notBreaching", [topics["warning"]])
    for severity, threshold in (("warning", 80), ("critical", 90)):
        disk = found[f"{PREFIX}{JOB}/disk-{severity}-hosts-1-2"]
        assert disk["Metrics"] == [
            host_metric("DiskUtilization", "Maximum", 1), host_metric("DiskUtilization", "Maximum", 2),
            {"Id": "e", "Expression": f"(m1 >= {threshold}) + (m2 >= {threshold})",
             "Label": f"hosts at or above {threshold} %", "ReturnData": True},
        ]
        assert (disk["Threshold"], disk["ComparisonOperator"], disk["EvaluationPeriods"], disk["TreatMissingData"],
                disk["AlarmActions"]) == (1.0, "GreaterThanOrEqualToThreshold", 3, "notBreaching", [topics[severity]])
    assert emf_metric_names(capsys.readouterr().out) == ["JobAlarmsPut"]


def test_in_progress_then_completed_leaves_no_alarm(alarms_fn, event, sagemaker, cloudwatch, lambda_context):
    training_job(sagemaker, JOB, "InProgress")
    alarms_fn.handler(state_change(event, "InProgress"), lambda_context)
    assert len(alarms(cloudwatch)) == 4
    set_status(JOB, "Completed")
    result = alarms_fn.handler(event(COMPLETED), lambda_context)  # the sample itself
    assert (result["action"], result["deleted"]) == ("alarms-deleted", 4)
    assert alarms(cloudwatch) == {}


def test_every_ending_status_deletes_the_jobs_alarms(alarms_fn, event, sagemaker, cloudwatch, lambda_context):
    training_job(sagemaker, JOB, "InProgress")
    for status in ("Failed", "STOPPED", "Stopping"):
        set_status(JOB, "InProgress")
        alarms_fn.handler(state_change(event, "InProgress"), lambda_context)
        set_status(JOB, status.capitalize())
        assert alarms_fn.handler(state_change(event, status), lambda_context)["deleted"] == 4, status
        assert alarms(cloudwatch) == {}


def test_repeated_in_progress_event_changes_nothing(alarms_fn, event, sagemaker, cloudwatch, lambda_context):
    training_job(sagemaker, JOB, "InProgress")
    first = alarms_fn.handler(state_change(event, "InProgress"), lambda_context)
    before = alarms(cloudwatch)
    again = alarms_fn.handler(state_change(event, "InProgress", SecondaryStatus="Training"), lambda_context)
    assert again["alarms"] == first["alarms"] and sorted(alarms(cloudwatch)) == sorted(before)


def test_completed_before_in_progress_creates_nothing(alarms_fn, event, sagemaker, cloudwatch, lambda_context):
    """The late InProgress event: DescribeTrainingJob says Completed, so no alarm is created."""
    training_job(sagemaker, JOB, "Completed")
    assert alarms_fn.handler(event(COMPLETED), lambda_context)["deleted"] == 0
    late = alarms_fn.handler(state_change(event, "InProgress"), lambda_context)
    assert (late["action"], late["status"], late["deleted"]) == ("alarms-deleted", "Completed", 0)
    assert alarms(cloudwatch) == {}


def test_missing_resource_config_takes_the_hosts_from_describe_training_job(alarms_fn, event, sagemaker, cloudwatch,
                                                                            lambda_context):
    training_job(sagemaker, JOB, "InProgress", instance_count=3)
    e = state_change(event, "InProgress")
    del e["detail"]["ResourceConfig"]
    assert alarms_fn.handler(e, lambda_context)["hosts"] == 3
    gpu = alarms(cloudwatch)[f"{PREFIX}{JOB}/gpu-underused-warning-hosts-1-3"]
    assert gpu["Metrics"][-1]["Expression"] == "(m1 + m2 + m3) / 3"


def test_unknown_job_gets_no_alarm_and_its_leaked_alarms_go(alarms_fn, event, sagemaker, cloudwatch, lambda_context,
                                                            config):
    """A job SageMaker does not know (deleted, or never existed) counts as ended."""
    import job_alarm_requests as ja

    ghost = "llm-finetune-0b5e3c1a-0000-4000-8000-000000000000"
    for request in ja.alarm_requests(config.pipelines[0], ghost, 1, config.topics):
        cloudwatch.put_metric_alarm(**request)
    result = alarms_fn.handler(state_change(event, "InProgress", job=ghost), lambda_context)
    assert (result["action"], result["status"], result["deleted"]) == ("alarms-deleted", "(unknown job)", 4)
    assert alarms(cloudwatch) == {}


def test_an_event_sweeps_alarms_leaked_by_other_ended_jobs(alarms_fn, event, sagemaker, cloudwatch, lambda_context,
                                                           config):
    import job_alarm_requests as ja

    old, running = "llm-finetune-old", "llm-finetune-running"
    training_job(sagemaker, old, "Failed")
    training_job(sagemaker, running, "InProgress")
    for job in (old, running):
        for request in ja.alarm_requests(config.pipelines[0], job, 2, config.topics):
            cloudwatch.put_metric_alarm(**request)
    training_job(sagemaker, JOB, "InProgress")
    result = alarms_fn.handler(state_change(event, "InProgress"), lambda_context)
    assert result["swept"] == [old]
    assert {n.split("/")[1] for n in alarms(cloudwatch)} == {running, JOB}


def test_scheduled_event_sweeps_every_pipeline(alarms_fn, sagemaker, cloudwatch, lambda_context, config):
    import job_alarm_requests as ja

    training_job(sagemaker, "vision-pretrain-7", "Stopped")
    training_job(sagemaker, JOB, "InProgress")
    for spec, job in ((config.pipelines[1], "vision-pretrain-7"), (config.pipelines[0], JOB)):
        for request in ja.alarm_requests(spec, job, 1, config.topics):
            cloudwatch.put_metric_alarm(**request)
    scheduled = {"version": "0", "id": "5f3c", "detail-type": "Scheduled Event", "source": "aws.events",
                 "account": ACCOUNT, "region": REGION, "time": "2026-11-22T09:00:00Z", "resources": [], "detail": {}}
    result = alarms_fn.handler(scheduled, lambda_context)
    assert result == {"action": "swept", "swept": {"llm-finetune": [], "vision-pretrain": ["vision-pretrain-7"]}}
    # The running job keeps exactly its own alarms.
    assert alarms(cloudwatch, VISION_PREFIX) == {} and set(alarms(cloudwatch)) == {
        r["AlarmName"] for r in ja.alarm_requests(config.pipelines[0], JOB, 1, config.topics)}


def test_other_jobs_and_events_are_ignored(alarms_fn, event, sagemaker, cloudwatch, lambda_context):
    training_job(sagemaker, "ranker-train-1", "InProgress")
    for e, reason in (
        (state_change(event, "InProgress", job="ranker-train-1"), "no job of a configured pipeline"),
        (state_change(event, "InProgress", Tags={"aiplatform:pipeline": "llm-finetune-v2"}), "tagged as a job of"),
        (state_change(event, "Pending"), "needs no action"),
        ({**event(COMPLETED), "detail-type": "SageMaker Endpoint State Change"}, "unhandled detail-type"),
        ("not an event", "not an object"),
    ):
        result = alarms_fn.handler(e, lambda_context)
        assert result["action"] == "ignored" and reason in result["reason"], result
    assert alarms(cloudwatch) == {}


def test_a_pipeline_without_gpu_or_progress_alarms_gets_only_its_disk_alarm(alarms_fn, event, sagemaker, cloudwatch,
                                                                            lambda_context, topics):
    training_job(sagemaker, "vision-pretrain-7", "InProgress", instance_count=1)
    alarms_fn.handler(state_change(event, "InProgress", job="vision-pretrain-7", sample=FAILED), lambda_context)
    [(name, disk)] = alarms(cloudwatch, VISION_PREFIX).items()
    assert name == f"{VISION_PREFIX}vision-pretrain-7/disk-critical-hosts-1-1"
    assert disk["Metrics"][-1]["Expression"] == "(m1 >= 95)"
    assert disk["AlarmActions"] == [topics["critical"]]


def test_large_jobs_are_alarmed_in_groups_of_ten_hosts_up_to_a_hundred(config):
    """An alarm's math expression holds at most 10 metrics (CloudWatch User Guide, alarm data queries)."""
    import job_alarm_requests as ja

    assert ja.host_groups(25) == [(1, 10), (11, 20), (21, 25)]
    assert ja.host_groups(0) == [] and len(ja.host_groups(640)) == 10 and ja.host_groups(640)[-1] == (91, 100)
    requests = ja.alarm_requests(config.pipelines[0], JOB, 25, config.topics)
    gpu = [r for r in requests if "/gpu-underused-" in r["AlarmName"]]
    assert [r["AlarmName"].rsplit("-hosts-", 1)[1] for r in gpu] == ["1-10", "11-20", "21-25"]
    assert gpu[2]["Metrics"][-1]["Expression"] == "(m21 + m22 + m23 + m24 + m25) / 5"
    assert all(len([m for m in r.get("Metrics", []) if "MetricStat" in m]) <= 10 for r in requests)
    # The longest name fits PutMetricAlarm's AlarmName limit with the longest allowed prefix and job name.
    longest = ja.PipelineJobAlarms(pipeline="p", alarm_prefix="x" * ja.max_alarm_prefix_chars(), dashboard="d",
                                   gpu_threshold=1.0, gpu_floor_percent=1.0, gpus=1)
    names = [r["AlarmName"] for r in ja.alarm_requests(longest, "p-" + "j" * 61, 100, {})]
    assert max(len(n) for n in names) == ja.ALARM_NAME_MAX


def test_job_alarms_environment_round_trips_and_refuses_garbage(config):
    import job_alarm_requests as ja

    assert ja.parse_environment(json.dumps(config.to_json())) == config
    with pytest.raises(ValueError, match="JOB_ALARMS is not the JSON the construct writes"):
        ja.parse_environment("{not json")


# --- the cleanup custom resource (CloudFormation request/response: User Guide, "Custom resource request
# objects" / "Custom resource response objects"; the ResponseURL PUT is captured as in the scaling guard's tests)
CLEANUP_ID = "training-job-alarms-cleanup"


def cleanup_request(request_type: str, prefixes=(PREFIX, VISION_PREFIX)) -> dict:
    event = {
        "RequestType": request_type, "ResponseURL": "https://cloudformation-custom-resource-response.example/r",
        "StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/observability/1", "RequestId": "req-7",
        "LogicalResourceId": "TrainingJobAlarmsCleanup0A1B2C3D", "ResourceType": "Custom::TrainingJobAlarmsCleanup",
        "ServiceToken": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:job-alarms",
        "ResourceProperties": {"ServiceToken": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:job-alarms",
                               "AlarmPrefixes": list(prefixes)},
    }
    if request_type != "Create":
        event["PhysicalResourceId"] = CLEANUP_ID
    return event


@pytest.fixture
def responses(alarms_fn, monkeypatch) -> list[dict]:
    return cloudformation_responses(alarms_fn, monkeypatch, "https://cloudformation-custom-resource-response.example/r")


def put_alarms(cloudwatch, config, pipeline: int, job: str, hosts: int = 1) -> set[str]:
    import job_alarm_requests as ja

    requests = ja.alarm_requests(config.pipelines[pipeline], job, hosts, config.topics)
    for request in requests:
        cloudwatch.put_metric_alarm(**request)
    return {r["AlarmName"] for r in requests}


def unrelated_alarm(cloudwatch) -> str:
    cloudwatch.put_metric_alarm(AlarmName="acme-ml-dev-endpoint-ranker-5xx", Namespace="AWS/SageMaker",
                                MetricName="Invocation5XXErrors", Statistic="Sum", Period=60, EvaluationPeriods=1,
                                Threshold=1, ComparisonOperator="GreaterThanOrEqualToThreshold")
    return "acme-ml-dev-endpoint-ranker-5xx"


def all_alarms(cloudwatch) -> set[str]:
    pages = cloudwatch.get_paginator("describe_alarms").paginate(PaginationConfig={"PageSize": 100})
    return {a["AlarmName"] for page in pages for a in page["MetricAlarms"]}


def test_cleanup_delete_removes_every_alarm_of_the_pipelines_in_batches_and_nothing_else(
        alarms_fn, responses, sagemaker, cloudwatch, lambda_context, config):
    """Running jobs' alarms of both pipelines go (more than 100: DescribeAlarms is paged, DeleteAlarms takes at
    most 100 names per call, botocore model AlarmNames max 100); another alarm stays. Answered SUCCESS with
    the physical id CloudFormation sent, and the request never reaches the EventBridge path."""
    ours = set()
    for n in range(1, 31):  # 30 running jobs of the first pipeline, 4 alarms each
        ours |= put_alarms(cloudwatch, config, 0, f"llm-finetune-run-{n}")
    ours |= put_alarms(cloudwatch, config, 1, "vision-pretrain-7")
    assert len(ours) > 100
    other = unrelated_alarm(cloudwatch)
    assert all_alarms(cloudwatch) == ours | {other}
    calls = []
    delete = cloudwatch.delete_alarms
    batches = []

    def recording_delete(**kwargs):
        batches.append(len(kwargs["AlarmNames"]))
        return delete(**kwargs)

    alarms_fn.cloudwatch_client = cloudwatch
    cloudwatch.delete_alarms = recording_delete
    alarms_fn.process = lambda *a, **k: calls.append(a) or {}  # the EventBridge path must not run
    try:
        result = alarms_fn.handler(cleanup_request("Delete"), lambda_context)
    finally:
        del cloudwatch.delete_alarms
    assert calls == []
    assert all_alarms(cloudwatch) == {other}
    assert max(batches) <= 100 and sum(batches) == len(ours)
    assert responses == [{
        "Status": "SUCCESS", "Reason": "Done", "PhysicalResourceId": CLEANUP_ID,
        "StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/observability/1", "RequestId": "req-7",
        "LogicalResourceId": "TrainingJobAlarmsCleanup0A1B2C3D", "Data": {"Deleted": str(len(ours))},
    }]
    assert result["action"] == "custom-resource" and result["Status"] == "SUCCESS"


def test_cleanup_deletes_only_prefixes_the_request_names_and_the_function_is_configured_for(
        alarms_fn, responses, cloudwatch, lambda_context, config):
    llm = put_alarms(cloudwatch, config, 0, JOB)
    vision = put_alarms(cloudwatch, config, 1, "vision-pretrain-7")
    alarms_fn.handler(cleanup_request("Delete", prefixes=(VISION_PREFIX, "acme-ml-dev-endpoint-")), lambda_context)
    assert all_alarms(cloudwatch) == llm and not vision & all_alarms(cloudwatch)
    assert responses[0]["Status"] == "SUCCESS" and responses[0]["Data"] == {"Deleted": str(len(vision))}


@pytest.mark.parametrize("request_type", ["Create", "Update"])
def test_cleanup_create_and_update_delete_nothing_and_answer_success(
        alarms_fn, responses, cloudwatch, lambda_context, config, request_type):
    ours = put_alarms(cloudwatch, config, 0, JOB)
    alarms_fn.handler(cleanup_request(request_type), lambda_context)
    assert all_alarms(cloudwatch) == ours
    (response,) = responses
    assert (response["Status"], response["PhysicalResourceId"], response["Data"]) == (
        "SUCCESS", CLEANUP_ID, {"Deleted": "0"})


def test_cleanup_answers_success_with_the_reason_when_delete_alarms_fails(
        alarms_fn, responses, cloudwatch, lambda_context, config):
    """A FAILED answer to a Delete would leave the stack DELETE_FAILED: best effort, SUCCESS, reason said."""
    from botocore.stub import Stubber

    stubbed = boto3.client("cloudwatch", region_name=REGION, endpoint_url="https://monitoring.us-east-1.amazonaws.com")
    alarms_fn.cloudwatch_client = stubbed
    with Stubber(stubbed) as stub:
        stub.add_response("describe_alarms", {"MetricAlarms": [{"AlarmName": f"{PREFIX}{JOB}/disk-critical"}]},
                          {"AlarmNamePrefix": PREFIX, "AlarmTypes": ["MetricAlarm"], "MaxRecords": 100})
        stub.add_client_error("delete_alarms", "AccessDenied", "not authorized to DeleteAlarms",
                              expected_params={"AlarmNames": [f"{PREFIX}{JOB}/disk-critical"]})
        stub.add_response("describe_alarms", {"MetricAlarms": []},
                          {"AlarmNamePrefix": VISION_PREFIX, "AlarmTypes": ["MetricAlarm"], "MaxRecords": 100})
        alarms_fn.handler(cleanup_request("Delete"), lambda_context)
        stub.assert_no_pending_responses()
    (response,) = responses
    assert (response["Status"], response["PhysicalResourceId"]) == ("SUCCESS", CLEANUP_ID)
    assert response["Reason"] == (
        "Alarms left behind (deleting them failed; the stack is deleted anyway): llm-finetune: ClientError: "
        "An error occurred (AccessDenied) when calling the DeleteAlarms operation: not authorized to DeleteAlarms")


def test_a_request_without_response_url_is_no_custom_resource_request(alarms_fn, responses, cloudwatch, lambda_context):
    result = alarms_fn.handler({"RequestType": "Delete", "detail": {}}, lambda_context)
    assert result["action"] == "ignored" and responses == []
