"""``KIND_TRAITS`` (constructs_lib/inference/kinds.py): every kind has every trait, the rows say what AWS
documents, and the consumers (idle guard, endpoint rules; the monitoring in tests/test_observability.py,
``test_monitoring_follows_the_kind_traits_row``) follow the table rather than the kind's name: a row
changed here (``pytest.MonkeyPatch``) changes what they build, with nothing else touched. No synth:
rules raise at construction, policies are resolved."""

from __future__ import annotations

import dataclasses
import json
import types
import typing

import pytest

from constructs_lib.errors import PlatformValidationError
from constructs_lib.inference import (
    KIND_TRAITS,
    AutoScalingSpec,
    ComponentInstanceMetric,
    ComponentMetric,
    DataCaptureSpec,
    EndpointKind,
    EndpointMetric,
    InstanceMetric,
    KindTraits,
    ModelSpec,
    VariantSpec,
)
from constructs_lib.inference.kinds import InvocationScope, kinds_publishing
from tests.conftest import new_app

IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/ranker:1"
MODEL = ModelSpec(image=IMAGE, model_data_url="s3://models-bucket/ranker/model.tar.gz")


def _names(cls) -> set[str]:
    return {v for k, v in vars(cls).items() if not k.startswith("_") and isinstance(v, str)}


