"""lambda/training_job_notifier: failure notices and model registration of completed jobs."""

from __future__ import annotations

import copy
import uuid

import boto3
import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from lambda_testkit import REGION, Inbox, RecordingClient, StubSNS, emf_metric_names, events_for, sns_inbox

NAME = "training_job_notifier"
COMPLETED = "training-job-completed.json"
FAILED = "training-job-failed.json"
GROUP = "llm-finetune-models"
INFERENCE_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/llm-serving:1.4.0"
TRAINING_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/llm-train:2.1.0"


@pytest.fixture
def inbox(aws: None) -> Inbox:
    return sns_inbox()


@pytest.fixture
def sagemaker(aws: None):
    client = boto3.client("sagemaker", region_name=REGION)
    client.create_model_package_group(ModelPackageGroupName=GROUP)
    return client


@pytest.fixture
def notifier(load_handler, inbox, sagemaker):
    return load_handler(
        NAME, TOPIC_ARN=inbox.topic_arn, MODEL_PACKAGE_GROUP=GROUP, INFERENCE_IMAGE=INFERENCE_IMAGE
    )


def packages(sagemaker) -> list[dict]:
    summaries = sagemaker.list_model_packages(ModelPackageGroupName=GROUP)["ModelPackageSummaryList"]
    return [sagemaker.describe_model_package(ModelPackageName=s["ModelPackageArn"]) for s in summaries]


def test_failed_sample_notifies_with_reason(notifier, inbox, event, lambda_context, capsys):
    result = notifier.handler(event(FAILED), lambda_context)
    assert result["action"] == "notified" and result["status"] == "Failed"
    [message] = inbox.messages()
    assert message["Subject"] == "[aiplatform] Training job vision-pretrain-7 Failed"
    body = message["Message"]
    assert body.startswith("SageMaker training job vision-pretrain-7 failed.")
    for line in (
        "Failure reason:   AlgorithmError: CUDA out of memory. Tried to allocate 2.00 GiB",
        "Training job:     vision-pretrain-7",
        "Status:           Failed",
        "Instances:        1 x ml.g5.12xlarge",
        "Region:           us-east-1",
        "Account:          123456789012",
        "Time:             2026-11-21T03:02:10Z",
    ):
        assert line in body
    assert emf_metric_names(capsys.readouterr().out) == ["NotificationsPublished"]


def test_stopped_job_notifies_with_reason(notifier, inbox, event, lambda_context):
    sample = event(FAILED)
    sample["detail"].update(
        TrainingJobStatus="STOPPED",
        SecondaryStatus="MaxRuntimeExceeded",
        FailureReason="Training job runtime exceeded MaxRuntimeInSeconds",
        TrainingStartTime="1763690000",
        TrainingEndTime=1763694130000,
    )
    notifier.handler(sample, lambda_context)
    [message] = inbox.messages()
    assert message["Subject"] == "[aiplatform] Training job vision-pretrain-7 Stopped"
    assert "was stopped" in message["Message"]
    assert "Secondary status: MaxRuntimeExceeded" in message["Message"]
    assert "Failure reason:   Training job runtime exceeded MaxRuntimeInSeconds" in message["Message"]
    assert "Ended:            2025-11-21T03:02:10Z (ran 1h 08m 50s)" in message["Message"]


def test_completed_sample_registers_pending_package_and_notifies(
    notifier, inbox, sagemaker, event, lambda_context, capsys
):
    result = notifier.handler(event(COMPLETED), lambda_context)

    assert result["action"] == "registered"
    [package] = packages(sagemaker)
    assert package["ModelPackageArn"] == result["model_package_arn"]
    assert package["ModelApprovalStatus"] == "PendingManualApproval"
    assert package["InferenceSpecification"]["Containers"] == [
        {
            "Image": INFERENCE_IMAGE,
            "ModelDataUrl": "s3://ml-artifacts-123456789012/llm-finetune/output/model.tar.gz",
        }
    ]
    assert package["CustomerMetadataProperties"]["TrainingJobName"] == "llm-finetune-2026-11-20-09-01"
    [message] = inbox.messages()
    assert (
        message["Subject"] == f"[aiplatform] Training job llm-finetune-2026-11-20-09-01 registered in {GROUP}"
    )
    assert f"Model package:    {result['model_package_arn']}" in message["Message"]
    assert "Approval status:  PendingManualApproval" in message["Message"]
    assert "Ended:            2025-11-20T10:15:44Z (ran 1h 10m 44s)" in message["Message"]
    assert sorted(emf_metric_names(capsys.readouterr().out)) == [
        "ModelPackagesRegistered",
        "NotificationsPublished",
    ]


