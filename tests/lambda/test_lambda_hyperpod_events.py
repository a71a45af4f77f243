"""lambda/hyperpod_events: cluster failures, error events, node health and opt-in node repair.

moto 5.2.5 does not implement BatchReplaceClusterNodes / BatchRebootClusterNodes: the repair path is
tested with botocore's Stubber on a real SageMaker client (it checks the request against the botocore
model and returns the canned response), while SNS runs on moto.
"""

from __future__ import annotations

import copy
import json

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lambda_testkit import REGION, Inbox, StubSNS, emf_metric_names, events_for, sns_inbox

NAME = "hyperpod_events"
CLUSTER_FAILED = "hyperpod-cluster-failed.json"
CLUSTER_EVENT = "hyperpod-cluster-event-error.json"
NODE_HEALTH = "hyperpod-node-health-replace.json"
CLUSTER = "llm-pretrain"
CLUSTER_ARN = "arn:aws:sagemaker:us-east-1:123456789012:cluster/abcd1234efgh"
INSTANCE = "i-0123456789abcdef0"


@pytest.fixture
def inbox(aws: None) -> Inbox:
    return sns_inbox()


@pytest.fixture
def stubbed(aws: None):
    """A real SageMaker client whose responses come from a Stubber."""
    client = boto3.client("sagemaker", region_name=REGION)
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def hyperpod(load_handler, inbox, stubbed, monkeypatch):
    def load(auto_repair: object = (CLUSTER,)):
        raw = (
            auto_repair
            if isinstance(auto_repair, str) or auto_repair is None
            else json.dumps(list(auto_repair))
        )
        module = load_handler(NAME, TOPIC_ARN=inbox.topic_arn, AUTO_REPAIR_CLUSTERS=raw)
        monkeypatch.setattr(module, "sagemaker_client", stubbed[0])
        return module

    return load


def test_cluster_failed_sample_notifies(hyperpod, inbox, event, lambda_context, capsys):
    result = hyperpod().handler(event(CLUSTER_FAILED), lambda_context)
    assert result["action"] == "notified" and result["kind"] == "cluster-failed"
    [message] = inbox.messages()
    assert message["Subject"] == "[aiplatform] HyperPod cluster llm-pretrain Failed"
    body = message["Message"]
    for line in (
        "Failure message:  Lifecycle scripts did not run successfully on instance group workers",
        "Instance group controller: InService, 1/1 x ml.m5.xlarge",
        "Instance group workers: Failed, 0/4 x ml.p5.48xlarge",
        "Node recovery:    Automatic",
        f"Cluster ARN:      {CLUSTER_ARN}",
        "Time:             2026-11-24T06:45:00Z",
        "Account:          123456789012",
    ):
        assert line in body
    assert emf_metric_names(capsys.readouterr().out) == ["NotificationsPublished"]


@pytest.mark.parametrize("status", ["InService", "IN_SERVICE", "Creating", "RollingBack", "", None])
def test_other_cluster_statuses_are_ignored(hyperpod, inbox, event, lambda_context, status):
    sample = event(CLUSTER_FAILED)
    sample["detail"]["ClusterStatus"] = status
    assert hyperpod().handler(sample, lambda_context)["action"] == "ignored"
    assert inbox.messages() == []


@pytest.mark.parametrize("status", ["FAILED", "failed"])
def test_failed_cluster_status_spellings(hyperpod, inbox, event, lambda_context, status):
    sample = event(CLUSTER_FAILED)
    sample["detail"]["ClusterStatus"] = status
    assert hyperpod().handler(sample, lambda_context)["kind"] == "cluster-failed"


def test_cluster_error_event_sample_notifies_with_epoch_ms_time(hyperpod, inbox, event, lambda_context):
    result = hyperpod().handler(event(CLUSTER_EVENT), lambda_context)
    assert result["kind"] == "cluster-event-error" and result["cluster"] == CLUSTER
    [message] = inbox.messages()
    # The subject carries the description, cut to SNS's limit; the body has it in full.
    assert message["Subject"] == (
        "[aiplatform] HyperPod cluster llm-pretrain error: Lifecycle script on_create.sh exited with stat..."
    )
    body = message["Message"]
    assert "Description:      Lifecycle script on_create.sh exited with status 1" in body
    assert "Event time:       2025-11-25T11:20:00Z" in body
    assert "Instance group:   workers" in body and f"Instance:         {INSTANCE}" in body
    assert "Cluster event id: 83ea0bb5-1c2d-4e3f-a458-0a87f778a205" in body