def _of_type(value: object, hint: object) -> bool:
    """``value`` matches the annotation ``hint`` (``str``, ``int``, ``bool``, ``str | None``, ``frozenset[str]``,
    ``tuple[tuple[str, str, str], ...]``); a bool is no int here."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is types.UnionType:
        return any(_of_type(value, a) for a in args)
    if origin is frozenset:
        return isinstance(value, frozenset) and all(_of_type(v, args[0]) for v in value)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return isinstance(value, tuple) and all(_of_type(v, args[0]) for v in value)
        return isinstance(value, tuple) and len(value) == len(args) and all(map(_of_type, value, args))
    if hint is type(None):
        return value is None
    return type(value) is hint


def _scalable_dimensions() -> set[str]:
    """The ``ScalableDimension`` enum of the pinned botocore application-autoscaling model."""
    import botocore.session

    model = botocore.session.get_session().get_service_model("application-autoscaling")
    return set(model.shape_for("ScalableDimension").enum)


# -- every kind has every trait ---------------------------------------------------------------------
@pytest.mark.parametrize("kind", list(EndpointKind), ids=lambda k: k.value)
def test_every_kind_has_every_trait(kind):
    t = KIND_TRAITS[kind]
    hints = typing.get_type_hints(KindTraits)
    for f in dataclasses.fields(KindTraits):  # each field of its annotated type (a set or list is not a frozenset)
        assert _of_type(getattr(t, f.name), hints[f.name]), (f.name, getattr(t, f.name))
    assert t.called.split(" ", 1)[0] in ("a", "an") and t.called.endswith(" endpoint")
    assert t.invocation_scope in (InvocationScope.VARIANT, InvocationScope.COMPONENT)
    vocabulary = _names(ComponentMetric) if t.invocation_scope == InvocationScope.COMPONENT else _names(EndpointMetric)
    assert t.invocation_metrics and t.invocation_metrics <= vocabulary
    # Every kind answers requests: the 5XX and latency signals exist for all of them.
    assert {EndpointMetric.INVOCATION_5XX_ERRORS, EndpointMetric.MODEL_LATENCY} <= t.invocation_metrics
    assert t.endpoint_metrics <= _names(EndpointMetric)
    assert t.instance_metrics <= _names(InstanceMetric)
    assert t.component_instance_metrics <= _names(ComponentInstanceMetric)
    # The idle guard sums only metrics the kind publishes, in the dimension set it publishes them in.
    assert t.usage_metrics
    for metric, statistic, dimensions in t.usage_metrics:
        assert statistic in ("Sum", "Maximum")
        published = {"variant": t.invocation_metrics if t.invocation_scope == InvocationScope.VARIANT else frozenset(),
                     "component": t.invocation_metrics if t.invocation_scope == InvocationScope.COMPONENT else frozenset(),
                     "endpoint": t.endpoint_metrics}[dimensions]
        assert metric in published, (metric, dimensions)
    dimensions = _scalable_dimensions()
    assert t.scalable_dimension is None or t.scalable_dimension in dimensions
    assert t.component_scalable_dimension is None or t.component_scalable_dimension in dimensions
    assert (t.scalable_dimension is None) == bool(t.endpoint_scaling_not)  # scaled otherwise, and says how
    assert t.scaling_targets <= {f.name for f in dataclasses.fields(AutoScalingSpec)}
    assert t.scaling_floor in (0, 1) and t.scaling_floor_rule.startswith(f">= {t.scaling_floor}")
    assert t.invocation_timeout_ms > 0
    assert t.container_logs.startswith("/aws/sagemaker/") and ("{name}" in t.container_logs or "<component>" in t.container_logs)


def test_the_table_says_what_aws_documents():
    """Per kind: namespaces, scaling dimension and floor, and what it does not support (SageMaker guide:
    serverless metrics are an exhaustive list without CPU/GPU/disk; async publishes no Invocations;
    serverless feature exclusions; deployment guardrails' rolling exclusions; Application Auto Scaling
    dimensions, botocore ``ScalableDimension``)."""
    rows = {
        kind.value: (
            sorted(t.namespaces), t.invocation_scope, t.scalable_dimension, t.component_scalable_dimension, t.scaling_floor,
            sorted(t.instance_metrics) == sorted(_names(InstanceMetric)), t.counts_invocations, t.capacity_in_instances,
            sorted(f.name for f in dataclasses.fields(KindTraits) if f.name.endswith("_not") and getattr(t, f.name)),
        )
        for kind, t in KIND_TRAITS.items()
    }
    endpoints, sagemaker, components = "/aws/sagemaker/Endpoints", "AWS/SageMaker", "/aws/sagemaker/InferenceComponents"
    assert rows == {
        "realtime": ([endpoints, sagemaker], "variant", "sagemaker:variant:DesiredInstanceCount", None, 1,
                     True, True, True, ["scale_to_zero_not"]),
        "serverless": ([endpoints, sagemaker], "variant", "sagemaker:variant:DesiredProvisionedConcurrency", None, 1,
                       False, True, False,
                       ["data_capture_not", "multiple_variants_not", "network_isolation_not", "rolling_update_not",
                        "scale_to_zero_not", "vpc_not"]),
        "async": ([endpoints, sagemaker], "variant", "sagemaker:variant:DesiredInstanceCount", None, 0,
                  True, False, False, ["promotion_not"]),
        "inference-components": ([endpoints, components, sagemaker], "component", None,
                                 "sagemaker:inference-component:DesiredCopyCount", 0, True, True, False,
                                 ["deployment_not", "endpoint_scaling_not", "promotion_not"]),
        "multi-model": ([endpoints, sagemaker], "variant", "sagemaker:variant:DesiredInstanceCount", None, 1,
                        True, True, True, ["promotion_not", "scale_to_zero_not"]),
    }
    assert KIND_TRAITS[EndpointKind.SERVERLESS].instance_metrics == {InstanceMetric.MEMORY_UTILIZATION}
    assert kinds_publishing(EndpointMetric.HAS_BACKLOG_WITHOUT_CAPACITY) == {EndpointKind.ASYNC}


def test_each_signal_applies_to_the_kinds_that_publish_its_metric():
    from constructs_lib.observability.endpoint_signals import SIGNALS

    assert {s.key: sorted(k.value for k in s.kinds) for s in SIGNALS} == {
        "error_rate_5xx_percent": sorted(k.value for k in EndpointKind),
        "model_latency_p99_ms": sorted(k.value for k in EndpointKind),
        "gpu_memory_percent": ["async", "inference-components", "multi-model", "realtime"],
        "disk_percent": ["async", "inference-components", "multi-model", "realtime"],
        "at_max_capacity_minutes": ["multi-model", "realtime"],
        "backlog_without_capacity_minutes": ["async"],
        "model_setup_time_ms": ["serverless"],
    }


# -- consumers follow the table ---------------------------------------------------------------------
def _changed(kind: EndpointKind, **changes) -> dict:
    return {kind: dataclasses.replace(KIND_TRAITS[kind], **changes)}


def _inline_function(scope, id, **_):
    """Stands in for ``ReliableFunction`` (a construct with ``function``, ``role``, ``add_to_role_policy``)
    without its bundled asset."""
    from aws_cdk import aws_lambda as lambda_
    from constructs import Construct

    class InlineFunction(Construct):
        def add_to_role_policy(self, statement) -> None:
            self.function.add_to_role_policy(statement)

    holder = InlineFunction(scope, id)
    holder.function = lambda_.Function(
        holder, "Resource", code=lambda_.Code.from_inline("def handler(event, context):\n    return None\n"),
        handler="index.handler", runtime=lambda_.Runtime.PYTHON_3_12,
    )
    holder.role = holder.function.role
    return holder


def test_the_idle_guard_scales_to_zero_the_kinds_the_table_allows(monkeypatch):
    """With the realtime row allowing scale to zero, the guard takes a realtime endpoint and scales it
    by the row's scalable dimension (its variants' instance count): the policy, resolved."""
    from aws_cdk import Stack
    from aws_cdk import aws_kms as kms
    from aws_cdk import aws_sns as sns

    from constructs_lib import IdleEndpointGuard, ScaleToZero

    for kind, row in _changed(EndpointKind.REALTIME, scale_to_zero_not="").items():
        monkeypatch.setitem(KIND_TRAITS, kind, row)
    # The guard's function with inline code: what is tested is which kinds the guard takes and what it
    # grants, not the handler's asset (tests/test_lifecycle.py bundles and synthesizes the real one).
    monkeypatch.setattr("constructs_lib.lifecycle.idle_endpoint_guard.ReliableFunction", _inline_function)
    stack = Stack(new_app(), "Allowed")
    key = kms.Key.from_key_arn(stack, "Key", "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555")
    topic = sns.Topic.from_topic_arn(stack, "Topic", "arn:aws:sns:us-east-1:123456789012:t")
    guard = IdleEndpointGuard(stack, "Idle", endpoint_names=["ep-as-is"], topic=topic, key=key,
                              scale_to_zero=[ScaleToZero("ep-as-is", EndpointKind.REALTIME)])
    document = stack.resolve(guard.handler.role.node.find_child("DefaultPolicy").document.to_json())
    statements = {s.get("Sid"): s for s in document["Statement"]}
    assert statements["LowerMinimumCapacity"]["Condition"] == {"StringEquals": {
        "application-autoscaling:service-namespace": "sagemaker",
        "application-autoscaling:scalable-dimension": "sagemaker:variant:DesiredInstanceCount",
    }}
    assert json.dumps(statements["ScaleOptedInEndpoints"]["Resource"]).count("endpoint/ep-as-is") == 1
    assert "ScaleOptedInComponents" not in statements


def test_the_idle_guard_refuses_what_the_table_refuses():
    from aws_cdk import Stack
    from aws_cdk import aws_kms as kms
    from aws_cdk import aws_sns as sns

    from constructs_lib import IdleEndpointGuard, ScaleToZero

    stack = Stack(new_app(), "Refused")
    key = kms.Key.from_key_arn(stack, "Key", "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555")
    topic = sns.Topic.from_topic_arn(stack, "Topic", "arn:aws:sns:us-east-1:123456789012:t")
    with pytest.raises(PlatformValidationError, match=(
        r"scale_to_zero\[0\]\.kind: got 'serverless'; async or inference-components "
        r"\(serverless: serverless endpoints scale to zero by themselves\)"
    )):
        IdleEndpointGuard(stack, "G", topic=topic, key=key, endpoint_names=["a"],
                          scale_to_zero=[ScaleToZero("a", EndpointKind.SERVERLESS)])


def test_endpoint_rules_read_the_row(monkeypatch):
    """A realtime row that says "no data capture" (as the serverless row does) makes the endpoint refuse
    data capture with the row's reason; the rule is the row's, not serverless's."""
    from aws_cdk import Stack
    from aws_cdk import aws_s3 as s3

    from constructs_lib import InferenceEndpoint

    for kind, row in _changed(EndpointKind.REALTIME, data_capture_not="this kind captures nothing").items():
        monkeypatch.setitem(KIND_TRAITS, kind, row)
    stack = Stack(new_app(), "Rules")
    bucket = s3.Bucket.from_bucket_name(stack, "Bucket", "capture-bucket")
    with pytest.raises(PlatformValidationError,
                       match=r"data_capture: got '\(set\)'; none on a realtime endpoint: this kind captures nothing"):
        InferenceEndpoint(stack, "E", endpoint_name="ranker", variants=[VariantSpec(model=MODEL, instance_type="ml.c5.xlarge")],
                          data_capture=DataCaptureSpec(sampling_percent=20), data_capture_bucket=bucket)