def test_configured_inference_image_wins_over_the_events_training_image_idempotently(
    notifier, event, sagemaker
):
    """REFERENCE.md: the training-job event always carries AlgorithmSpecification.TrainingImage."""
    sample = event(COMPLETED)
    assert sample["detail"]["AlgorithmSpecification"]["TrainingImage"] == TRAINING_IMAGE
    recorder = RecordingClient(sagemaker)
    envelope = notifier.Envelope.parse(sample)
    for _ in range(2):  # a duplicate delivery sends the very same request, same ClientToken
        notifier.process(
            envelope,
            sns=StubSNS(),
            sagemaker=recorder,
            topic_arn="t",
            model_package_group=GROUP,
            inference_image=INFERENCE_IMAGE,
        )
    first, second = recorder.calls_to("create_model_package")
    assert first == second
    assert first["InferenceSpecification"]["Containers"][0]["Image"] == INFERENCE_IMAGE
    arn = sample["detail"]["TrainingJobArn"]
    assert first["ClientToken"] == str(uuid.uuid5(notifier._CLIENT_TOKEN_NAMESPACE, arn))
    assert len(first["ClientToken"]) <= 36


def test_completed_without_group_is_ignored(load_handler, inbox, sagemaker, event, lambda_context):
    module = load_handler(NAME, TOPIC_ARN=inbox.topic_arn, MODEL_PACKAGE_GROUP=None)
    result = module.handler(event(COMPLETED), lambda_context)
    assert result["action"] == "ignored" and "MODEL_PACKAGE_GROUP" in result["reason"]
    assert packages(sagemaker) == [] and inbox.messages() == []


@pytest.mark.parametrize(
    "artifacts", [None, {}, {"S3ModelArtifacts": ""}, "s3://x", {"S3ModelArtifacts": "/tmp/m"}]
)
def test_completed_without_usable_artifacts_is_notified_not_dropped(
    notifier, inbox, sagemaker, event, lambda_context, artifacts
):
    sample = event(COMPLETED)
    sample["detail"]["ModelArtifacts"] = artifacts
    result = notifier.handler(sample, lambda_context)
    assert (result["action"], result["registered"]) == ("notified", False)
    assert "S3ModelArtifacts" in result["reason"]
    assert packages(sagemaker) == []
    [message] = inbox.messages()
    assert message["Subject"] == "[aiplatform] Training job llm-finetune-2026-11-20-09-01 completed, not registered"
    assert message["Message"].startswith(
        "SageMaker training job llm-finetune-2026-11-20-09-01 completed, but its model was NOT registered: "
        + result["reason"]
    )


def test_without_inference_image_the_training_image_is_registered_with_a_warning(
    load_handler, inbox, sagemaker, event, lambda_context
):
    module = load_handler(NAME, TOPIC_ARN=inbox.topic_arn, MODEL_PACKAGE_GROUP=GROUP, INFERENCE_IMAGE=None)
    result = module.handler(event(COMPLETED), lambda_context)
    assert result["image"] == TRAINING_IMAGE
    [message] = inbox.messages()
    assert f"Image:            {TRAINING_IMAGE} (the job's training image)" in message["Message"]
    assert "WARNING: no INFERENCE_IMAGE is configured" in message["Message"]


@pytest.mark.parametrize("sample_name", [COMPLETED, FAILED])
def test_jobs_of_training_pipelines_are_left_to_the_pipeline(
    notifier, inbox, sagemaker, event, lambda_context, sample_name
):
    """Contract with TrainingPipeline: its jobs carry aiplatform:pipeline and are handled by it."""
    sample = event(sample_name)
    sample["detail"]["Tags"]["aiplatform:pipeline"] = "llm-finetune"
    result = notifier.handler(sample, lambda_context)
    assert result == {
        "action": "ignored",
        "reason": "job of training pipeline 'llm-finetune': the pipeline registers and notifies it",
    }
    assert packages(sagemaker) == [] and inbox.messages() == []


def test_completed_without_any_image_notifies_not_registered(
    load_handler, inbox, sagemaker, event, lambda_context
):
    module = load_handler(NAME, TOPIC_ARN=inbox.topic_arn, MODEL_PACKAGE_GROUP=GROUP, INFERENCE_IMAGE=None)
    sample = event(COMPLETED)
    del sample["detail"]["AlgorithmSpecification"]
    result = module.handler(sample, lambda_context)
    assert result["action"] == "notified" and result["registered"] is False
    assert packages(sagemaker) == []
    [message] = inbox.messages()
    assert message["Subject"].endswith("completed, not registered")
    assert "INFERENCE_IMAGE is not set" in message["Message"]


