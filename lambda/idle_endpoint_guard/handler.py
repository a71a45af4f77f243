"""Idle endpoint guard: report endpoints without traffic, and scale opted-in ones to zero.

Run on a schedule (EventBridge ``Scheduled Event``; any event without a detail-type, e.g. a manual test
invoke, works too). ``ENDPOINTS`` names every watched endpoint with its kind (the construct passes the
kind it was built with; the guard never guesses it from DescribeEndpoint). For every endpoint it reads
``DescribeEndpoint`` (status, variants, age) and sums, over the last ``IDLE_HOURS`` hours with
``GetMetricData`` (1-hour periods), the ``AWS/SageMaker`` metrics that kind publishes
(``sagemaker_events.IDLE_SIGNALS``):

* real-time, serverless and multi-model endpoints: ``Invocations`` per variant (EndpointName +
  VariantName);
* asynchronous endpoints, which publish no ``Invocations``: ``InvocationsProcessed`` per variant and the
  maximum ``ApproximateBacklogSize`` (EndpointName) -- idle only when both are zero (SageMaker guide
  "Alarms and logs for tracking metrics from asynchronous endpoints");
* inference-component endpoints: ``Invocations`` per component (InferenceComponentName) of the
  components named in ``ENDPOINTS``.

An endpoint is idle when every one of its sums is 0 (no datapoints counts as 0). Endpoints that are not
``InService`` or were created inside the window are not judged. Idle (and missing) endpoints are reported
in ONE SNS notification; when nothing is idle, nothing is published.

For an idle endpoint listed in ``SCALE_TO_ZERO_ENDPOINTS`` the guard acts only where SageMaker supports
zero capacity, using the documented mechanism for each kind:

* asynchronous endpoints: the variant's Application Auto Scaling target
  (``sagemaker:variant:DesiredInstanceCount``) gets ``MinCapacity=0`` with ``RegisterScalableTarget``
  (keeping its ``MaxCapacity``); the endpoint's own scaling policy then scales it in to zero. Without a
  registered scalable target nothing is changed (reported as ``no-scalable-target``);
* inference-component endpoints: ``UpdateInferenceComponentRuntimeConfig`` sets ``CopyCount=0`` for each of
  its InService components that served nothing in the window;
* serverless endpoints already scale to zero by themselves; instance-based real-time endpoints cannot have
  fewer than one instance: both are only reported.

Limits:
* ``IDLE_HOURS`` is clamped to 1..720 (30 days); a variant renamed inside the window is judged on its new
  name only;
* a later CloudFormation/CDK deployment resets a lowered ``MinCapacity`` (drift), an Application Auto
  Scaling target with ``MinCapacity`` > 0 on an inference component may scale it back up, and an
  inference-component endpoint releases its instances only with managed instance scaling down to 0;
* a failing AWS call raises after the report is published (or before, for reads), so the run is retried
  and shows up as an error.

Environment: ``ENDPOINTS`` (JSON list of ``{"EndpointName", "Kind", "InferenceComponents"}``; a plain name
is a real-time endpoint), ``IDLE_HOURS`` (default 24), ``SCALE_TO_ZERO_ENDPOINTS`` (JSON list, default
none), ``TOPIC_ARN``, ``PLATFORM_NAME``, ``POWERTOOLS_METRICS_NAMESPACE``; ``SETTINGS_FILE``: a JSON
object next to this module in the code asset whose keys are variables of this list (the construct puts
``ENDPOINTS`` and ``SCALE_TO_ZERO_ENDPOINTS`` there: hundreds of endpoints exceed Lambda's 4 KB
environment); the file's values win over the environment's.
AWS calls: sagemaker:DescribeEndpoint; cloudwatch:GetMetricData; and only for endpoints in
SCALE_TO_ZERO_ENDPOINTS: application-autoscaling:DescribeScalableTargets and RegisterScalableTarget,
sagemaker:ListInferenceComponents and UpdateInferenceComponentRuntimeConfig; sns:Publish.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import lambda_common as common
import sagemaker_events as ev
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError
from lambda_common import Envelope, Notification, as_objects, as_text, clip, format_time

SERVICE = "idle-endpoint-guard"

METRIC_CHECKED = "EndpointsChecked"
METRIC_IDLE = "IdleEndpoints"
METRIC_SCALED = "ScaleToZeroActions"

SAGEMAKER_NAMESPACE = "AWS/SageMaker"
INVOCATIONS_METRIC = ev.UsageMetric.INVOCATIONS
KINDS = common.known_values(ev.EndpointKind)
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
        if isinstance(item, str) and common.NAME_RE.match(item.strip()):
            if item.strip() not in names:
                names.append(item.strip())
        else:
            problems.append(f"{variable}[{index}]: {item!r} is not a valid endpoint name")
    return tuple(names), problems


@dataclass(frozen=True)
class Watched:
    """One entry of ``ENDPOINTS``: an endpoint, its kind, and its inference components."""

    name: str
    kind: str = ev.EndpointKind.REALTIME
    components: tuple[str, ...] = ()


def parse_watched(raw: str) -> tuple[tuple[Watched, ...], list[str]]:
    """``ENDPOINTS`` JSON -> watched endpoints (a plain name is a real-time endpoint), plus problems."""
    if not raw.strip():
        return (), []
    try:
        data = json.loads(raw)
    except ValueError as error:
        return (), [f"ENDPOINTS is not JSON: {error}"]
    if isinstance(data, str):
        data = [data]
    if not isinstance(data, list):
        return (), [f"ENDPOINTS must be a JSON list, got {type(data).__name__}"]
    watched: list[Watched] = []
    problems: list[str] = []
    for index, item in enumerate(data):
        entry = {"EndpointName": item} if isinstance(item, str) else item
        if not isinstance(entry, dict):
            problems.append(f"ENDPOINTS[{index}]: {item!r} is not a valid endpoint name")
            continue
        name = entry.get("EndpointName")
        kind = entry.get("Kind", ev.EndpointKind.REALTIME)
        components = entry.get("InferenceComponents") or []
        if not isinstance(name, str) or not common.NAME_RE.match(name.strip()):
            problems.append(f"ENDPOINTS[{index}]: {name!r} is not a valid endpoint name")
            continue
        if kind not in KINDS:
            problems.append(f"ENDPOINTS[{index}].Kind: {kind!r} is not one of {', '.join(KINDS)}")
            continue
        if not isinstance(components, list) or not all(
            isinstance(c, str) and common.NAME_RE.match(c) for c in components
        ):
            problems.append(f"ENDPOINTS[{index}].InferenceComponents: expected a list of component names")
            components = []
        if all(w.name != name.strip() for w in watched):
            watched.append(Watched(name.strip(), kind, tuple(components)))
    return tuple(watched), problems


def parse_idle_hours(raw: str) -> tuple[int, list[str]]:
    try:
        hours = int(float(raw)) if raw.strip() else 24
    except ValueError:
        return 24, [f"IDLE_HOURS {raw!r} is not a number; using 24"]
    clamped = min(max(hours, 1), MAX_IDLE_HOURS)
    return clamped, ([f"IDLE_HOURS {hours} clamped to {clamped}"] if clamped != hours else [])


def read_settings(environ: Mapping[str, str], directory: Path) -> tuple[dict[str, str], list[str]]:
    """``environ`` with the variables of its ``SETTINGS_FILE`` (a JSON object in ``directory``; each
    value is kept as JSON text, the form the environment carries), plus problems found."""
    settings = dict(environ)
    name = environ.get("SETTINGS_FILE", "").strip()
    if not name:
        return settings, []
    try:
        data = json.loads((directory / name).read_text())
    except (OSError, ValueError) as error:
        return settings, [f"SETTINGS_FILE {name!r} is not a readable JSON file: {error}"]
    if not isinstance(data, dict):
        return settings, [f"SETTINGS_FILE {name!r} must hold a JSON object, got {type(data).__name__}"]
    settings.update({str(k): v if isinstance(v, str) else json.dumps(v) for k, v in data.items()})
    return settings, []


# --- configuration, read once per execution environment -------------------------------------------
_SETTINGS, _FILE_PROBLEMS = read_settings(os.environ, Path(__file__).resolve().parent)
TOPIC_ARN = _SETTINGS.get("TOPIC_ARN", "")
REGION = _SETTINGS.get("AWS_REGION", "")
PLATFORM_NAME = _SETTINGS.get("PLATFORM_NAME", "").strip() or "aiplatform"
WATCHED, _ENDPOINT_PROBLEMS = parse_watched(_SETTINGS.get("ENDPOINTS", ""))
ENDPOINTS = tuple(w.name for w in WATCHED)
SCALE_TO_ZERO_ENDPOINTS, _SCALE_PROBLEMS = parse_name_list(
    _SETTINGS.get("SCALE_TO_ZERO_ENDPOINTS", ""), "SCALE_TO_ZERO_ENDPOINTS"
)
IDLE_HOURS, _HOURS_PROBLEMS = parse_idle_hours(_SETTINGS.get("IDLE_HOURS", ""))
CONFIG_PROBLEMS = _FILE_PROBLEMS + _ENDPOINT_PROBLEMS + _SCALE_PROBLEMS + _HOURS_PROBLEMS
METRICS_NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "") or "AIPlatform"

LOGGER_SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME") or SERVICE

logger, tracer, metrics = common.powertools(SERVICE, METRICS_NAMESPACE, LOGGER_SERVICE)
publish = partial(common.publish, logger=logger)
ignored = partial(common.ignored, logger=logger)

sns_client, sagemaker_client, cloudwatch_client, autoscaling_client = common.clients(
    "sns", "sagemaker", "cloudwatch", "application-autoscaling"
)

if CONFIG_PROBLEMS:
    logger.error("Configuration problems", extra={"problems": CONFIG_PROBLEMS})


# --- typed event -----------------------------------------------------------------------------------
@dataclass
class EndpointCheck:
    name: str
    status: str = ""
    kind: str = ev.EndpointKind.REALTIME  # from ENDPOINTS, a sagemaker_events.EndpointKind value
    components: tuple[str, ...] = ()
    variants: tuple[str, ...] = ()
    invocations: float | None = None
    signals: dict[str, float] = field(default_factory=dict)
    verdict: str = ""  # "idle", "active", "missing", "not-evaluated"
    reason: str = ""
    actions: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"endpoint": self.name, "verdict": self.verdict}
        if self.signals:
            data["signals"] = dict(self.signals)
        for key in ("status", "kind", "reason"):
            if getattr(self, key):
                data[key] = getattr(self, key)
        if self.invocations is not None:
            data["invocations"] = self.invocations
        if self.actions:
            data["actions"] = list(self.actions)
        return data


# --- this handler's logic --------------------------------------------------------------------------
_ENDPOINT_STATUSES = common.known_values(ev.EndpointStatus)


def _as_utc(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    seconds = common.epoch_seconds(value)
    return datetime.fromtimestamp(seconds, tz=UTC) if seconds is not None else None


def describe(sagemaker: Any, watched: Watched | str, window_start: datetime) -> EndpointCheck:
    """DescribeEndpoint -> what to query. A missing endpoint is reported; other errors raise."""
    if isinstance(watched, str):
        watched = Watched(watched)
    check = EndpointCheck(name=watched.name, kind=watched.kind, components=watched.components)
    name = watched.name
    try:
        endpoint = sagemaker.describe_endpoint(EndpointName=name)
    except ClientError as error:
        if not common.is_not_found(error):
            raise
        check.verdict, check.reason = "missing", "endpoint not found"
        return check
    variants = as_objects(endpoint.get("ProductionVariants"))
    check.status = common.canonical_status(endpoint.get("EndpointStatus"), _ENDPOINT_STATUSES)
    check.variants = tuple(as_text(v.get("VariantName")) for v in variants if as_text(v.get("VariantName")))
    created = _as_utc(endpoint.get("CreationTime"))
    if check.status != ev.EndpointStatus.IN_SERVICE:
        check.verdict, check.reason = "not-evaluated", f"status {check.status or 'unknown'}"
    elif created is not None and created > window_start:
        check.verdict, check.reason = "not-evaluated", "created inside the observation window"
    elif check.kind == ev.EndpointKind.INFERENCE_COMPONENTS and not check.components:
        check.verdict, check.reason = "not-evaluated", "no inference components named in ENDPOINTS"
    elif not check.variants and check.kind != ev.EndpointKind.INFERENCE_COMPONENTS:
        check.verdict, check.reason = "not-evaluated", "no production variants"
    return check


def invocations_query(
    query_id: str, dimensions: dict[str, str], metric: str = INVOCATIONS_METRIC, stat: str = "Sum"
) -> dict[str, Any]:
    """One GetMetricData query: hourly ``stat`` of the AWS/SageMaker ``metric`` for ``dimensions``."""
    return {
        "Id": query_id,
        "MetricStat": {
            "Metric": {
                "Namespace": SAGEMAKER_NAMESPACE,
                "MetricName": metric,
                "Dimensions": [{"Name": name, "Value": value} for name, value in dimensions.items()],
            },
            "Period": PERIOD_SECONDS,
            "Stat": stat,
        },
        "ReturnData": True,
    }


def _dimension_sets(check: EndpointCheck, scope: str) -> list[dict[str, str]]:
    if scope == "variant":
        return [{"EndpointName": check.name, "VariantName": v} for v in check.variants]
    if scope == "endpoint":
        return [{"EndpointName": check.name}]
    return [{"InferenceComponentName": c} for c in check.components]


def invocation_queries(checks: list[EndpointCheck]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """GetMetricData queries for each check's kind (``sagemaker_events.IDLE_SIGNALS``) and which
    endpoint each query id belongs to."""
    queries, owner = [], {}
    for check in checks:
        for metric, stat, scope in ev.IDLE_SIGNALS.get(check.kind, ev.IDLE_SIGNALS[ev.EndpointKind.REALTIME]):
            for dimensions in _dimension_sets(check, scope):
                query_id = f"q{len(queries)}"
                owner[query_id] = check.name
                queries.append(invocations_query(query_id, dimensions, metric, stat))
    return queries, owner


@tracer.capture_method(capture_response=False)
def invocation_sums(
    cloudwatch: Any, queries: list[dict[str, Any]], owner: dict[str, str], start: datetime, end: datetime
) -> dict[str, float]:
    """Sum of the queried values per owner over [start, end] (0 when there are no datapoints)."""
    totals = {name: 0.0 for name in owner.values()}
    for query_id, value in query_sums(cloudwatch, queries, start, end).items():
        if query_id in owner:
            totals[owner[query_id]] += value
    return totals


def query_sums(cloudwatch: Any, queries: list[dict[str, Any]], start: datetime, end: datetime) -> dict[str, float]:
    """Sum of each query's datapoints over [start, end], by query id (paginated, chunked)."""
    sums = {q["Id"]: 0.0 for q in queries}
    for offset in range(0, len(queries), MAX_QUERIES_PER_CALL):
        request: dict[str, Any] = {
            "MetricDataQueries": queries[offset : offset + MAX_QUERIES_PER_CALL],
            "StartTime": start,
            "EndTime": end,
        }
        while True:
            response = cloudwatch.get_metric_data(**request)
            for result in as_objects(response.get("MetricDataResults")):
                query_id = as_text(result.get("Id"))
                if query_id in sums:
                    values = result.get("Values", [])
                    sums[query_id] += sum(v for v in values if isinstance(v, (int, float))) if isinstance(values, list) else 0.0
            token = response.get("NextToken")
            if not token:
                break
            request["NextToken"] = token
    return sums


