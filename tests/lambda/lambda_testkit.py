"""Helpers shared by the Lambda handler tests (imported by the test modules next to it)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import boto3
from botocore.validate import validate_parameters
from hypothesis import strategies as st

# Paths and the test environment, here rather than in conftest.py: test modules import this module by
# its unique name, while "conftest" may resolve to another directory's conftest.py in a full test run.
REPO = Path(__file__).resolve().parents[2]
LAMBDA_DIR = REPO / "lambda"
COMMON_DIR = LAMBDA_DIR / "common"  # lambda_common.py: copied into every asset root next to handler.py
EVENTS_DIR = REPO / "tests" / "events"
SHARED_EVENTS_DIR = REPO.parent / "shared" / "events"

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account, also the account of the sample events
METRICS_NAMESPACE = "AIPlatformTest"

TEST_ENV = {
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_CONFIG_FILE": "/dev/null",
    "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    "POWERTOOLS_TRACE_DISABLED": "1",
    "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
    "POWERTOOLS_LOG_LEVEL": "INFO",
}
# Removed for every test so that nothing from the developer's shell leaks into a handler's configuration.
UNSET_ENV = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "POWERTOOLS_SERVICE_NAME",
    "AWS_LAMBDA_FUNCTION_NAME",
    "TOPIC_ARN",
    "PLATFORM_NAME",
    "MODEL_PACKAGE_GROUP",
    "INFERENCE_IMAGE",
    "DEPLOY_TARGETS",
    "MODEL_EXECUTION_ROLE_ARN",
    "IDEMPOTENCY_TABLE",
    "IDEMPOTENCY_EXPIRY_SECONDS",
    "AUTO_REPAIR_CLUSTERS",
    "ENDPOINTS",
    "IDLE_HOURS",
    "SCALE_TO_ZERO_ENDPOINTS",
    "DEDUPLICATION_TABLE",
    "DEDUPLICATION_EXPIRY_SECONDS",
    "JOB_ALARMS",
)


# --- SNS inbox: a topic with an SQS queue subscribed, read back as the subscriber sees it ----------
@dataclass
class Inbox:
    topic_arn: str
    queue_url: str
    sqs: Any

    def messages(self) -> list[dict[str, Any]]:
        """All SNS notifications delivered so far: ``{"Subject": ..., "Message": ...}`` dicts."""
        received: list[dict[str, Any]] = []
        while True:
            batch = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get(
                "Messages", []
            )
            if not batch:
                return received
            for message in batch:
                received.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])


def sns_inbox(name: str = "aiplatform-notifications") -> Inbox:
    """Call inside moto. Creates the topic and a subscribed queue."""
    sns = boto3.client("sns", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    topic_arn = sns.create_topic(Name=name)["TopicArn"]
    queue_url = sqs.create_queue(QueueName=f"{name}-inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    return Inbox(topic_arn=topic_arn, queue_url=queue_url, sqs=sqs)


# --- recording proxy around a real (moto-backed) client --------------------------------------------
@dataclass
class RecordingClient:
    """Delegates to ``client``; records every call; ``overrides`` replace operations moto lacks.

    Overridden operations are still validated against the botocore service model, so a wrong
    parameter name or type fails the test exactly as the real client would.
    """

    client: Any
    overrides: dict[str, Callable[..., Any]] = field(default_factory=dict)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name in ("client", "overrides", "calls"):
            raise AttributeError(name)
        target = self.overrides.get(name) or getattr(self.client, name)
        if not callable(target) or name in ("meta", "exceptions"):
            return target

        def call(**kwargs: Any) -> Any:
            self.calls.append((name, kwargs))
            if name in self.overrides:
                validate_request(self.client, name, kwargs)
            return target(**kwargs)

        return call

    @property
    def meta(self) -> Any:
        return self.client.meta

    @property
    def exceptions(self) -> Any:
        return self.client.exceptions

    def calls_to(self, name: str) -> list[dict[str, Any]]:
        return [kwargs for called, kwargs in self.calls if called == name]


def validate_request(client: Any, method: str, params: dict[str, Any]) -> None:
    api_name = client.meta.method_to_api_mapping[method]
    shape = client.meta.service_model.operation_model(api_name).input_shape
    validate_parameters(params, shape)


# --- SNS stub for property tests (never fails, records) --------------------------------------------
@dataclass
class StubSNS:
    published: list[dict[str, Any]] = field(default_factory=list)

    def publish(self, **kwargs: Any) -> dict[str, Any]:
        self.published.append(kwargs)
        return {"MessageId": f"stub-{len(self.published)}"}


def emf_metric_names(stdout: str) -> list[str]:
    """Metric names in the Embedded Metric Format blobs printed to stdout by Powertools Metrics."""
    names: list[str] = []
    for line in stdout.splitlines():
        line = line.strip()
        if not line.startswith("{") or '"_aws"' not in line:
            continue
        blob = json.loads(line)
        for directive in blob["_aws"]["CloudWatchMetrics"]:
            names.extend(metric["Name"] for metric in directive["Metrics"])
    return names


def log_records(stdout: str) -> list[dict[str, Any]]:
    """Structured log lines printed by the Powertools Logger."""
    records = []
    for line in stdout.splitlines():
        line = line.strip()
        if line.startswith("{") and '"level"' in line:
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return records


# --- hypothesis: arbitrary JSON-like events ---------------------------------------------------------
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(
        ["Failed", "FAILED", "failed", "InService", "RollingBack", "Approved", "Error", "Replace"]
    ),
)
json_like = st.recursive(
    _scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)


def events_for(detail_types: list[str], detail_keys: list[str]) -> st.SearchStrategy[Any]:
    """Arbitrary values plus event-shaped dicts whose detail mixes the handler's keys with junk."""
    detail = st.dictionaries(
        st.one_of(st.sampled_from(detail_keys), st.text(max_size=8)), json_like, max_size=len(detail_keys) + 2
    )
    shaped = st.fixed_dictionaries(
        {},
        optional={
            "version": json_like,
            "id": st.one_of(st.uuids().map(str), json_like),
            "detail-type": st.one_of(st.sampled_from(detail_types), json_like),
            "source": st.just("aws.sagemaker"),
            "account": st.one_of(st.just("123456789012"), json_like),
            "time": st.one_of(st.just("2026-11-22T08:30:00Z"), json_like),
            "region": st.one_of(st.just(REGION), json_like),
            "resources": json_like,
            "detail": st.one_of(detail, json_like),
        },
    )
    return st.one_of(shaped, json_like)


# --- CloudFormation custom-resource responses --------------------------------------------------------
def cloudformation_responses(module: Any, monkeypatch: Any, response_url: str | None = None) -> list[dict[str, Any]]:
    """Captures what ``module`` answers on a custom-resource request's pre-signed ``ResponseURL``
    (``lambda_common.respond``: an HTTP PUT of the JSON body, 20 s timeout); returns the bodies in order.
    ``response_url``: the exact URL every answer must go to (default: any https URL)."""
    answered: list[dict[str, Any]] = []

    class Response:
        def read(self) -> bytes:
            return b""

        def __enter__(self) -> Self:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

    def urlopen(req: Any, timeout: float) -> Response:
        assert req.get_method() == "PUT" and timeout == 20
        assert req.full_url == response_url if response_url else req.full_url.startswith("https://")
        answered.append(json.loads(req.data))
        return Response()

    monkeypatch.setattr(module.common.urllib.request, "urlopen", urlopen)
    return answered

