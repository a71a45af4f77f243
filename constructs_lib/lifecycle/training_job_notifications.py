"""``TrainingJobNotifications``: failed and stopped training jobs are notified; completed ones can be
registered in a model package group for approval."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from .. import limits
from .. import sagemaker_events as ev
from ..errors import Problems
from ._wiring import (
    METRICS_NAMESPACE,
    acknowledge_wildcards,
    add_function_target,
    allow_notifications,
    dead_letter_queue,
    deduplicated,
    sagemaker_arn,
)
from .events import TrainingJobFilter, on_training_job_state_change
from .reliable_function import ReliableFunction

NOTIFIED_STATUSES = (ev.TrainingJobStatus.FAILED, ev.TrainingJobStatus.STOPPED)
MAX_IMAGE_CHARS = 255  # ContainerDefinition.Image of CreateModelPackage


@dataclass(frozen=True)
class ModelRegistration:
    """Register the model of every completed training job in ``model_package_group`` (a version with
    ``ModelApprovalStatus=PendingManualApproval``).

    :param model_package_group: name of an existing model package group.
    :param inference_image: image of the registered version when the event names no training image;
        default none (such jobs are notified as "completed, not registered").
    """

    model_package_group: str
    inference_image: str | None = None


class TrainingJobNotifications(Construct):
    """An EventBridge rule on ``SageMaker Training Job State Change`` and the ``training_job_notifier``
    function: one SNS notification per failed or stopped training job, and with ``registration`` the
    model of every completed job registered for approval (``CreateModelPackage`` in that one group).

    The rule matches ``TrainingJobStatus`` ``Failed`` and ``Stopped``, plus ``Completed`` when
    ``registration`` is given (without it a completed job needs no action), in any letter case, of the
    ``jobs`` selected and never of a training pipeline (jobs tagged ``aiplatform:pipeline``: the
    pipeline registers and notifies them). Exposes ``rule``, ``handler`` (:class:`ReliableFunction`)
    and ``dead_letter_queue``.

    :param topic: receives the notifications; ``key`` encrypts it, the function's queues and logs.
    :param registration: default none: completed jobs are not registered.
    :param jobs: default ``TrainingJobFilter.platform(platform_name)``: jobs tagged
        ``aiplatform:platform`` = ``platform_name``, as the platform's training constructs tag them.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        topic: sns.ITopic,
        key: kms.IKey,
        registration: ModelRegistration | None = None,
        jobs: TrainingJobFilter | None = None,
        platform_name: str = "aiplatform",
        metrics_namespace: str = METRICS_NAMESPACE,
    ) -> None:
        super().__init__(scope, id)
        p = Problems(f"TrainingJobNotifications {self.node.path}")
        jobs = jobs or TrainingJobFilter.platform(platform_name)
        for where, value, allowed in jobs.problems("jobs"):
            p.add(where, value, allowed)
        if registration is not None:
            p.check(
                bool(limits.NAME_PATTERN.match(registration.model_package_group)),
                "registration.model_package_group", registration.model_package_group, limits.NAME_RULE,
            )
            image = registration.inference_image
            if image is not None:
                p.check(
                    0 < len(image) <= MAX_IMAGE_CHARS and not any(c.isspace() for c in image),
                    "registration.inference_image", image, f"an image URI of 1-{MAX_IMAGE_CHARS} characters",
                )
        p.raise_if_any()

        environment = {"TOPIC_ARN": topic.topic_arn, "PLATFORM_NAME": platform_name}
        if registration is not None:
            environment["MODEL_PACKAGE_GROUP"] = registration.model_package_group
            if registration.inference_image:
                environment["INFERENCE_IMAGE"] = registration.inference_image
        self.handler = ReliableFunction(
            self, "Handler",
            code_name="training_job_notifier",
            description="Notifies failed/stopped SageMaker training jobs and registers completed models",
            key=key,
            environment=environment,
            metrics_namespace=metrics_namespace,
        )
        allow_notifications(self.handler, topic, key)
        self.deduplication_table = deduplicated(self.handler, key)
        statuses = list(NOTIFIED_STATUSES)
        if registration is not None:
            statuses.append(ev.TrainingJobStatus.COMPLETED)
            group = registration.model_package_group
            versions = sagemaker_arn(self, "model-package", f"{group}/*")  # model-package/<group>/<version>
            self.handler.add_to_role_policy(
                iam.PolicyStatement(
                    sid="RegisterModelVersions",
                    actions=["sagemaker:CreateModelPackage"],
                    resources=[sagemaker_arn(self, "model-package-group", group), versions],
                )
            )
            acknowledge_wildcards(
                self.handler,
                f"CreateModelPackage creates the next version of group {group}; its number is assigned by "
                "SageMaker, so the versions of that one group are named by a wildcard.",
                versions,
            )
        self.dead_letter_queue = dead_letter_queue(self, key)
        self.rule = on_training_job_state_change(
            self, "Rule", statuses=statuses, jobs=jobs,
            description=f"SageMaker training jobs {jobs.describe()} that failed, stopped"
            + (" or completed (registered for approval)" if registration is not None else ""),
        )
        add_function_target(self.rule, self.handler, self.dead_letter_queue)