@tracer.capture_method(capture_response=False)
def scale_to_zero(
    check: EndpointCheck, *, sagemaker: Any, autoscaling: Any, cloudwatch: Any, start: datetime, end: datetime
) -> list[str]:
    """The documented zero-capacity action for ``check``'s kind; returns what was done per resource.

    Inference components are also checked on their own ``Invocations`` (dimension
    ``InferenceComponentName``) over the same window: one that served requests is never set to zero.
    """
    if check.kind == ev.EndpointKind.SERVERLESS:
        return ["serverless: scales to zero by itself, nothing to do"]
    if check.kind in (ev.EndpointKind.REALTIME, ev.EndpointKind.MULTI_MODEL):
        return ["real-time instance-based: cannot scale below one instance, reported only"]
    if check.kind == ev.EndpointKind.ASYNC:
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
            common.count(metrics, METRIC_SCALED)
            done.append(f"{variant}: min-capacity-set-to-0 (was {target.get('MinCapacity')})")
        return done
    components: list[dict[str, Any]] = []
    request: dict[str, Any] = {"EndpointNameEquals": check.name}
    while True:
        response = sagemaker.list_inference_components(**request)
        components += as_objects(response.get("InferenceComponents"))
        if not response.get("NextToken"):
            break
        request["NextToken"] = response["NextToken"]
    if not components:
        return ["real-time instance-based: cannot scale below one instance, reported only"]
    names = [as_text(c.get("InferenceComponentName")) for c in components]
    queries = [invocations_query(f"c{i}", {"InferenceComponentName": n}) for i, n in enumerate(names) if n]
    used = (
        invocation_sums(cloudwatch, queries, {q["Id"]: q["Id"] for q in queries}, start, end)
        if queries
        else {}
    )
    done = []
    for index, component in enumerate(components):
        name = names[index]
        status = as_text(component.get("InferenceComponentStatus"))
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
        common.count(metrics, METRIC_SCALED)
        done.append(f"{name}: copy-count-set-to-0")
    return done


