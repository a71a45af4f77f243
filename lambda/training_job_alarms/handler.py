"""Training job alarms: each running job of a training pipeline gets its own CloudWatch alarms.

Triggered by EventBridge for ``SageMaker Training Job State Change`` of the pipelines' jobs (names
``<pipeline>-<uuid>``) and by a schedule (``Scheduled Event``):

* ``InProgress``: ``DescribeTrainingJob`` first (events may arrive late or out of order: a job that is no
  longer InProgress gets no alarm); when the job is InProgress, ``PutMetricAlarm`` for every alarm of
  ``job_alarm_requests.alarm_requests`` (exact dimension values of the job and its hosts ``algo-1..N``,
  N from the event's ``ResourceConfig``, else from DescribeTrainingJob's). PutMetricAlarm overwrites an
  alarm of the same name, so a repeated event changes nothing; alarms of the job that the current
  configuration no longer asks for are deleted.
* ``Completed`` / ``Failed`` / ``Stopping`` / ``Stopped`` (terminal, or about to be): the job's alarms are
  deleted (``DescribeAlarms`` by the job's name prefix, then ``DeleteAlarms`` of what exists).
* After either, and on the schedule for every pipeline: a sweep. Every alarm of the pipeline (by its
  alarm prefix) whose job is not InProgress any more (DescribeTrainingJob; an unknown job counts as
  ended) is deleted: an alarm leaked by a lost event or a race does not page for a job that ended.
* Jobs of no configured pipeline, jobs tagged ``aiplatform:pipeline`` with another pipeline's name,
  other detail-types and malformed events: logged and ignored.

* A CloudFormation custom-resource request (``RequestType`` and ``ResponseURL``; checked before any
  EventBridge path): ``Delete`` (the stack, or the construct, is being deleted) deletes every alarm under
  the alarm prefixes of the request's ``AlarmPrefixes`` that are prefixes of configured pipelines, best
  effort, and answers SUCCESS even when some could not be deleted (logged, and said in ``Reason``): a
  FAILED answer to a Delete leaves the stack DELETE_FAILED ("To successfully delete a stack with a custom
  resource, the custom resource provider must respond successfully to a delete request", User Guide,
  "Delete request for CloudFormation custom resources"), and the alarms it could not delete would stay
  anyway. ``Create`` and ``Update`` do nothing and answer SUCCESS. The physical id stays the one
  CloudFormation sent (``CLEANUP_ID`` on Create), so an Update is never a replacement.

Every step is idempotent (put overwrites, delete only what DescribeAlarms lists), so a redelivered event
needs no deduplication. An AWS call that fails raises after logging: Lambda retries, then the on-failure
destination gets the event.

Environment: ``JOB_ALARMS`` (``job_alarm_requests``: severity topics and every pipeline's alarms),
``POWERTOOLS_METRICS_NAMESPACE``. AWS calls: ``cloudwatch:PutMetricAlarm`` / ``DeleteAlarms`` on the
pipelines' alarm prefixes, ``cloudwatch:DescribeAlarms``, ``sagemaker:DescribeTrainingJob`` of the
pipelines' jobs.
"""

from __future__ import annotations

import os
from functools import partial
from typing import Any

import job_alarm_requests as ja
import lambda_common as common
import sagemaker_events as ev
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError
from lambda_common import Envelope, as_text, clip

SERVICE = "training-job-alarms"

METRICS_NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "") or "AIPlatform"
CONFIG = ja.parse_environment(os.environ.get(ja.ENVIRONMENT_VARIABLE, ""))
# Jobs a sweep describes per pipeline and invocation (the schedule sweeps the rest later).
MAX_SWEPT_JOBS = 25

# PhysicalResourceId of the cleanup custom resource (User Guide, "Custom resource response objects": a
# different id on Update is a replacement, whose old resource CloudFormation then deletes).
CLEANUP_ID = "training-job-alarms-cleanup"

