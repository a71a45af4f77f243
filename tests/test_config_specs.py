"""Each ``endpoints[]`` config section converts itself to the library's spec (``to_spec``): config keys
(``min``, ``metric``, ``capture``) become the spec's own fields (``min_capacity``, ``metric_name``,
``capture_input``), and ``endpoint_props`` only combines the sections' specs. No synth."""

from __future__ import annotations

from constructs_lib.inference import (
    AsyncInferenceSpec,
    AutoScalingSpec,
    ComponentAutoScalingSpec,
    ComponentSpec,
    DataCaptureSpec,
    DeploymentSpec,
    DeploymentStrategy,
    EndpointKind,
    ManagedInstanceScalingSpec,
    MetricTargetSpec,
    ModelSpec,
    RoutingStrategy,
    ScheduledScalingSpec,
    ShadowVariantSpec,
    VariantSpec,
)
from constructs_lib.observability import ServiceLevelObjective
from stacks.config import endpoints as ep_config

IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/ranker:1"
MODEL = {"image": IMAGE, "model_data_url": "s3://models/ranker.tar.gz"}


def test_sections_convert_to_specs_in_the_specs_own_field_names():
    schedule = {"name": "night", "schedule": "cron(0 20 * * ? *)", "time_zone": "Europe/Berlin", "min": 1, "max": 2}
    scaling = ep_config.AutoscalingSection.model_validate({
        "min": 1, "max": 4, "target_invocations_per_instance": 100,
        "metric_targets": [{"metric": "GPUUtilization", "target": 70}], "schedules": [schedule],
    })
    assert scaling.to_spec() == AutoScalingSpec(
        min_capacity=1, max_capacity=4, target_invocations_per_instance=100,
        metric_targets=(MetricTargetSpec(metric_name="GPUUtilization", target_value=70),),
        schedules=(ScheduledScalingSpec(name="night", schedule="cron(0 20 * * ? *)", time_zone="Europe/Berlin",
                                        min_capacity=1, max_capacity=2),),
    )
    assert ep_config.DeploymentSection.model_validate({"strategy": "linear", "rollback_signals": []}).to_spec() == (
        DeploymentSpec(strategy=DeploymentStrategy.LINEAR, rollback_signals=())
    )
    assert ep_config.DeploymentSection().to_spec() == DeploymentSpec(strategy=DeploymentStrategy.CANARY)
    assert ep_config.DataCaptureSection.model_validate({"sampling_percent": 20, "capture": ["input"]}).to_spec() == (
        DataCaptureSpec(sampling_percent=20, capture_input=True, capture_output=False)
    )
    assert ep_config.AsyncInferenceSection(max_concurrent_invocations_per_instance=4).to_spec() == (
        AsyncInferenceSpec(max_concurrent_invocations_per_instance=4)
    )
    assert ep_config.ManagedScalingSection(min=0, max=3).to_spec() == ManagedInstanceScalingSpec(min_instances=0, max_instances=3)
    assert ep_config.SloSection(availability_percent=99.9).to_spec() == ServiceLevelObjective(availability_percent=99.9)
    component = ep_config.ComponentSection.model_validate({
        "name": "llama-8b", "model": {"image": IMAGE}, "memory_mb": 4096, "copies": 1,
        "autoscaling": {"min_copies": 0, "max_copies": 2, "target_invocations_per_copy": 5, "schedules": [schedule]},
    })
    assert component.to_spec("acme-ml-dev-llm") == ComponentSpec(
        name="acme-ml-dev-llm-llama-8b", model=ModelSpec(image=IMAGE), memory_mb=4096, copies=1,
        autoscaling=ComponentAutoScalingSpec(
            min_copies=0, max_copies=2, target_invocations_per_copy=5,
            schedules=(ScheduledScalingSpec(name="night", schedule="cron(0 20 * * ? *)", time_zone="Europe/Berlin",
                                            min_capacity=1, max_capacity=2),),
        ),
    )


def test_endpoint_props_combine_the_sections_specs():
    entry = ep_config.ENDPOINT_ADAPTER.validate_python({
        "name": "ranker", "routing": "LEAST_OUTSTANDING_REQUESTS",
        "variants": [{"name": "current", "model": MODEL, "instance_type": "ml.c5.xlarge", "instance_count": 2}],
        "shadow_variants": [{"name": "shadow", "model": MODEL, "instance_type": "ml.c5.xlarge", "sampling_percent": 10}],
        "deployment": {}, "data_capture": {"sampling_percent": 5},
    })
    props = ep_config.endpoint_props("acme-ml-dev", entry)
    model = ModelSpec(image=IMAGE, model_data_url="s3://models/ranker.tar.gz")
    assert (props["endpoint_name"], props["kind"]) == ("acme-ml-dev-ranker", EndpointKind.REALTIME)
    assert props["variants"] == [VariantSpec(name="current", model=model, instance_type="ml.c5.xlarge", instance_count=2)]
    assert props["shadow_variants"] == [
        ShadowVariantSpec(name="shadow", model=model, instance_type="ml.c5.xlarge", sampling_percent=10)
    ]
    assert (props["deployment"], props["data_capture"], props["autoscaling"], props["components"]) == (
        DeploymentSpec(), DataCaptureSpec(sampling_percent=5), None, [],
    )
    shorthand = ep_config.ENDPOINT_ADAPTER.validate_python({
        "name": "llm", "type": "inference-components", "instance_type": "ml.g5.2xlarge", "routing": "RANDOM",
        "autoscaling": {"min": 1, "max": 2},
        "components": [{"name": "a", "model": {"image": IMAGE}, "memory_mb": 1024}],
    })
    props = ep_config.endpoint_props("acme-ml-dev", shorthand)
    assert props["variants"] == [VariantSpec(
        model=None, instance_type="ml.g5.2xlarge", routing=RoutingStrategy.RANDOM,
        managed_scaling=ManagedInstanceScalingSpec(min_instances=1, max_instances=2),
    )]
    assert props["autoscaling"] is None  # the entry's autoscaling is the variant's managed instance scaling
    assert [c.name for c in props["components"]] == ["acme-ml-dev-llm-a"]
