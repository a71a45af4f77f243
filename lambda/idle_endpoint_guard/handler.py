"""Idle endpoint guard: report endpoints without traffic, and scale opted-in ones to zero.

Run on a schedule (EventBridge ``Scheduled Event``; any event without a detail-type, e.g. a manual test
invoke, works too). For every endpoint in ``ENDPOINTS`` it reads ``DescribeEndpoint`` (status, variants,
kind) and sums the CloudWatch metric ``AWS/SageMaker`` ``Invocations`` (dimensions ``EndpointName`` +
``VariantName``, one query per variant, 1-hour periods) over the last ``IDLE_HOURS`` hours with
``GetMetricData``. An endpoint is idle when that sum is 0 (no datapoints counts as 0). Endpoints that are not
``InService`` or were created inside the window are not judged. Idle (and missing) endpoints are reported
in ONE SNS notification; when nothing is idle, nothing is published.

For an idle endpoint listed in ``SCALE_TO_ZERO_ENDPOINTS`` the guard acts only where SageMaker supports
zero capacity, using the documented mechanism for each kind:

* asynchronous endpoints: the variant's Application Auto Scaling target
  (``sagemaker:variant:DesiredInstanceCount``) gets ``MinCapacity=0`` with ``RegisterScalableTarget``
  (keeping its ``MaxCapacity``); the endpoint's own scaling policy then scales it in to zero. Without a
  registered scalable target nothing is changed (reported as ``no-scalable-target``);
* inference-component endpoints: ``UpdateInferenceComponentRuntimeConfig`` sets ``CopyCount=0`` for each of
  its InService components;
* serverless endpoints already scale to zero by themselves; instance-based real-time endpoints cannot have
  fewer than one instance: both are only reported.

Limits:
* the endpoint-level metric may not count requests routed to inference components, so such an endpoint
  can be reported idle while its components are busy; its components are only set to zero copies after
  their own ``Invocations`` (dimension ``InferenceComponentName``) over the window are found to be 0;
* ``IDLE_HOURS`` is clamped to 1..720 (30 days); a variant renamed inside the window is judged on its new
  name only;
* a later CloudFormation/CDK deployment resets a lowered ``MinCapacity`` (drift), an Application Auto
  Scaling target with ``MinCapacity`` > 0 on an inference component may scale it back up, and an
  inference-component endpoint releases its instances only with managed instance scaling down to 0;
* a failing AWS call raises after the report is published (or before, for reads), so the run is retried
  and shows up as an error.

Environment: ``ENDPOINTS`` (JSON list of endpoint names), ``IDLE_HOURS`` (default 24),
``SCALE_TO_ZERO_ENDPOINTS`` (JSON list, default none), ``TOPIC_ARN``, ``PLATFORM_NAME``,
``POWERTOOLS_METRICS_NAMESPACE``.
AWS calls: sagemaker:DescribeEndpoint; cloudwatch:GetMetricData; and only for endpoints in
SCALE_TO_ZERO_ENDPOINTS: application-autoscaling:DescribeScalableTargets and RegisterScalableTarget,
sagemaker:ListInferenceComponents and UpdateInferenceComponentRuntimeConfig; sns:Publish.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

try:
    import sagemaker_events as ev  # bundled copy inside the Lambda asset
except ImportError:  # running from the repository (tests)
    from constructs_lib import sagemaker_events as ev

SERVICE = "idle-endpoint-guard"

SUBJECT_MAX_CHARS = 99  # SNS: "must be less than 100 characters long"
MESSAGE_MAX_BYTES = 8 * 1024
FIELD_MAX_CHARS = 2000

METRIC_NOTIFIED = "NotificationsPublished"
METRIC_IGNORED = "EventsIgnored"
METRIC_FAILED = "ProcessingFailures"
METRIC_CHECKED = "EndpointsChecked"
METRIC_IDLE = "IdleEndpoints"
METRIC_SCALED = "ScaleToZeroActions"

SCHEDULED_EVENT = "Scheduled Event"
SAGEMAKER_NAMESPACE = "AWS/SageMaker"
INVOCATIONS_METRIC = "Invocations"
VARIANT_CAPACITY_DIMENSION = "sagemaker:variant:DesiredInstanceCount"
AUTOSCALING_NAMESPACE = "sagemaker"
PERIOD_SECONDS = 3600
MAX_QUERIES_PER_CALL = 500
MAX_IDLE_HOURS = 720


def parse_name_list(raw: str, variable: str) -> tuple[tuple[str, ...], list[str]]:
    """A JSON list of endpoint names -> valid, de-duplicated names in order, plus problems found."""
    if not raw.strip():
        return (), []
    try:
        data = json.loads(raw)
    except ValueError as error:
        return (), [f"{variable} is not JSON: {error}"]
    if isinstance(data, str):
        data = [data]
    if not isinstance(data, list):
        return (), [f"{variable} must be a JSON list, got {type(data).__name__}"]
    names: list[str] = []
    problems: list[str] = []
    for index, item in enumerate(data):
        if isinstance(item, str) and _NAME_RE.match(item.strip()):
            if item.strip() not in names:
                names.append(item.strip())
        else:
            problems.append(f"{variable}[{index}]: {item!r} is not a valid endpoint name")
    return tuple(names), problems


def parse_idle_hours(raw: str) -> tuple[int, list[str]]:
    try:
        hours = int(float(raw)) if raw.strip() else 24
    except ValueError:
        return 24, [f"IDLE_HOURS {raw!r} is not a number; using 24"]
    clamped = min(max(hours, 1), MAX_IDLE_HOURS)
    return clamped, ([f"IDLE_HOURS {hours} clamped to {clamped}"] if clamped != hours else [])


_NAME_RE = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")

# --- configuration, read once per execution environment -------------------------------------------
TOPIC_ARN = os.environ.get("TOPIC_ARN", "")
REGION = os.environ.get("AWS_REGION", "")
PLATFORM_NAME = os.environ.get("PLATFORM_NAME", "").strip() or "aiplatform"
ENDPOINTS, _ENDPOINT_PROBLEMS = parse_name_list(os.environ.get("ENDPOINTS", ""), "ENDPOINTS")
SCALE_TO_ZERO_ENDPOINTS, _SCALE_PROBLEMS = parse_name_list(
    os.environ.get("SCALE_TO_ZERO_ENDPOINTS", ""), "SCALE_TO_ZERO_ENDPOINTS"
)
IDLE_HOURS, _HOURS_PROBLEMS = parse_idle_hours(os.environ.get("IDLE_HOURS", ""))
CONFIG_PROBLEMS = _ENDPOINT_PROBLEMS + _SCALE_PROBLEMS + _HOURS_PROBLEMS
METRICS_NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "") or "AIPlatform"

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME") or SERVICE)


class _NoTracer:
    """Stands in for Powertools' Tracer when the X-Ray SDK is not importable: Tracer() imports
    ``aws_xray_sdk`` even when tracing is disabled, and the asset vendors Powertools without it."""

    disabled = True

    def capture_lambda_handler(self, function: Any = None, **_: Any) -> Any:
        return function if function is not None else (lambda decorated: decorated)

    capture_method = capture_lambda_handler

    def put_annotation(self, *_: Any, **__: Any) -> None:
        return None


tracer: Any = Tracer(service=SERVICE) if importlib.util.find_spec("aws_xray_sdk") is not None else _NoTracer()
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE)

_BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=20)
sns_client = boto3.client("sns", config=_BOTO_CONFIG)
sagemaker_client = boto3.client("sagemaker", config=_BOTO_CONFIG)
cloudwatch_client = boto3.client("cloudwatch", config=_BOTO_CONFIG)
autoscaling_client = boto3.client("application-autoscaling", config=_BOTO_CONFIG)

if CONFIG_PROBLEMS:
    logger.error("Configuration problems", extra={"problems": CONFIG_PROBLEMS})


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
            id=_s(raw.get("id")),
            detail_type=_s(raw.get("detail-type")),
            account=_s(raw.get("account")),
            region=_s(raw.get("region")),
            time=_s(raw.get("time")),
            resources=tuple(r for r in resources if isinstance(r, str))
            if isinstance(resources, list)
            else (),
            detail=detail if isinstance(detail, dict) else None,
            detail_error=detail_error,
            is_object=isinstance(event, dict),
        )


@dataclass
class EndpointCheck:
    name: str
    status: str = ""
    kind: str = ""  # "async", "serverless", "real-time" (inference components are found when acting)
    variants: tuple[str, ...] = ()
    invocations: float | None = None
    verdict: str = ""  # "idle", "active", "missing", "not-evaluated"
    reason: str = ""
    actions: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"endpoint": self.name, "verdict": self.verdict}
        for key in ("status", "kind", "reason"):
            if getattr(self, key):
                data[key] = getattr(self, key)
        if self.invocations is not None:
            data["invocations"] = self.invocations
        if self.actions:
            data["actions"] = list(self.actions)
        return data


@dataclass(frozen=True)
class Notification:
    subject: str
    message: str


# --- shared helpers (identical in every handler; tests/lambda checks that they agree) -------------
def _s(value: object) -> str:
    """A scalar as stripped text; anything else (dicts, lists, None) as ``""``."""
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, (str, int, float)):
        return str(value).strip()
    return ""


def _obj(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _dicts(value: object) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def canonical_status(value: object, known: tuple[str, ...]) -> str:
    """``FAILED``/``failed``/``Failed`` -> ``Failed`` for known statuses; others as normalised."""
    status = ev.normalize_status(value)
    return next((k for k in known if k.casefold() == status.casefold()), status)


def clip(text: str, limit: int = FIELD_MAX_CHARS) -> str:
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "\u2026"


def _epoch_seconds(value: object) -> float | None:
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
    seconds = _epoch_seconds(value)
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


def sns_subject(text: str) -> str:
    """A valid SNS subject: printable ASCII, one line, fewer than 100 characters."""
    ascii_text = text.encode("ascii", "replace").decode("ascii")
    one_line = re.sub(r"[\x00-\x1f\x7f\s]+", " ", ascii_text).strip()
    if len(one_line) > SUBJECT_MAX_CHARS:
        one_line = one_line[: SUBJECT_MAX_CHARS - 3].rstrip() + "..."
    return one_line or "SageMaker notification"


def bounded_message(text: str, max_bytes: int = MESSAGE_MAX_BYTES) -> str:
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    marker = "\n[message truncated]"
    return data[: max_bytes - len(marker.encode())].decode("utf-8", "ignore") + marker


def publish(sns: Any, topic_arn: str, notification: Notification) -> str:
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
    return _s(response.get("MessageId"))


def ignored(reason: str) -> dict[str, Any]:
    logger.info("Event ignored", extra={"reason": reason})
    return {"action": "ignored", "reason": reason}


# --- this handler's logic --------------------------------------------------------------------------
_ENDPOINT_STATUSES = tuple(v for k, v in vars(ev.EndpointStatus).items() if k.isupper())


def _is_not_found(error: ClientError) -> bool:
    info = error.response.get("Error", {})
    message = str(info.get("Message", "")).lower()
    return info.get("Code") in ("ValidationException", "ResourceNotFound") and (
        "could not find" in message or "not found" in message or "does not exist" in message
    )


def _as_utc(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    seconds = _epoch_seconds(value)
    return datetime.fromtimestamp(seconds, tz=UTC) if seconds is not None else None


def describe(sagemaker: Any, name: str, window_start: datetime) -> EndpointCheck:
    """DescribeEndpoint -> what to query. A missing endpoint is reported; other errors raise."""
    check = EndpointCheck(name=name)
    try:
        endpoint = sagemaker.describe_endpoint(EndpointName=name)
    except ClientError as error:
        if not _is_not_found(error):
            raise
        check.verdict, check.reason = "missing", "endpoint not found"
        return check
    variants = _dicts(endpoint.get("ProductionVariants"))
    check.status = canonical_status(endpoint.get("EndpointStatus"), _ENDPOINT_STATUSES)
    check.variants = tuple(_s(v.get("VariantName")) for v in variants if _s(v.get("VariantName")))
    if endpoint.get("AsyncInferenceConfig"):
        check.kind = "async"
    elif any(v.get("CurrentServerlessConfig") or v.get("DesiredServerlessConfig") for v in variants):
        check.kind = "serverless"
    else:
        check.kind = "real-time"
    created = _as_utc(endpoint.get("CreationTime"))
    if check.status != ev.EndpointStatus.IN_SERVICE:
        check.verdict, check.reason = "not-evaluated", f"status {check.status or 'unknown'}"
    elif created is not None and created > window_start:
        check.verdict, check.reason = "not-evaluated", "created inside the observation window"
    elif not check.variants:
        check.verdict, check.reason = "not-evaluated", "no production variants"
    return check


def invocations_query(query_id: str, dimensions: dict[str, str]) -> dict[str, Any]:
    """One GetMetricData query: hourly Sum of AWS/SageMaker Invocations for ``dimensions``."""
    return {
        "Id": query_id,
        "MetricStat": {
            "Metric": {
                "Namespace": SAGEMAKER_NAMESPACE,
                "MetricName": INVOCATIONS_METRIC,
                "Dimensions": [{"Name": name, "Value": value} for name, value in dimensions.items()],
            },
            "Period": PERIOD_SECONDS,
            "Stat": "Sum",
        },
        "ReturnData": True,
    }


def invocation_queries(checks: list[EndpointCheck]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """GetMetricData queries (one per variant) and which endpoint each query id belongs to."""
    queries, owner = [], {}
    for check in checks:
        for variant in check.variants:
            query_id = f"q{len(queries)}"
            owner[query_id] = check.name
            queries.append(invocations_query(query_id, {"EndpointName": check.name, "VariantName": variant}))
    return queries, owner


@tracer.capture_method(capture_response=False)
def invocation_sums(
    cloudwatch: Any, queries: list[dict[str, Any]], owner: dict[str, str], start: datetime, end: datetime
) -> dict[str, float]:
    """Sum of Invocations per endpoint over [start, end] (0 when there are no datapoints)."""
    totals = {name: 0.0 for name in owner.values()}
    for offset in range(0, len(queries), MAX_QUERIES_PER_CALL):
        request: dict[str, Any] = {
            "MetricDataQueries": queries[offset : offset + MAX_QUERIES_PER_CALL],
            "StartTime": start,
            "EndTime": end,
        }
        while True:
            response = cloudwatch.get_metric_data(**request)
            for result in _dicts(response.get("MetricDataResults")):
                name = owner.get(_s(result.get("Id")))
                if name is not None:
                    totals[name] += sum(v for v in result.get("Values", []) if isinstance(v, (int, float)))
            token = response.get("NextToken")
            if not token:
                break
            request["NextToken"] = token
    return totals


@tracer.capture_method(capture_response=False)
def scale_to_zero(
    check: EndpointCheck, *, sagemaker: Any, autoscaling: Any, cloudwatch: Any, start: datetime, end: datetime
) -> list[str]:
    """The documented zero-capacity action for ``check``'s kind; returns what was done per resource.

    Inference components are also checked on their own ``Invocations`` (dimension
    ``InferenceComponentName``) over the same window: one that served requests is never set to zero.
    """
    if check.kind == "serverless":
        return ["serverless: scales to zero by itself, nothing to do"]
    if check.kind == "async":
        done = []
        for variant in check.variants:
            resource_id = f"endpoint/{check.name}/variant/{variant}"
            targets = autoscaling.describe_scalable_targets(
                ServiceNamespace=AUTOSCALING_NAMESPACE,
                ResourceIds=[resource_id],
                ScalableDimension=VARIANT_CAPACITY_DIMENSION,
            ).get("ScalableTargets", [])
            if not targets:
                done.append(
                    f"{variant}: no-scalable-target (register autoscaling with MinCapacity 0 to allow it)"
                )
                continue
            target = targets[0]
            if target.get("MinCapacity") == 0:
                done.append(f"{variant}: already-min-zero (its scaling policy scales in to 0)")
                continue
            autoscaling.register_scalable_target(
                ServiceNamespace=AUTOSCALING_NAMESPACE,
                ResourceId=resource_id,
                ScalableDimension=VARIANT_CAPACITY_DIMENSION,
                MinCapacity=0,
                MaxCapacity=target["MaxCapacity"],
            )
            metrics.add_metric(name=METRIC_SCALED, unit=MetricUnit.Count, value=1)
            done.append(f"{variant}: min-capacity-set-to-0 (was {target.get('MinCapacity')})")
        return done
    components: list[dict[str, Any]] = []
    request: dict[str, Any] = {"EndpointNameEquals": check.name}
    while True:
        response = sagemaker.list_inference_components(**request)
        components += _dicts(response.get("InferenceComponents"))
        if not response.get("NextToken"):
            break
        request["NextToken"] = response["NextToken"]
    if not components:
        return ["real-time instance-based: cannot scale below one instance, reported only"]
    names = [_s(c.get("InferenceComponentName")) for c in components]
    queries = [invocations_query(f"c{i}", {"InferenceComponentName": n}) for i, n in enumerate(names) if n]
    used = (
        invocation_sums(cloudwatch, queries, {q["Id"]: q["Id"] for q in queries}, start, end)
        if queries
        else {}
    )
    done = []
    for index, component in enumerate(components):
        name = names[index]
        status = _s(component.get("InferenceComponentStatus"))
        if not name:
            continue
        if status and status != "InService":
            done.append(f"{name}: skipped (status {status})")
            continue
        if used.get(f"c{index}", 0.0) > 0:
            done.append(f"{name}: skipped ({used[f'c{index}']:.0f} invocations on the component)")
            continue
        sagemaker.update_inference_component_runtime_config(
            InferenceComponentName=name, DesiredRuntimeConfig={"CopyCount": 0}
        )
        metrics.add_metric(name=METRIC_SCALED, unit=MetricUnit.Count, value=1)
        done.append(f"{name}: copy-count-set-to-0")
    return done


def report_notification(
    checks: list[EndpointCheck], *, hours: int, start: datetime, end: datetime, region: str, platform: str
) -> Notification:
    idle = [c for c in checks if c.verdict == "idle"]
    missing = [c for c in checks if c.verdict == "missing"]
    parts = []
    if idle:
        parts.append(f"{len(idle)} idle endpoint(s): " + ", ".join(c.name for c in idle))
    if missing:
        parts.append(f"{len(missing)} missing")
    lines = [
        (
            f"SageMaker endpoints without invocations in the last {hours} h "
            f"({format_time(start.timestamp())} to {format_time(end.timestamp())})."
        ),
        "",
    ]
    for check in idle:
        lines.append(f"IDLE     {check.name} ({check.kind}, variants: {', '.join(check.variants)})")
        lines += [f"         action: {action}" for action in check.actions] or [
            "         action: report only"
        ]
    for check in missing:
        lines.append(f"MISSING  {check.name}: {check.reason}")
    others = [c for c in checks if c.verdict not in ("idle", "missing")]
    if others:
        lines += ["", "Also checked:"]
        for check in others:
            detail = f"{check.invocations:.0f} invocations" if check.verdict == "active" else check.reason
            lines.append(f"  {check.name}: {check.verdict} ({detail})")
    lines += ["", f"Region:           {region or '(unknown)'}"]
    subject = sns_subject(f"[{platform}] " + "; ".join(parts))
    return Notification(subject=subject, message=bounded_message("\n".join(lines)))


@tracer.capture_method(capture_response=False)
def guard(
    *,
    now: datetime,
    sagemaker: Any,
    cloudwatch: Any,
    autoscaling: Any,
    sns: Any,
    endpoints: tuple[str, ...] = ENDPOINTS,
    scale_to_zero_endpoints: tuple[str, ...] = SCALE_TO_ZERO_ENDPOINTS,
    idle_hours: int = IDLE_HOURS,
    topic_arn: str = TOPIC_ARN,
    platform: str = PLATFORM_NAME,
    region: str = "",
) -> dict[str, Any]:
    """One run: check every endpoint, act on opted-in idle ones, report. Raises on AWS failures."""
    end = now.astimezone(UTC)
    start = end - timedelta(hours=idle_hours)
    checks = [describe(sagemaker, name, start) for name in endpoints]
    metrics.add_metric(name=METRIC_CHECKED, unit=MetricUnit.Count, value=len(checks))
    evaluated = [c for c in checks if not c.verdict]
    queries, owner = invocation_queries(evaluated)
    totals = invocation_sums(cloudwatch, queries, owner, start, end) if queries else {}
    for check in evaluated:
        check.invocations = totals.get(check.name, 0.0)
        check.verdict = "idle" if check.invocations == 0 else "active"

    errors: list[str] = []
    for check in checks:
        if check.verdict != "idle":
            continue
        metrics.add_metric(name=METRIC_IDLE, unit=MetricUnit.Count, value=1)
        if check.name not in scale_to_zero_endpoints:
            continue
        try:
            check.actions = scale_to_zero(
                check,
                sagemaker=sagemaker,
                autoscaling=autoscaling,
                cloudwatch=cloudwatch,
                start=start,
                end=end,
            )
        except (ClientError, BotoCoreError) as error:
            logger.exception("Scale-to-zero failed", extra={"endpoint": check.name})
            check.actions = [f"FAILED: {clip(str(error), 500)}"]
            errors.append(check.name)

    result: dict[str, Any] = {
        "action": "none-idle",
        "window_hours": idle_hours,
        "checked": [c.as_dict() for c in checks],
        "idle": [c.name for c in checks if c.verdict == "idle"],
    }
    if result["idle"] or any(c.verdict == "missing" for c in checks):
        notification = report_notification(
            checks, hours=idle_hours, start=start, end=end, region=region, platform=platform
        )
        result.update(
            action="reported", subject=notification.subject, message_id=publish(sns, topic_arn, notification)
        )
        metrics.add_metric(name=METRIC_NOTIFIED, unit=MetricUnit.Count, value=1)
    logger.info("Idle endpoint check done", extra={"idle": result["idle"], "checked": len(checks)})
    if errors:
        raise RuntimeError(f"scale-to-zero failed for {', '.join(errors)}")
    return result


# --- entry point -----------------------------------------------------------------------------------
@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    envelope = Envelope.parse(event)
    logger.append_keys(event_id=envelope.id or None, detail_type=envelope.detail_type or None)
    if CONFIG_PROBLEMS:
        logger.error("Configuration problems", extra={"problems": CONFIG_PROBLEMS})
    if envelope.detail_type not in ("", SCHEDULED_EVENT):
        metrics.add_metric(name=METRIC_IGNORED, unit=MetricUnit.Count, value=1)
        return ignored(f"unhandled detail-type {clip(envelope.detail_type, 128)!r}")
    if not ENDPOINTS:
        metrics.add_metric(name=METRIC_IGNORED, unit=MetricUnit.Count, value=1)
        return ignored("ENDPOINTS is empty: nothing to check")
    try:
        return guard(
            now=datetime.now(UTC),
            sagemaker=sagemaker_client,
            cloudwatch=cloudwatch_client,
            autoscaling=autoscaling_client,
            sns=sns_client,
            region=envelope.region or REGION,
        )
    except Exception:
        metrics.add_metric(name=METRIC_FAILED, unit=MetricUnit.Count, value=1)
        raise