@pytest.mark.parametrize(
    ("level", "notified"), [("Info", False), ("Warn", False), ("ERROR", True), (None, False)]
)
def test_cluster_event_levels(hyperpod, inbox, event, lambda_context, level, notified):
    sample = event(CLUSTER_EVENT)
    sample["detail"]["EventDetails"]["EventLevel"] = level
    sample["detail"]["EventDetails"]["EventTime"] = "2026-11-25T11:20:00Z"
    assert (hyperpod().handler(sample, lambda_context)["action"] == "notified") is notified
    messages = inbox.messages()
    assert len(messages) == int(notified)
    if notified:
        assert "Event time:       2026-11-25T11:20:00Z" in messages[0]["Message"]


def test_node_health_replace_sample_replaces_opted_in_node(
    hyperpod, stubbed, inbox, event, lambda_context, capsys
):
    _, stubber = stubbed
    stubber.add_response(
        "batch_replace_cluster_nodes",
        {"Successful": [INSTANCE], "Failed": []},
        expected_params={"ClusterName": CLUSTER, "NodeIds": [INSTANCE]},
    )
    result = hyperpod().handler(event(NODE_HEALTH), lambda_context)

    assert result["repair"] == "Replace" and result["repair_status"] == "requested"
    [message] = inbox.messages()
    assert (
        message["Subject"]
        == f"[aiplatform] HyperPod llm-pretrain node {INSTANCE} Unhealthy, replace requested"
    )
    body = message["Message"]
    assert f"Automatic repair: Replace requested for {INSTANCE} (AUTO_REPAIR_CLUSTERS)" in body
    assert (
        "Reason:           Health monitoring agent detected fault type NvidiaErrorTerminate (XID 79) on GPU 3"
        in body
    )
    assert sorted(emf_metric_names(capsys.readouterr().out)) == [
        "NodeRepairsRequested",
        "NotificationsPublished",
    ]


def test_opt_in_by_cluster_arn(hyperpod, stubbed, event, lambda_context):
    stubbed[1].add_response(
        "batch_replace_cluster_nodes",
        {"Successful": [INSTANCE], "Failed": []},
        expected_params={"ClusterName": CLUSTER, "NodeIds": [INSTANCE]},
    )
    assert hyperpod([CLUSTER_ARN]).handler(event(NODE_HEALTH), lambda_context)["repair_status"] == "requested"


@pytest.mark.parametrize(
    "summary",
    [
        {"HealthStatus": "Unhealthy", "RepairAction": "Reboot"},
        {"HealthStatus": "UNHEALTHY", "RepairAction": "REBOOT"},
        {"HealthStatus": "Unhealthy", "RepairAction": "Reboot", "Recommendation": "No need to replace"},
    ],
)
def test_reboot_is_requested_from_the_structured_repair_action(
    hyperpod, stubbed, event, lambda_context, summary
):
    stubbed[1].add_response(
        "batch_reboot_cluster_nodes",
        {"Successful": [INSTANCE], "Failed": []},
        expected_params={"ClusterName": CLUSTER, "NodeIds": [INSTANCE]},
    )
    sample = event(NODE_HEALTH)
    sample["detail"]["HealthSummary"] = summary
    result = hyperpod().handler(sample, lambda_context)
    assert (result["repair"], result["repair_status"]) == ("Reboot", "requested")


@pytest.mark.parametrize(
    "summary",
    [
        # REFERENCE.md: RepairAction is the verdict, Recommendation free text for people.
        {"HealthStatus": "Unhealthy", "RepairAction": "None", "Recommendation": "No need to replace or reboot"},
        {"HealthStatus": "Unhealthy", "Recommendation": "No need to replace or reboot"},
        {"HealthStatus": "Unhealthy", "Recommendation": "Replace the instance"},
        {"HealthStatus": "Unhealthy", "RepairAction": "Replace the instance soon"},
        {"HealthStatus": "Unhealthy", "RepairAction": "restart"},
    ],
)
def test_free_text_never_triggers_a_repair(hyperpod, inbox, event, lambda_context, summary):
    """The Stubber has no responses queued: any Batch*ClusterNodes call would fail the test."""
    sample = event(NODE_HEALTH)
    sample["detail"]["HealthSummary"] = summary
    result = hyperpod().handler(sample, lambda_context)
    assert (result["repair"], result["repair_status"]) == (None, "not-applicable")
    [message] = inbox.messages()
    assert "Automatic repair: none\n" in message["Message"]


