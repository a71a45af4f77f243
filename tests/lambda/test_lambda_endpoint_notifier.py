"""lambda/endpoint_notifier: one readable SNS notification per endpoint failure or rollback."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from lambda_testkit import Inbox, StubSNS, emf_metric_names, events_for, log_records, sns_inbox

NAME = "endpoint_notifier"
FAILED = "endpoint-failed.json"
BAKING = "endpoint-deployment-baking.json"


@pytest.fixture
def inbox(aws: None) -> Inbox:
    return sns_inbox()


@pytest.fixture
def notifier(load_handler, inbox: Inbox):
    return load_handler(NAME, TOPIC_ARN=inbox.topic_arn, PLATFORM_NAME=None)


class FakeSageMaker:
    def __init__(self, failure_reason: str | None = None, error: bool = False) -> None:
        self.failure_reason = failure_reason
        self.error = error
        self.calls: list[dict[str, Any]] = []

    def describe_endpoint(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        if self.error:
            raise ClientError(
                {"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "DescribeEndpoint"
            )
        return {"EndpointName": kwargs["EndpointName"], "FailureReason": self.failure_reason}


def test_failed_sample_publishes_one_readable_notification(notifier, inbox, event, lambda_context, capsys):
    result = notifier.handler(event(FAILED), lambda_context)

    assert result["action"] == "notified"
    assert result["endpoint"] == "chat-llm" and result["status"] == "Failed"
    [message] = inbox.messages()
    assert message["Subject"] == "[aiplatform] Endpoint chat-llm Failed"
    body = message["Message"]
    assert body.startswith("SageMaker endpoint chat-llm is Failed.")
    for line in (
        "Endpoint:         chat-llm",
        "Status:           Failed",
        "Endpoint config:  chatllmconfigA1B2C3",
        "Region:           us-east-1",
        "Account:          123456789012",
        "Time:             2026-11-22T08:30:00Z",
        "Last modified:    2025-11-22T08:30:00Z",
        "Event:            SageMaker Endpoint State Change (d4c6a0b0-2f0c-4a4e-a7e4-91c2b1f0a777)",
    ):
        assert line in body
    # moto has no such endpoint, so the best-effort DescribeEndpoint lookup finds no reason.
    assert "Failure reason:   (not given)" in body
    assert "#/endpoints/chat-llm" in body
    assert emf_metric_names(capsys.readouterr().out) == ["NotificationsPublished"]


def test_subject_prefix_comes_from_platform_name(load_handler, inbox, event, lambda_context):
    module = load_handler(NAME, TOPIC_ARN=inbox.topic_arn, PLATFORM_NAME="ml-prod")
    module.handler(event(FAILED), lambda_context)
    assert inbox.messages()[0]["Subject"] == "[ml-prod] Endpoint chat-llm Failed"


def test_failure_reason_from_event_is_used_without_lookup(notifier, event):
    sample = event(FAILED)
    sample["detail"]["FailureReason"] = "Model container failed the ping health check"
    sns, sagemaker = StubSNS(), FakeSageMaker(failure_reason="should not be used")
    result = notifier.process(
        notifier.Envelope.parse(sample), sns=sns, sagemaker=sagemaker, topic_arn="arn:topic"
    )
    assert result["action"] == "notified"
    assert sagemaker.calls == []
    assert "Failure reason:   Model container failed the ping health check" in sns.published[0]["Message"]


def test_missing_failure_reason_is_looked_up_with_describe_endpoint(notifier, event):
    sns, sagemaker = StubSNS(), FakeSageMaker(failure_reason="Image does not exist")
    notifier.process(notifier.Envelope.parse(event(FAILED)), sns=sns, sagemaker=sagemaker, topic_arn="arn:t")
    assert sagemaker.calls == [{"EndpointName": "chat-llm"}]
    assert "Failure reason:   Image does not exist" in sns.published[0]["Message"]


def test_failing_lookup_still_notifies(notifier, event):
    sns, sagemaker = StubSNS(), FakeSageMaker(error=True)
    result = notifier.process(
        notifier.Envelope.parse(event(FAILED)), sns=sns, sagemaker=sagemaker, topic_arn="t"
    )
    assert result["action"] == "notified"
    assert "Failure reason:   (not given)" in sns.published[0]["Message"]


def test_baking_deployment_sample_publishes_nothing(notifier, inbox, event, lambda_context, capsys):
    result = notifier.handler(event(BAKING), lambda_context)
    assert result == {"action": "ignored", "reason": "status Updating needs no notification"}
    assert inbox.messages() == []
    out = capsys.readouterr().out
    assert emf_metric_names(out) == ["EventsIgnored"]
    assert any(r["message"] == "Event ignored" and r["reason"] == result["reason"] for r in log_records(out))


@pytest.mark.parametrize(
    ("status", "subject_label"),
    [
        ("FAILED", "Failed"),
        ("Failed", "Failed"),
        ("failed", "Failed"),
        ("UPDATE_ROLLBACK_FAILED", "UpdateRollbackFailed"),
        ("UpdateRollbackFailed", "UpdateRollbackFailed"),
        ("ROLLING_BACK", "RollingBack"),
        ("RollingBack", "RollingBack"),
    ],
)
def test_failure_and_rollback_statuses_notify_in_either_spelling(
    notifier, inbox, event, lambda_context, status, subject_label
):
    sample = event(FAILED)
    sample["detail"]["EndpointStatus"] = status
    result = notifier.handler(sample, lambda_context)
    assert result["action"] == "notified"
    [message] = inbox.messages()
    assert message["Subject"] == f"[aiplatform] Endpoint chat-llm {subject_label}"


@pytest.mark.parametrize(
    "status", ["IN_SERVICE", "InService", "in_service", "Creating", "UPDATING", "", None, 7]
)
def test_other_statuses_publish_nothing(notifier, inbox, event, lambda_context, status):
    sample = event(FAILED)
    sample["detail"]["EndpointStatus"] = status
    assert notifier.handler(sample, lambda_context)["action"] == "ignored"
    assert inbox.messages() == []


def test_deployment_event_rolling_back_notifies(notifier, inbox, event, lambda_context):
    sample = event(BAKING)
    sample["detail"]["EndpointStatus"] = "ROLLING_BACK"
    result = notifier.handler(sample, lambda_context)
    assert result["kind"] == "RollingBack"
    [message] = inbox.messages()
    assert message["Subject"] == "[aiplatform] Endpoint chat-llm RollingBack"
    assert "rolling back a deployment" in message["Message"]
    assert "Variant primary: Baking - Baking canary fleet" in message["Message"]


def test_deployment_variant_message_about_rollback_notifies(notifier, inbox, event, lambda_context):
    sample = event(BAKING)
    variant = sample["detail"]["PendingDeploymentSummary"]["ProductionVariants"][0]
    variant["VariantStatus"] = [
        {"Status": "Baking", "StatusMessage": "Alarm chat-llm-5xx fired: rolling back"}
    ]
    sample["detail"]["PendingDeploymentSummary"]["EndpointConfigName"] = "chatllmconfigNEW"
    result = notifier.handler(sample, lambda_context)
    assert result["kind"] == "DeploymentRollback"
    [message] = inbox.messages()
    assert message["Subject"] == "[aiplatform] Endpoint chat-llm deployment rollback"
    assert "Pending config:   chatllmconfigNEW" in message["Message"]
    assert "Alarm chat-llm-5xx fired: rolling back" in message["Message"]


def test_endpoint_state_change_ignores_variant_messages(notifier, event):
    sample = event(FAILED)
    sample["detail"]["EndpointStatus"] = "InService"
    sample["detail"]["ProductionVariants"][0]["VariantStatus"] = [{"Status": "Failed"}]
    assert (
        notifier.process(notifier.Envelope.parse(sample), sns=StubSNS(), sagemaker=None, topic_arn="t")[
            "action"
        ]
        == "ignored"
    )


def test_name_taken_from_arn_when_missing(notifier, event):
    sample = event(FAILED)
    del sample["detail"]["EndpointName"]
    del sample["detail"]["EndpointArn"]
    sns = StubSNS()
    result = notifier.process(
        notifier.Envelope.parse(sample), sns=sns, sagemaker=FakeSageMaker(), topic_arn="t"
    )
    assert result["endpoint"] == "chat-llm"


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda e: e.pop("detail"), "event has no detail"),
        (lambda e: e.update(detail="x"), "detail is a str, not an object"),
        (lambda e: e.update(detail=["FAILED"]), "detail is a list, not an object"),
        (lambda e: e.update({"detail-type": "SageMaker Training Job State Change"}), "unhandled detail-type"),
        (lambda e: e.pop("detail-type"), "unhandled detail-type ''"),
        (lambda e: e["detail"].clear() or e.pop("resources"), "event names no endpoint"),
        (
            lambda e: (
                e.update(resources="nope")
                or e["detail"].pop("EndpointName")
                and e["detail"].pop("EndpointArn")
            ),
            "event names no endpoint",
        ),
    ],
)
def test_malformed_events_are_ignored(notifier, inbox, event, lambda_context, mutate, reason):
    sample = event(FAILED)
    mutate(sample)
    result = notifier.handler(sample, lambda_context)
    assert result["action"] == "ignored"
    assert reason in result["reason"]
    assert inbox.messages() == []


@pytest.mark.parametrize("raw", [None, "x", [], 42, {"detail": {"EndpointStatus": "FAILED"}}])
def test_non_events_are_ignored(notifier, inbox, lambda_context, raw):
    assert notifier.handler(raw, lambda_context)["action"] == "ignored"
    assert inbox.messages() == []


def test_huge_reason_and_names_are_bounded(notifier, inbox, event, lambda_context):
    sample = event(FAILED)
    sample["detail"]["EndpointName"] = "chat-llm-" + "x" * 500 + "\nsecond line\u00e9"
    sample["detail"]["FailureReason"] = ("CUDA error\n" * 20_000) + "\u00e9\u4e2d"
    notifier.handler(sample, lambda_context)
    [message] = inbox.messages()
    subject = message["Subject"]
    assert len(subject) <= 99 and "\n" not in subject and subject.endswith("...")
    assert subject.isascii()
    assert len(message["Message"].encode()) <= 8 * 1024
    assert message["Message"].endswith("[message truncated]") or "\u2026" in message["Message"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1763800200000, "2025-11-22T08:30:00Z"),
        ("1763800200000", "2025-11-22T08:30:00Z"),
        (1763800200, "2025-11-22T08:30:00Z"),
        ("1763800200", "2025-11-22T08:30:00Z"),
        (1763800200.5, "2025-11-22T08:30:00Z"),
        ("2026-11-22T08:30:00Z", "2026-11-22T08:30:00Z"),
        ("2026-11-22T09:30:00+01:00", "2026-11-22T08:30:00Z"),
        ("2026-11-22T08:30:00", "2026-11-22T08:30:00Z"),
        ("yesterday", "yesterday"),
        ("", None),
        (None, None),
        (True, None),
        (10**400, None),
        (float("nan"), None),
        ({"t": 1}, None),
    ],
)
def test_times_accept_epoch_seconds_ms_and_iso(pure_handlers, value, expected):
    assert pure_handlers[NAME].format_time(value) == expected


def test_epoch_envelope_time_is_rendered_as_iso(notifier, event):
    sample = event(FAILED)
    sample["time"] = "1763800200"
    sample["detail"]["LastModifiedTime"] = "2026-11-22T08:31:00Z"
    sns = StubSNS()
    notifier.process(notifier.Envelope.parse(sample), sns=sns, sagemaker=FakeSageMaker(), topic_arn="t")
    assert "Time:             2025-11-22T08:30:00Z" in sns.published[0]["Message"]
    assert "Last modified:    2026-11-22T08:31:00Z" in sns.published[0]["Message"]


def test_publish_failure_raises_for_retry_and_dead_letter(load_handler, aws, event, lambda_context, capsys):
    missing_topic = "arn:aws:sns:us-east-1:123456789012:does-not-exist"
    module = load_handler(NAME, TOPIC_ARN=missing_topic)
    with pytest.raises(ClientError):
        module.handler(event(FAILED), lambda_context)
    out = capsys.readouterr().out
    assert any(r["message"] == "SNS publish failed" for r in log_records(out))
    assert emf_metric_names(out) == ["ProcessingFailures"]


def test_missing_topic_configuration_raises(load_handler, aws, event, lambda_context):
    module = load_handler(NAME, TOPIC_ARN=None)
    with pytest.raises(RuntimeError, match="TOPIC_ARN"):
        module.handler(event(FAILED), lambda_context)


def test_metrics_namespace_defaults_to_aiplatform(load_handler, aws, monkeypatch):
    monkeypatch.delenv("POWERTOOLS_METRICS_NAMESPACE")
    assert load_handler(NAME).METRICS_NAMESPACE == "AIPlatform"


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    raw=events_for(
        ["SageMaker Endpoint State Change", "SageMaker Endpoint Deployment State Change"],
        [
            "EndpointName",
            "EndpointArn",
            "EndpointStatus",
            "EndpointConfigName",
            "FailureReason",
            "PendingDeploymentSummary",
            "ProductionVariants",
            "CreationTime",
            "LastModifiedTime",
        ],
    )
)
def test_arbitrary_input_never_raises(notifier, lambda_context, monkeypatch, raw):
    sns = StubSNS()
    monkeypatch.setattr(notifier, "sns_client", sns)
    monkeypatch.setattr(notifier, "sagemaker_client", FakeSageMaker())
    result = notifier.handler(copy.deepcopy(raw), lambda_context)
    assert result["action"] in {"notified", "ignored"}
    assert len(sns.published) == (1 if result["action"] == "notified" else 0)
    for published in sns.published:
        assert len(published["Subject"]) <= 99 and "\n" not in published["Subject"]
        assert len(published["Message"].encode()) <= 8 * 1024