def test_registration_failure_raises_for_retry(load_handler, inbox, aws, event, lambda_context, capsys):
    module = load_handler(
        NAME,
        TOPIC_ARN=inbox.topic_arn,
        MODEL_PACKAGE_GROUP="group-that-does-not-exist",
        INFERENCE_IMAGE=INFERENCE_IMAGE,
    )
    failing = RecordingClient(module.sagemaker_client, overrides={"create_model_package": _raise_not_found})
    module.sagemaker_client = failing
    with pytest.raises(ClientError):
        module.handler(event(COMPLETED), lambda_context)
    assert inbox.messages() == []
    assert emf_metric_names(capsys.readouterr().out) == ["ProcessingFailures"]


def _raise_not_found(**_: object) -> None:
    raise ClientError(
        {"Error": {"Code": "ResourceNotFound", "Message": "group not found"}}, "CreateModelPackage"
    )


@pytest.mark.parametrize("status", ["InProgress", "IN_PROGRESS", "Stopping", "", None, ["Failed"]])
def test_other_statuses_do_nothing(notifier, inbox, sagemaker, event, lambda_context, status):
    sample = event(FAILED)
    sample["detail"]["TrainingJobStatus"] = status
    assert notifier.handler(sample, lambda_context)["action"] == "ignored"
    assert inbox.messages() == []


@pytest.mark.parametrize("status", ["FAILED", "failed", "Failed"])
def test_status_spellings(notifier, inbox, event, lambda_context, status):
    sample = event(FAILED)
    sample["detail"]["TrainingJobStatus"] = status
    assert notifier.handler(sample, lambda_context)["status"] == "Failed"
    assert inbox.messages()[0]["Subject"].endswith(" Failed")


@pytest.mark.parametrize(
    "mutate",
    [
        lambda e: e.pop("detail"),
        lambda e: e.update(detail="x"),
        lambda e: e.update({"detail-type": "SageMaker Endpoint State Change"}),
        lambda e: (
            e["detail"].pop("TrainingJobName") and e["detail"].pop("TrainingJobArn") and e.pop("resources")
        ),
        lambda e: e["detail"].update(TrainingJobName="bad name with spaces"),
    ],
)
def test_malformed_events_are_ignored(notifier, inbox, event, lambda_context, mutate):
    sample = event(FAILED)
    mutate(sample)
    assert notifier.handler(sample, lambda_context)["action"] == "ignored"
    assert inbox.messages() == []


def test_huge_failure_reason_is_bounded(notifier, inbox, event, lambda_context):
    sample = event(FAILED)
    sample["detail"]["FailureReason"] = "Traceback (most recent call last):\n" * 10_000
    notifier.handler(sample, lambda_context)
    [message] = inbox.messages()
    assert len(message["Message"].encode()) <= 8 * 1024
    assert "\n" not in message["Subject"] and len(message["Subject"]) <= 99


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    raw=events_for(
        ["SageMaker Training Job State Change"],
        [
            "TrainingJobName",
            "TrainingJobArn",
            "TrainingJobStatus",
            "SecondaryStatus",
            "FailureReason",
            "ModelArtifacts",
            "AlgorithmSpecification",
            "ResourceConfig",
            "TrainingStartTime",
            "TrainingEndTime",
        ],
    )
)
def test_arbitrary_input_never_raises(notifier, lambda_context, monkeypatch, raw):
    sns, sagemaker = StubSNS(), StubSageMaker()
    monkeypatch.setattr(notifier, "sns_client", sns)
    monkeypatch.setattr(notifier, "sagemaker_client", sagemaker)
    result = notifier.handler(copy.deepcopy(raw), lambda_context)
    assert result["action"] in {"notified", "registered", "ignored"}
    assert len(sagemaker.created) == (1 if result["action"] == "registered" else 0)
    for published in sns.published:
        assert len(published["Subject"]) <= 99 and len(published["Message"].encode()) <= 8 * 1024


class StubSageMaker:
    def __init__(self) -> None:
        self.created: list[dict] = []

    def create_model_package(self, **kwargs):
        self.created.append(kwargs)
        return {
            "ModelPackageArn": f"arn:aws:sagemaker:us-east-1:123456789012:model-package/g/{len(self.created)}"
        }


def test_a_redelivered_event_notifies_once(load_handler, inbox, sagemaker, event, lambda_context):
    """EventBridge delivers at least once (REFERENCE.md): the same id must not send two messages."""
    boto3.client("dynamodb", region_name=REGION).create_table(
        TableName="dedup", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
    )
    module = load_handler(NAME, TOPIC_ARN=inbox.topic_arn, DEDUPLICATION_TABLE="dedup")
    first = module.handler(event(FAILED), lambda_context)
    again = module.handler(event(FAILED), lambda_context)
    assert again == first and len(inbox.messages()) == 1
    other = event(FAILED)
    other["id"] = "another-id"
    module.handler(other, lambda_context)
    assert len(inbox.messages()) == 1  # the inbox hands out each message once: this is the new one
