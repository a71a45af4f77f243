"""What every Lambda handler of the library shares: the event envelope, text helpers for readable SNS
notifications, the SNS publish that fails loudly, and the Powertools/boto3 set-up.

The bundler (``constructs_lib/functions_code.py``) copies this file into the root of every function
asset, next to ``handler.py`` and ``sagemaker_events.py``, so a handler simply does ``import
lambda_common``; the tests put ``lambda/common`` on ``sys.path`` to import the very same file.

Standard library, boto3/botocore and Powertools only. Nothing here reads the environment: a handler
reads its configuration once at import and passes what a helper needs (``logger``, clients, limits).
"""

from __future__ import annotations

import importlib.util
import json
import re
import urllib.request
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

import boto3
import sagemaker_events as ev  # bundled next to this file (the tests register it from constructs_lib)
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

SUBJECT_MAX_CHARS = 99  # SNS: "must be less than 100 characters long"
MESSAGE_MAX_BYTES = 8 * 1024
FIELD_MAX_CHARS = 2000
# CloudFormation custom resources: "The total size of the response body can't exceed 4096 bytes" (User Guide,
# "CloudFormation custom resource request and response reference"): the reason is clipped well below that.
REASON_MAX_CHARS = 3000
CUSTOM_RESOURCE_REQUEST_TYPES = ("Create", "Update", "Delete")

# Metric names every handler emits (namespace: POWERTOOLS_METRICS_NAMESPACE of the function).
METRIC_NOTIFIED = "NotificationsPublished"
METRIC_IGNORED = "EventsIgnored"
METRIC_FAILED = "ProcessingFailures"

# detail-type of the event an EventBridge schedule rule (``rate(...)``/``cron(...)``) delivers, with source
# ``aws.events`` (the scheduled-event sample in the EventBridge User Guide); handlers on a schedule check it.
SCHEDULED_EVENT = "Scheduled Event"

# Endpoint, endpoint-config, cluster and training-job names of the SageMaker API (the shared vocabulary's).
NAME_RE = ev.NAME_PATTERN


# --- set-up, once per execution environment -------------------------------------------------------
def boto_config(*, read_timeout: int = 20) -> Config:
    """Client settings of every handler: standard retry mode (5 attempts), short connect timeout."""
    return Config(
        retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=read_timeout
    )


def clients(*services: str, read_timeout: int = 20) -> tuple[Any, ...]:
    """One boto3 client per service name, all with :func:`boto_config`."""
    config = boto_config(read_timeout=read_timeout)
    return tuple(boto3.client(service, config=config) for service in services)


class Powertools(NamedTuple):
    logger: Logger
    tracer: Any  # Tracer, or _NoTracer without the X-Ray SDK
    metrics: Metrics


def powertools(service: str, namespace: str, logger_service: str | None = None) -> Powertools:
    """A function's Logger (named ``logger_service`` when given, e.g. ``POWERTOOLS_SERVICE_NAME``,
    else ``service``), Tracer and Metrics (in ``namespace``, dimension ``service``)."""
    logger = Logger(service=logger_service or service)
    return Powertools(logger, tracer_for(service), Metrics(namespace=namespace, service=service))


class _NoTracer:
    """Stands in for Powertools' Tracer when the X-Ray SDK is not importable: ``Tracer()`` imports
    ``aws_xray_sdk`` even when tracing is disabled. The bundler vendors the SDK (with wrapt's
    pure-Python fallback) when it is installed where the app synthesizes; without it, functions run
    untraced instead of failing at import."""

    disabled = True

    def capture_lambda_handler(self, function: Any = None, **_: Any) -> Any:
        return function if function is not None else (lambda decorated: decorated)

    capture_method = capture_lambda_handler

    def put_annotation(self, *_: Any, **__: Any) -> None:
        return None


def tracer_for(service: str) -> Any:
    """Powertools' ``Tracer`` for ``service``, or a no-op stand-in when ``aws_xray_sdk`` is missing."""
    return Tracer(service=service) if importlib.util.find_spec("aws_xray_sdk") is not None else _NoTracer()


