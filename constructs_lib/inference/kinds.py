"""What each endpoint kind can do: one table, read by the rules that differ by kind.

Each row says, per :class:`EndpointKind`, which autoscaling targets exist (the metric the target tracks
must be one the kind publishes: ``InvocationsPerInstance`` and ``ConcurrentRequestsPerModel`` for
instance-based real-time and multi-model variants, ``ApproximateBacklogSizePerInstance`` for async,
``ServerlessProvisionedConcurrencyUtilization`` for serverless; inference-components endpoints use
managed instance scaling and scale copies per component), whether shadow variants exist (real-time
only: SageMaker shadow tests), whether a promoted model can replace the variant's model, and whether
the idle guard can take it to zero capacity. An empty ``*_not`` text means "yes"; otherwise it says why
not, in the words the config and the library show.

Sources: SageMaker Developer Guide "Automatic scaling of Amazon SageMaker AI models" (metrics of
predefined target tracking), "Asynchronous inference: autoscale" (ApproximateBacklogSizePerInstance,
minimum 0), "Serverless inference: provisioned concurrency autoscaling", "Shadow tests".
"""

from __future__ import annotations

from dataclasses import dataclass

from .specs import EndpointKind


@dataclass(frozen=True, kw_only=True)
class KindTraits:
    """What an endpoint kind can do (see the module docstring)."""

    scaling_targets: frozenset[str]
    """``AutoScalingSpec`` target fields the kind has (none: it scales otherwise)."""
    shadow_variants: bool
    promotion_not: str
    """Why an approved model cannot be rolled out by copying the endpoint config with a new model ("" = it can)."""
    scale_to_zero_not: str
    """Why the idle guard cannot take the endpoint to zero capacity ("" = it can)."""


_REALTIME_TARGETS = frozenset({"target_invocations_per_instance", "target_concurrent_requests_per_model", "metric_targets"})

KIND_TRAITS: dict[EndpointKind, KindTraits] = {
    EndpointKind.REALTIME: KindTraits(
        scaling_targets=_REALTIME_TARGETS, shadow_variants=True, promotion_not="",
        scale_to_zero_not="instance-based real-time endpoints keep at least one instance",
    ),
    EndpointKind.SERVERLESS: KindTraits(
        scaling_targets=frozenset({"target_provisioned_concurrency_utilization"}), shadow_variants=False,
        promotion_not="", scale_to_zero_not="serverless endpoints scale to zero by themselves",
    ),
    EndpointKind.ASYNC: KindTraits(
        scaling_targets=frozenset({"target_backlog_per_instance", "metric_targets"}), shadow_variants=False,
        promotion_not="asynchronous endpoints write results with their models' role; auto-deploy is not supported yet",
        scale_to_zero_not="",
    ),
    EndpointKind.INFERENCE_COMPONENTS: KindTraits(
        scaling_targets=frozenset(), shadow_variants=False,
        promotion_not="its models live in inference components, not in the endpoint config",
        scale_to_zero_not="",
    ),
    EndpointKind.MULTI_MODEL: KindTraits(
        scaling_targets=_REALTIME_TARGETS, shadow_variants=False,
        promotion_not="a multi-model endpoint loads its models from its S3 prefix: upload the model there instead",
        scale_to_zero_not="instance-based multi-model endpoints keep at least one instance",
    ),
}
assert set(KIND_TRAITS) == set(EndpointKind), "one row per EndpointKind"


def traits_of(kind: EndpointKind) -> KindTraits:
    return KIND_TRAITS[kind]