def _signal_text(check: EndpointCheck) -> str:
    if set(check.signals) <= {INVOCATIONS_METRIC}:
        return f"{check.invocations or 0:.0f} invocations"
    return ", ".join(f"{value:.0f} {metric}" for metric, value in sorted(check.signals.items()))


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
            detail = _signal_text(check) if check.verdict == "active" else check.reason
            lines.append(f"  {check.name}: {check.verdict} ({detail})")
    lines += ["", f"Region:           {region or '(unknown)'}"]
    return Notification.compose(f"[{platform}] " + "; ".join(parts), lines)


@tracer.capture_method(capture_response=False)
def guard(
    *,
    now: datetime,
    sagemaker: Any,
    cloudwatch: Any,
    autoscaling: Any,
    sns: Any,
    endpoints: tuple[Watched | str, ...] = WATCHED,
    scale_to_zero_endpoints: tuple[str, ...] = SCALE_TO_ZERO_ENDPOINTS,
    idle_hours: int = IDLE_HOURS,
    topic_arn: str = TOPIC_ARN,
    platform: str = PLATFORM_NAME,
    region: str = "",
) -> dict[str, Any]:
    """One run: check every endpoint, act on opted-in idle ones, report. Raises on AWS failures."""
    end = now.astimezone(UTC)
    start = end - timedelta(hours=idle_hours)
    checks = [describe(sagemaker, entry, start) for entry in endpoints]
    common.count(metrics, METRIC_CHECKED, len(checks))
    evaluated = [c for c in checks if not c.verdict]
    queries, owner = invocation_queries(evaluated)
    sums = query_sums(cloudwatch, queries, start, end) if queries else {}
    by_name = {c.name: c for c in evaluated}
    for query in queries:
        check = by_name[owner[query["Id"]]]
        metric = query["MetricStat"]["Metric"]["MetricName"]
        check.signals[metric] = check.signals.get(metric, 0.0) + sums.get(query["Id"], 0.0)
    for check in evaluated:
        check.invocations = sum(check.signals.values())
        check.verdict = "idle" if check.invocations == 0 else "active"

    errors: list[str] = []
    for check in checks:
        if check.verdict != "idle":
            continue
        common.count(metrics, METRIC_IDLE)
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
        common.count(metrics, common.METRIC_NOTIFIED)
    logger.info("Idle endpoint check done", extra={"idle": result["idle"], "checked": len(checks)})
    if errors:
        raise RuntimeError(f"scale-to-zero failed for {', '.join(errors)}")
    return result


# --- entry point -----------------------------------------------------------------------------------
def run(envelope: Envelope, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if CONFIG_PROBLEMS:
        logger.error("Configuration problems", extra={"problems": CONFIG_PROBLEMS})
    if envelope.detail_type not in ("", common.SCHEDULED_EVENT):
        common.count(metrics, common.METRIC_IGNORED)
        return ignored(f"unhandled detail-type {clip(envelope.detail_type, 128)!r}")
    if not ENDPOINTS:
        common.count(metrics, common.METRIC_IGNORED)
        return ignored("ENDPOINTS is empty: nothing to check")
    return guard(
        now=datetime.now(UTC),
        sagemaker=sagemaker_client,
        cloudwatch=cloudwatch_client,
        autoscaling=autoscaling_client,
        sns=sns_client,
        region=envelope.region or REGION,
    )


handler = common.lambda_handler(run, logger=logger, tracer=tracer, metrics=metrics)