# --- typed event -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Envelope:
    """The EventBridge envelope; every field tolerates absence and wrong types."""

    id: str
    detail_type: str
    account: str
    region: str
    time: str
    resources: tuple[str, ...]
    detail: dict[str, Any] | None
    detail_error: str | None
    is_object: bool = True

    @classmethod
    def parse(cls, event: object) -> Envelope:
        raw = event if isinstance(event, dict) else {}
        detail = raw.get("detail")
        detail_error = None
        if not isinstance(event, dict):
            detail_error = f"event is a {type(event).__name__}, not an object"
        elif "detail" not in raw:
            detail_error = "event has no detail"
        elif not isinstance(detail, dict):
            detail_error = f"detail is a {type(detail).__name__}, not an object"
        resources = raw.get("resources")
        return cls(
            id=as_text(raw.get("id")),
            detail_type=as_text(raw.get("detail-type")),
            account=as_text(raw.get("account")),
            region=as_text(raw.get("region")),
            time=as_text(raw.get("time")),
            resources=tuple(r for r in resources if isinstance(r, str))
            if isinstance(resources, list)
            else (),
            detail=detail if isinstance(detail, dict) else None,
            detail_error=detail_error,
            is_object=isinstance(event, dict),
        )

    def unhandled(self, detail_types: Collection[str]) -> str | None:
        """Why a handler of ``detail_types`` cannot act on this event, or ``None`` when it can."""
        if not self.is_object:
            return self.detail_error or "event is not an object"
        if self.detail_type not in detail_types:
            return f"unhandled detail-type {clip(self.detail_type, 128)!r}"
        if self.detail is None:
            return self.detail_error or "detail missing"
        return None


@dataclass(frozen=True)
class Notification:
    subject: str
    message: str

    @classmethod
    def compose(cls, subject: str, lines: Iterable[str]) -> Notification:
        """A notification SNS accepts and people can trust: the subject made valid (:func:`sns_subject`),
        each line made one line (:func:`one_line`: event fields cannot forge lines), the lines joined and
        kept within ``MESSAGE_MAX_BYTES`` (:func:`bounded_message`)."""
        return cls(
            subject=sns_subject(subject), message=bounded_message("\n".join(one_line(line) for line in lines))
        )


# --- tolerant field access -------------------------------------------------------------------------
def as_text(value: object) -> str:
    """A scalar as stripped text; anything else (dicts, lists, None, booleans) as ``""``."""
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, (str, int, float)):
        return str(value).strip()
    return ""


def as_object(value: object) -> dict[str, Any]:
    """``value`` when it is a JSON object, else ``{}``."""
    return value if isinstance(value, dict) else {}