METRIC_CREATED = "JobAlarmsPut"
METRIC_DELETED = "JobAlarmsDeleted"

LOGGER_SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME") or SERVICE
logger, tracer, metrics = common.powertools(SERVICE, METRICS_NAMESPACE, LOGGER_SERVICE)
ignored = partial(common.ignored, logger=logger)

cloudwatch_client, sagemaker_client = common.clients("cloudwatch", "sagemaker")

_TRAINING_STATUSES = common.known_values(ev.TrainingJobStatus)
# Statuses after which a job's alarms go: it ended, or it is being stopped (nothing left to watch).
ENDING = ev.TRAINING_JOB_ENDING
UNKNOWN = "(unknown job)"


# --- AWS -------------------------------------------------------------------------------------------
def describe_job(sagemaker: Any, job: str) -> tuple[str, dict[str, Any]]:
    """(TrainingJobStatus, DescribeTrainingJob response); ``UNKNOWN`` when SageMaker has no such job."""
    try:
        response = sagemaker.describe_training_job(TrainingJobName=job)
    except ClientError as e:
        if common.is_not_found(e):
            return UNKNOWN, {}
        logger.exception("DescribeTrainingJob failed", extra={"training_job": job})
        raise
    except BotoCoreError:
        logger.exception("DescribeTrainingJob failed", extra={"training_job": job})
        raise
    return common.canonical_status(response.get("TrainingJobStatus"), _TRAINING_STATUSES), response


def instance_count(*resource_configs: object) -> int:
    """Hosts of the job: ``ResourceConfig.InstanceCount``, or the sum over ``InstanceGroups``
    (heterogeneous clusters), from the first resource config that says."""
    for raw in resource_configs:
        config = common.as_object(raw)
        count = config.get("InstanceCount")
        if isinstance(count, int) and not isinstance(count, bool) and count > 0:
            return count
        groups = [g.get("InstanceCount") for g in common.as_objects(config.get("InstanceGroups"))]
        total = sum(c for c in groups if isinstance(c, int) and not isinstance(c, bool) and c > 0)
        if total > 0:
            return total
    return 0


def alarms_named(cloudwatch: Any, prefix: str) -> list[str]:
    """Names of the metric alarms whose names start with ``prefix``."""
    names: list[str] = []
    try:
        for page in cloudwatch.get_paginator("describe_alarms").paginate(
            AlarmNamePrefix=prefix, AlarmTypes=["MetricAlarm"], PaginationConfig={"PageSize": 100}
        ):
            names += [as_text(a.get("AlarmName")) for a in page.get("MetricAlarms", [])]
    except (ClientError, BotoCoreError):
        logger.exception("DescribeAlarms failed", extra={"prefix": prefix})
        raise
    return [n for n in names if n.startswith(prefix)]


def delete_alarms(cloudwatch: Any, names: list[str]) -> int:
    for i in range(0, len(names), ja.DELETE_BATCH):
        batch = names[i: i + ja.DELETE_BATCH]
        try:
            cloudwatch.delete_alarms(AlarmNames=batch)
        except (ClientError, BotoCoreError):
            logger.exception("DeleteAlarms failed", extra={"alarms": batch})
            raise
    if names:
        common.count(metrics, METRIC_DELETED, len(names))
    return len(names)


def put_alarms(cloudwatch: Any, requests: list[dict[str, Any]]) -> None:
    for request in requests:
        try:
            cloudwatch.put_metric_alarm(**request)
        except (ClientError, BotoCoreError):
            logger.exception("PutMetricAlarm failed", extra={"alarm": request["AlarmName"]})
            raise
    if requests:
        common.count(metrics, METRIC_CREATED, len(requests))


# --- this handler's logic --------------------------------------------------------------------------
def alarms_by_job(cloudwatch: Any, spec: ja.PipelineJobAlarms) -> dict[str, list[str]]:
    """The pipeline's job alarms, by job: one listing of the pipeline's prefix."""
    by_job: dict[str, list[str]] = {}
    for name in alarms_named(cloudwatch, spec.alarm_prefix):
        job = spec.job_of(name)
        if job is not None and name.startswith(spec.job_prefix(job)):
            by_job.setdefault(job, []).append(name)
    return by_job