def test_serverless_rules_come_from_its_row():
    """The serverless exclusions (SageMaker guide "Serverless Inference: feature exclusions"; rolling
    updates: "Deployment guardrails: Exclusions") as the row words them."""
    from aws_cdk import Stack
    from aws_cdk import aws_s3 as s3

    from constructs_lib import InferenceEndpoint
    from constructs_lib.inference import DeploymentSpec, DeploymentStrategy, ServerlessSpec

    stack = Stack(new_app(), "Serverless")
    bucket = s3.Bucket.from_bucket_name(stack, "Bucket", "capture-bucket")
    with pytest.raises(PlatformValidationError) as raised:
        InferenceEndpoint(
            stack, "E", endpoint_name="embed", kind=EndpointKind.SERVERLESS,
            variants=[VariantSpec(name="a", model=MODEL, instance_type=None, serverless=ServerlessSpec(memory_mb=2048, max_concurrency=5)),
                      VariantSpec(name="b", model=MODEL, instance_type=None, serverless=ServerlessSpec(memory_mb=2048, max_concurrency=5))],
            data_capture=DataCaptureSpec(sampling_percent=20), data_capture_bucket=bucket, network_isolation=True,
            deployment=DeploymentSpec(strategy=DeploymentStrategy.ROLLING, rollback_alarms=False),
        )
    message = str(raised.value)
    for line in (
        "variants: got 2; one production variant: serverless endpoints support no multiple variants",
        "data_capture: got '(set)'; none on a serverless endpoint: serverless endpoints support no data capture",
        "network_isolation: got True; False or unset on a serverless endpoint: serverless endpoints support no network isolation",
        "deployment.strategy: got 'rolling'; blue/green on a serverless endpoint: rolling updates need instances",
    ):
        assert line in message