def test_not_opted_in_cluster_is_only_reported(hyperpod, inbox, event, lambda_context):
    result = hyperpod(["another-cluster"]).handler(
        event(NODE_HEALTH), lambda_context
    )  # Stubber: any call fails
    assert result["repair_status"] == "not-opted-in"
    [message] = inbox.messages()
    assert (
        "Automatic repair: none: cluster not in AUTO_REPAIR_CLUSTERS (suggested: Replace)"
        in message["Message"]
    )
    assert message["Subject"] == f"[aiplatform] HyperPod llm-pretrain node {INSTANCE} Unhealthy"


def test_rejected_repair_is_notified_not_raised(hyperpod, stubbed, inbox, event, lambda_context):
    stubbed[1].add_response(
        "batch_replace_cluster_nodes",
        {
            "Failed": [
                {
                    "NodeId": INSTANCE,
                    "ErrorCode": "InstanceIdInUse",
                    "Message": "Node is already being replaced",
                }
            ]
        },
    )
    result = hyperpod().handler(event(NODE_HEALTH), lambda_context)
    assert result["repair_status"] == "rejected"
    [message] = inbox.messages()
    assert (
        "Replace requested but rejected: InstanceIdInUse: Node is already being replaced"
        in message["Message"]
    )


def test_failing_repair_call_is_notified_then_raised(hyperpod, stubbed, inbox, event, lambda_context, capsys):
    stubbed[1].add_client_error(
        "batch_replace_cluster_nodes",
        service_error_code="AccessDeniedException",
        service_message="not authorized",
        http_status_code=400,
    )
    with pytest.raises(ClientError, match="AccessDenied"):
        hyperpod().handler(event(NODE_HEALTH), lambda_context)
    [message] = inbox.messages()
    assert message["Subject"].endswith("repair FAILED")
    assert "Replace call FAILED" in message["Message"]
    assert "ProcessingFailures" in emf_metric_names(capsys.readouterr().out)


def test_runtime_boto3_without_the_operation_fails_loudly(load_handler, inbox, event, lambda_context):
    module = load_handler(NAME, TOPIC_ARN=inbox.topic_arn, AUTO_REPAIR_CLUSTERS=json.dumps([CLUSTER]))
    module.sagemaker_client = object()  # an old boto3 client has no batch_replace_cluster_nodes
    with pytest.raises(RuntimeError, match="bundle a newer boto3"):
        module.handler(event(NODE_HEALTH), lambda_context)
    assert "bundle a newer boto3" in inbox.messages()[0]["Message"]


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d["HealthSummary"].update(HealthStatus="Healthy"),
        lambda d: d.update(InstanceId="not-an-instance"),
        lambda d: d["HealthSummary"].pop("RepairAction") and d["HealthSummary"].pop("Recommendation"),
        lambda d: d.update(HealthSummary="Replace"),
    ],
)
def test_node_health_without_a_valid_repair_request_makes_no_call(
    hyperpod, inbox, event, lambda_context, mutate
):
    sample = event(NODE_HEALTH)
    mutate(sample["detail"])
    result = hyperpod().handler(sample, lambda_context)  # the Stubber has no responses: a call would fail
    assert result["action"] == "notified"
    assert result["repair_status"] in {"not-applicable", "not-attempted"}
    [message] = inbox.messages()
    if result["repair_status"] == "not-attempted":
        assert "Replace not attempted: invalid cluster name or instance id" in message["Message"]


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("not json", "is not JSON"),
        ('{"a": 1}', "must be a JSON list"),
        ('["ok", 3]', "AUTO_REPAIR_CLUSTERS[1]"),
    ],
)
def test_bad_auto_repair_configuration_is_reported(hyperpod, raw, problem):
    module = hyperpod(raw)
    assert any(problem in p for p in module.AUTO_REPAIR_PROBLEMS)
    assert module.AUTO_REPAIR_CLUSTERS <= {"ok"}