def sweep(
    cloudwatch: Any, sagemaker: Any, spec: ja.PipelineJobAlarms, *, skip: str = "",
    by_job: dict[str, list[str]] | None = None,
) -> list[str]:
    """Delete the alarms of ``spec``'s jobs that are no longer InProgress; returns the jobs swept.
    ``by_job``: the pipeline's alarms already listed (:func:`alarms_by_job`)."""
    by_job = alarms_by_job(cloudwatch, spec) if by_job is None else by_job
    swept = []
    for job in sorted(j for j in by_job if j != skip)[:MAX_SWEPT_JOBS]:
        status, _ = describe_job(sagemaker, job)
        if status != ev.TrainingJobStatus.IN_PROGRESS:
            delete_alarms(cloudwatch, by_job[job])
            logger.info("Leaked job alarms deleted", extra={"training_job": job, "status": status})
            swept.append(job)
    return swept


def watch_job(
    cloudwatch: Any, spec: ja.PipelineJobAlarms, job: str, hosts: int, topics: dict[str, str], existing: list[str]
) -> list[str]:
    """Put every alarm of ``job`` and delete the job's alarms (``existing``, listed before) the
    configuration no longer asks for."""
    requests = ja.alarm_requests(spec, job, hosts, topics)
    put_alarms(cloudwatch, requests)
    wanted = {r["AlarmName"] for r in requests}
    delete_alarms(cloudwatch, [n for n in existing if n not in wanted])
    return sorted(wanted)


@tracer.capture_method(capture_response=False)
def process(
    envelope: Envelope, *, cloudwatch: Any, sagemaker: Any, config: ja.JobAlarmsConfig = CONFIG
) -> dict[str, Any]:
    """Decide and act on one parsed event. Returns what was done."""
    if envelope.is_object and envelope.detail_type == common.SCHEDULED_EVENT:
        swept = {p.pipeline: sweep(cloudwatch, sagemaker, p) for p in config.pipelines}
        return {"action": "swept", "swept": swept}
    unhandled = envelope.unhandled((ev.DetailType.TRAINING_JOB_STATE_CHANGE,))
    if unhandled:
        return ignored(unhandled)
    detail = envelope.detail or {}
    job = as_text(detail.get("TrainingJobName"))
    if not common.NAME_RE.match(job):
        return ignored("event names no valid training job")
    spec = config.pipeline_of(job)
    if spec is None:
        return ignored(f"job {clip(job, 64)} is no job of a configured pipeline")
    tagged = as_text(common.as_object(detail.get("Tags")).get(ev.PlatformTag.PIPELINE))
    if tagged and tagged != spec.pipeline:
        return ignored(f"job {job} is tagged as a job of pipeline {clip(tagged, 64)!r}, not {spec.pipeline!r}")

    status = common.canonical_status(detail.get("TrainingJobStatus"), _TRAINING_STATUSES)
    result: dict[str, Any] = {"training_job": job, "pipeline": spec.pipeline, "event_status": status}
    if status != ev.TrainingJobStatus.IN_PROGRESS and status not in ENDING:
        return ignored(f"status {clip(status, 64) or '(none)'} of job {job} needs no action")
    # One listing of the pipeline's alarms serves this job's update and the sweep of the others.
    by_job = alarms_by_job(cloudwatch, spec)
    existing = by_job.get(job, [])
    if status == ev.TrainingJobStatus.IN_PROGRESS:
        current, described = describe_job(sagemaker, job)
        result["status"] = current
        if current == ev.TrainingJobStatus.IN_PROGRESS:
            hosts = instance_count(detail.get("ResourceConfig"), described.get("ResourceConfig"))
            if hosts > ja.MAX_HOSTS:
                logger.warning("Host alarms cover the first hosts only",
                               extra={"training_job": job, "hosts": hosts, "alarmed": ja.MAX_HOSTS})
            result.update(action="alarms-put", hosts=hosts,
                          alarms=watch_job(cloudwatch, spec, job, hosts, config.topics, existing))
        else:  # late or out-of-order InProgress event: the job has moved on
            result.update(action="alarms-deleted", deleted=delete_alarms(cloudwatch, existing))
    else:
        result.update(action="alarms-deleted", status=status, deleted=delete_alarms(cloudwatch, existing))
    result["swept"] = sweep(cloudwatch, sagemaker, spec, skip=job, by_job=by_job)
    return result