def as_objects(value: object) -> list[dict[str, Any]]:
    """The JSON objects of a list (other items dropped); ``[]`` when ``value`` is not a list."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def canonical_status(value: object, known: tuple[str, ...]) -> str:
    """``FAILED``/``failed``/``Failed`` -> ``Failed`` for known statuses; others as normalised."""
    status = ev.normalize_status(value)
    return next((k for k in known if k.casefold() == status.casefold()), status)


def known_values(constants: type) -> tuple[str, ...]:
    """The values of a ``sagemaker_events`` constants class, e.g. every ``EndpointStatus``."""
    return tuple(v for k, v in vars(constants).items() if k.isupper())


def is_not_found(error: ClientError) -> bool:
    """Whether a SageMaker ``Describe*`` error means "no such resource" (it has no dedicated code)."""
    info = error.response.get("Error", {})
    message = str(info.get("Message", "")).lower()
    return info.get("Code") in ("ValidationException", "ResourceNotFound") and (
        "could not find" in message or "not found" in message or "does not exist" in message
    )


# --- readable text ---------------------------------------------------------------------------------
def clip(text: str, limit: int = FIELD_MAX_CHARS) -> str:
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "\u2026"


def epoch_seconds(value: object) -> float | None:
    """Epoch seconds from seconds or milliseconds (number or digit string); ``None`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    if isinstance(value, str) and not re.fullmatch(r"\s*\d+(\.\d+)?\s*", value):
        return None
    try:
        seconds = float(value)
        if seconds > 1e11:  # epoch milliseconds (1e11 s is the year 5138)
            seconds /= 1000.0
        datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return seconds


def format_time(value: object) -> str | None:
    """ISO 8601 UTC text from epoch seconds/milliseconds (number or digit string) or ISO text."""
    seconds = epoch_seconds(value)
    if seconds is not None:
        return datetime.fromtimestamp(seconds, tz=UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    if not isinstance(value, str) or isinstance(value, bool) or not value.strip():
        return None
    text = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return None  # digits out of range
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return clip(text, 64)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def origin_lines(envelope: Envelope) -> list[str]:
    """The ``Region``/``Account``/``Time`` lines that every notification carries."""
    return [
        f"Region:           {envelope.region or '(unknown)'}",
        f"Account:          {envelope.account or '(unknown)'}",
        f"Time:             {format_time(envelope.time) or '(unknown)'}",
    ]


# C0/C1 control characters, Unicode line/paragraph separators and bidirectional overrides/isolates:
# text from an event must not start a line of its own or reorder what a reader sees.
_UNSAFE_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]+")


def one_line(text: str) -> str:
    """``text`` with every control character, line break and bidi control replaced by one space."""
    return _UNSAFE_CHARS.sub(" ", text)


def sns_subject(text: str) -> str:
    """A valid SNS subject: printable ASCII, one line, fewer than 100 characters."""
    ascii_text = one_line(text).encode("ascii", "replace").decode("ascii")
    single = re.sub(r"[\x00-\x1f\x7f\s]+", " ", ascii_text).strip()
    if len(single) > SUBJECT_MAX_CHARS:
        single = single[: SUBJECT_MAX_CHARS - 3].rstrip() + "..."
    return single or "SageMaker notification"


def bounded_message(text: str, max_bytes: int = MESSAGE_MAX_BYTES) -> str:
    """``text`` cut to ``max_bytes`` of UTF-8 (never inside a character), marked as truncated."""
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    marker = "\n[message truncated]"
    return data[: max_bytes - len(marker.encode())].decode("utf-8", "ignore") + marker


# --- outcomes --------------------------------------------------------------------------------------
def publish(sns: Any, topic_arn: str, notification: Notification, *, logger: Logger) -> str:
    """Publish to SNS; raises (after logging) so Lambda retries and dead-letters the event."""
    if not topic_arn:
        logger.error("TOPIC_ARN is not configured; cannot notify")
        raise RuntimeError("TOPIC_ARN is not configured")
    try:
        response = sns.publish(TopicArn=topic_arn, Subject=notification.subject, Message=notification.message)
    except (ClientError, BotoCoreError):
        logger.exception(
            "SNS publish failed", extra={"topic_arn": topic_arn, "subject": notification.subject}
        )
        raise
    return as_text(response.get("MessageId"))


def ignored(reason: str, *, logger: Logger) -> dict[str, Any]:
    """Log why an event needs nothing and say so in the handler's result."""
    logger.info("Event ignored", extra={"reason": reason})
    return {"action": "ignored", "reason": reason}


def count(metrics: Metrics, name: str, value: float = 1) -> None:
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def count_outcome(metrics: Metrics, result: dict[str, Any]) -> dict[str, Any]:
    """Count an ignored event as ``EventsIgnored``, any other outcome as ``NotificationsPublished``."""
    count(metrics, METRIC_IGNORED if result.get("action") == "ignored" else METRIC_NOTIFIED)
    return result


# --- CloudFormation custom resources --------------------------------------------------------------
def is_custom_resource_request(event: object) -> bool:
    """A CloudFormation custom-resource request: ``RequestType`` Create/Update/Delete and a ``ResponseURL``
    (User Guide, "Custom resource request objects"). CloudFormation invokes a Lambda-backed custom resource
    asynchronously with that event (Lambda Developer Guide, "Using AWS Lambda with CloudFormation")."""
    return (
        isinstance(event, dict) and isinstance(event.get("ResponseURL"), str) and bool(event["ResponseURL"])
        and event.get("RequestType") in CUSTOM_RESOURCE_REQUEST_TYPES
    )


def respond(event: dict[str, Any], status: str, result: dict[str, Any], reason: str = "", *, service: str = "") -> None:
    """PUT the CloudFormation response to the request's pre-signed ``ResponseURL``: ``Status`` (SUCCESS or
    FAILED), ``Reason``, ``PhysicalResourceId`` (``result``'s, else the request's, else its logical id),
    ``StackId``, ``RequestId`` and ``LogicalResourceId`` copied from the request, and ``Data`` (User Guide,
    "Custom resource response objects"). An empty ``Content-Type``: the URL is pre-signed without one."""
    body = json.dumps({
        "Status": status,
        "Reason": clip(reason or f"See CloudWatch Logs of {service or 'the function'}", REASON_MAX_CHARS),
        "PhysicalResourceId": result.get("PhysicalResourceId") or event.get("PhysicalResourceId")
        or event.get("LogicalResourceId") or service,
        "StackId": event.get("StackId"),
        "RequestId": event.get("RequestId"),
        "LogicalResourceId": event.get("LogicalResourceId"),
        "Data": result.get("Data", {}),
    }).encode()
    request = urllib.request.Request(
        event["ResponseURL"], data=body, method="PUT", headers={"Content-Type": "", "Content-Length": str(len(body))}
    )
    with urllib.request.urlopen(request, timeout=20) as response:
        response.read()


# --- entry point -----------------------------------------------------------------------------------
Run = Callable[[Envelope, Any, Any], dict[str, Any]]


def once_per_event(run: Run, *, table_name: str, expiry_seconds: int, key_prefix: str) -> Run:
    """``run`` executed once per EventBridge event ``id``: a redelivered event (EventBridge delivers at
    least once) returns the first outcome instead of notifying again.

    Powertools idempotency in the DynamoDB table ``table_name`` (partition key ``id``, TTL attribute
    ``expiration``); a run that raises deletes its record, so Lambda's retry runs it again. Without a
    table name, or for an event without a text ``id``, ``run`` is returned / called as it is.
    """
    if not table_name:
        return run
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )

    config = IdempotencyConfig(
        event_key_jmespath="id", expires_after_seconds=expiry_seconds, raise_on_no_idempotency_key=False
    )
    persistence = DynamoDBPersistenceLayer(table_name=table_name, boto3_client=clients("dynamodb")[0])

    def first_time(*, event: dict[str, Any], envelope: Envelope, context: Any) -> dict[str, Any]:
        return run(envelope, event, context)

    once = idempotent_function(
        first_time, data_keyword_argument="event", persistence_store=persistence, config=config,
        key_prefix=key_prefix,
    )

    def deduplicated(envelope: Envelope, event: Any, context: Any) -> dict[str, Any]:
        if not (isinstance(event, dict) and isinstance(event.get("id"), str) and event["id"]):
            return run(envelope, event, context)
        if context is not None and hasattr(context, "get_remaining_time_in_millis"):
            config.register_lambda_context(context)
        return once(event=event, envelope=envelope, context=context)

    return deduplicated


def lambda_handler(
    run: Run, *, logger: Logger, tracer: Any, metrics: Metrics
) -> Callable[[Any, Any], dict[str, Any]]:
    """The Lambda entry point ``handler(event, context)`` around ``run(envelope, event, context)``.

    Adds the Lambda context, the event id and detail-type to every log line, traces the invocation,
    flushes the metrics after it, and counts ``ProcessingFailures`` before an exception propagates
    (Lambda then retries the event and finally sends it to the on-failure destination).
    """

    @logger.inject_lambda_context(log_event=False, clear_state=True)
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics
    def handler(event: Any, context: Any) -> dict[str, Any]:
        envelope = Envelope.parse(event)
        logger.append_keys(event_id=envelope.id or None, detail_type=envelope.detail_type or None)
        try:
            return run(envelope, event, context)
        except Exception:
            count(metrics, METRIC_FAILED)
            raise

    return handler