@pytest.mark.parametrize(
    "mutate",
    [
        lambda e: e.pop("detail"),
        lambda e: e.update(detail="x"),
        lambda e: e.update({"detail-type": "SageMaker HyperPod Cluster Something New"}),
        lambda e: e["detail"].update(EventDetails="boom"),
        lambda e: e["detail"].pop("EventDetails"),
        lambda e: e["detail"]["EventDetails"].clear() or e.pop("resources"),
    ],
)
def test_malformed_events_are_ignored(hyperpod, inbox, event, lambda_context, mutate):
    sample = event(CLUSTER_EVENT)
    mutate(sample)
    assert hyperpod().handler(sample, lambda_context)["action"] == "ignored"
    assert inbox.messages() == []


def test_huge_description_is_bounded(hyperpod, inbox, event, lambda_context):
    sample = event(CLUSTER_EVENT)
    sample["detail"]["EventDetails"]["Description"] = "line\n" * 50_000
    hyperpod().handler(sample, lambda_context)
    [message] = inbox.messages()
    assert len(message["Subject"]) <= 99 and "\n" not in message["Subject"]
    assert len(message["Message"].encode()) <= 8 * 1024


class FakeRepairClient:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict]] = []

    def batch_replace_cluster_nodes(self, **kwargs):
        self.calls.append(("replace", kwargs))
        return {"Successful": kwargs["NodeIds"], "Failed": []}

    def batch_reboot_cluster_nodes(self, **kwargs):
        self.calls.append(("reboot", kwargs))
        return {"Successful": kwargs["NodeIds"], "Failed": []}


@pytest.fixture
def opted_in_module(hyperpod):
    return hyperpod([CLUSTER])


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    raw=events_for(
        [
            "SageMaker HyperPod Cluster State Change",
            "SageMaker HyperPod Cluster Event",
            "SageMaker HyperPod Cluster Node Health Event",
        ],
        [
            "ClusterName",
            "ClusterArn",
            "ClusterStatus",
            "FailureMessage",
            "InstanceGroups",
            "EventDetails",
            "InstanceId",
            "HealthSummary",
            "NodeRecovery",
        ],
    )
)
def test_arbitrary_input_never_raises(opted_in_module, lambda_context, monkeypatch, raw):
    module = opted_in_module
    sns, repair = StubSNS(), FakeRepairClient()
    monkeypatch.setattr(module, "sns_client", sns)
    monkeypatch.setattr(module, "sagemaker_client", repair)
    result = module.handler(copy.deepcopy(raw), lambda_context)
    assert result["action"] in {"notified", "ignored"}
    assert len(sns.published) == (1 if result["action"] == "notified" else 0)
    for _, call in repair.calls:
        assert call["ClusterName"] == "llm-pretrain" and len(call["NodeIds"]) == 1


# Structured node-health events: most examples are valid enough to reach the repair decision.
_NODE_HEALTH = st.fixed_dictionaries(
    {
        "cluster": st.sampled_from([CLUSTER, CLUSTER, "another-cluster"]),
        "instance": st.sampled_from([INSTANCE, INSTANCE, "i-123", ""]),
        "health": st.sampled_from(["Unhealthy", "UNHEALTHY", "Healthy", ""]),
        "action": st.sampled_from(["Replace", "REPLACE", "Reboot", "reboot", "None", "", "Replace soon", "restart"]),
        "recommendation": st.sampled_from(
            ["No need to replace or reboot", "Replace the instance", "Reboot the instance", ""]
        ),
    }
)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spec=_NODE_HEALTH)
def test_structured_node_events_repair_exactly_on_the_repair_action(opted_in_module, lambda_context, monkeypatch, spec):
    module = opted_in_module
    sns, repair = StubSNS(), FakeRepairClient()
    monkeypatch.setattr(module, "sns_client", sns)
    monkeypatch.setattr(module, "sagemaker_client", repair)
    event = {
        "id": "e", "detail-type": "SageMaker HyperPod Cluster Node Health Event", "source": "aws.sagemaker",
        "detail": {
            "ClusterName": spec["cluster"], "InstanceId": spec["instance"],
            "HealthSummary": {
                "HealthStatus": spec["health"], "RepairAction": spec["action"],
                "Recommendation": spec["recommendation"],
            },
        },
    }
    module.handler(event, lambda_context)
    expected = (
        spec["action"].casefold() in ("replace", "reboot") and spec["health"].casefold() != "healthy"
        and spec["cluster"] == CLUSTER and spec["instance"] == INSTANCE
    )
    assert [kind for kind, _ in repair.calls] == ([spec["action"].casefold()] if expected else [])
    assert len(sns.published) == 1  # every node health event is notified, repaired or not