def cleanup(event: dict[str, Any], *, cloudwatch: Any, config: ja.JobAlarmsConfig = CONFIG) -> tuple[dict[str, Any], str]:
    """The cleanup custom resource's work for one request: ``(result, reason)``; ``reason`` is empty when
    everything was done. Delete: every alarm under the requested prefixes of configured pipelines goes
    (DescribeAlarms by prefix, paginated; DeleteAlarms in batches of at most 100 names)."""
    physical_id = as_text(event.get("PhysicalResourceId")) or CLEANUP_ID
    if event.get("RequestType") != "Delete":
        return {"PhysicalResourceId": physical_id, "Data": {"Deleted": "0"}}, ""
    requested = common.as_object(event.get("ResourceProperties")).get("AlarmPrefixes")
    requested = set(requested) if isinstance(requested, list) else set()
    deleted, problems = 0, []
    for spec in config.pipelines:
        if spec.alarm_prefix not in requested:
            continue
        try:
            deleted += delete_alarms(cloudwatch, alarms_named(cloudwatch, spec.alarm_prefix))
        except (ClientError, BotoCoreError) as error:  # logged by the helper; the other pipelines still go
            problems.append(f"{spec.pipeline}: {type(error).__name__}: {error}")
    ignored_prefixes = sorted(str(p) for p in requested - {p.alarm_prefix for p in config.pipelines})
    if ignored_prefixes:
        logger.warning("Cleanup prefixes of no configured pipeline ignored", extra={"prefixes": ignored_prefixes})
    reason = ""
    if problems:
        reason = "Alarms left behind (deleting them failed; the stack is deleted anyway): " + "; ".join(problems)
        logger.error("Job alarms cleanup incomplete", extra={"problems": problems})
    logger.info("Job alarms cleaned up", extra={"deleted": deleted})
    return {"PhysicalResourceId": physical_id, "Data": {"Deleted": str(deleted)}}, reason


def answer_custom_resource(event: dict[str, Any]) -> dict[str, Any]:
    """Do a custom-resource request and answer it on its ResponseURL: SUCCESS, always (a Delete is best effort)."""
    logger.append_keys(request_type=event.get("RequestType"), logical_id=event.get("LogicalResourceId"))
    try:
        result, reason = cleanup(event, cloudwatch=cloudwatch_client)
    except Exception as error:  # anything unforeseen: still answer, or CloudFormation waits for ServiceTimeout
        logger.exception("Job alarms cleanup failed")
        result = {"PhysicalResourceId": as_text(event.get("PhysicalResourceId")) or CLEANUP_ID, "Data": {"Deleted": "0"}}
        reason = f"Alarms may be left behind: {type(error).__name__}: {error}"
    common.respond(event, "SUCCESS", result, reason or "Done", service=SERVICE)
    return {"action": "custom-resource", "Status": "SUCCESS", **result}


# --- entry point -----------------------------------------------------------------------------------
def run(envelope: Envelope, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if common.is_custom_resource_request(event):
        return answer_custom_resource(event)
    result = process(envelope, cloudwatch=cloudwatch_client, sagemaker=sagemaker_client)
    if result.get("action") == "ignored":
        common.count(metrics, common.METRIC_IGNORED)
    return result


handler = common.lambda_handler(run, logger=logger, tracer=tracer, metrics=metrics)
