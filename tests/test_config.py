"""The config contract: every bad value is refused with its key path, value and what is allowed."""

from __future__ import annotations

import copy

import pytest
import yaml

from constructs_lib.errors import PlatformValidationError
from stacks.config import DEFAULT_CONFIG, load_config, parse_config

BASE = yaml.safe_load(DEFAULT_CONFIG.read_text())
IMAGE = "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.3.0-cpu-py311-ubuntu20.04-sagemaker"


def cfg(**changes):
    """The default config with dotted-path changes, e.g. ``{"endpoints.0.instance_count": -1}``."""
    data = copy.deepcopy(BASE)
    for path, value in changes.items():
        *parents, last = path.split(".")
        node = data
        for part in parents:
            node = node[int(part)] if part.isdigit() else node.setdefault(part, {})
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    return data


def problems_of(data) -> list[str]:
    with pytest.raises(PlatformValidationError) as info:
        parse_config(data, source="test.yaml")
    return [str(p) for p in info.value.problems]


def test_default_config_is_valid():
    config = load_config(DEFAULT_CONFIG)
    assert config.prefix == "acme-ml-dev"
    assert [(e.name, e.type) for e in config.endpoints] == [
        ("chat-llm", "realtime"), ("ranker", "realtime"), ("fraud-scorer", "realtime"), ("embeddings", "serverless"),
        ("batch-scoring", "async"), ("llm-hosting", "inference-components"), ("many-models", "multi-model"),
    ]


def test_acceptance_three_problems_reported_together():
    data = cfg(**{"endpoints.0.instance_count": -1, "endpoints.0.instance_type": "ml.g5.huge"})
    data["endpoints"][0]["instnce_count"] = 2
    with pytest.raises(PlatformValidationError) as info:
        parse_config(data, source="bad.yaml")
    message = str(info.value)
    assert message.startswith("bad.yaml: 3 problem(s)")
    assert "endpoints[0].instnce_count: got 2; unknown key; did you mean 'instance_count'?" in message
    assert "endpoints[0].instance_count: got -1; Input should be greater than or equal to 1" in message
    assert "endpoints[0].instance_type: got 'ml.g5.huge'; unknown endpoint instance type" in message


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"platform.environment": "qa"}, r"platform\.environment: got 'qa'; Input should be 'dev', 'staging' or 'prod'"),
        ({"platform.name": "Acme_ML"}, r"platform\.name: got 'Acme_ML'; String should match pattern"),
        ({"platform.account": "12345"}, r"platform\.account: got '12345'"),
        ({"notifications.emails": ["not-an-email"]}, r"notifications\.emails\[0\]: got 'not-an-email'"),
        ({"endpoints.0.name": "bad_name!"}, r"endpoints\[0\]\.name: got 'bad_name!'"),
        ({"endpoints.0.type": "batch"}, r"endpoints\[0\]\.type: got 'batch'; Input should be 'realtime'"),
        ({"endpoints.0.autoscaling.max": 0}, r"endpoints\[0\]\.autoscaling\.max: got 0; Input should be greater than or equal to 1"),
        ({"endpoints.0.data_capture.sampling_percent": 101}, r"endpoints\[0\]\.data_capture\.sampling_percent: got 101"),
        ({"endpoints.0.deployment.canary_percent": 60}, r"endpoints\[0\]\.deployment\.canary_percent: got 60; Input should be less than or equal to 50"),
        ({"endpoints.0.deployment.strategy": "big-bang"}, r"endpoints\[0\]\.deployment\.strategy: got 'big-bang'"),
        ({"endpoints.0.model.image": "nginx:latest"}, r"endpoints\[0\]\.model\.image: got 'nginx:latest'"),
        ({"endpoints.0.model.model_data_url": "https://x/model.tar.gz"}, r"endpoints\[0\]\.model\.model_data_url"),
        ({"endpoints.0.volume_size_gb": 513}, r"endpoints\[0\]\.volume_size_gb: got 513"),
        ({"endpoints.0.container_startup_timeout_seconds": 30}, r"endpoints\[0\]\.container_startup_timeout_seconds: got 30"),
        ({"network.max_azs": 7}, r"network\.max_azs: got 7"),
        ({"endpoints.3.serverless.memory_mb": 3000},
         r"endpoints\[3\]\.serverless\.memory_mb: got 3000; serverless memory in MB; allowed: one of 1024, 2048, 3072, 4096, 5120, 6144"),
        ({"endpoints.3.serverless.max_concurrency": 201}, r"endpoints\[3\]\.serverless\.max_concurrency: got 201; Input should be less than or equal to 200"),
        ({"endpoints.3.serverless.provisioned_concurrency": 0}, r"endpoints\[3\]\.serverless\.provisioned_concurrency: got 0"),
        ({"endpoints.4.async_inference.max_concurrent_invocations_per_instance": 1001},
         r"endpoints\[4\]\.async_inference\.max_concurrent_invocations_per_instance: got 1001; Input should be less than or equal to 1000"),
        ({"endpoints.1.variants.0.weight": -1}, r"endpoints\[1\]\.variants\[0\]\.weight: got -1; Input should be greater than or equal to 0"),
        ({"endpoints.1.variants.0.routing": "ROUND_ROBIN"},
         r"endpoints\[1\]\.variants\[0\]\.routing: got 'ROUND_ROBIN'; Input should be 'LEAST_OUTSTANDING_REQUESTS' or 'RANDOM'"),
        ({"endpoints.1.variants.0.instance_type": "ml.g5.huge"}, r"endpoints\[1\]\.variants\[0\]\.instance_type: got 'ml\.g5\.huge'; unknown endpoint instance type"),
        ({"endpoints.2.shadow_variants.0.sampling_percent": 0}, r"endpoints\[2\]\.shadow_variants\[0\]\.sampling_percent: got 0"),
        ({"endpoints.5.components.0.memory_mb": 64}, r"endpoints\[5\]\.components\[0\]\.memory_mb: got 64; Input should be greater than or equal to 128"),
        ({"endpoints.5.components.0.copies": -1}, r"endpoints\[5\]\.components\[0\]\.copies: got -1"),
        ({"endpoints.5.components.0.accelerators": 0}, r"endpoints\[5\]\.components\[0\]\.accelerators: got 0"),
        ({"endpoints.5.components.0.name": "llama_8b"}, r"endpoints\[5\]\.components\[0\]\.name: got 'llama_8b'; String should match pattern"),
        ({"endpoints.5.components.0.autoscaling.min_copies": -1}, r"endpoints\[5\]\.components\[0\]\.autoscaling\.min_copies: got -1"),
        ({"endpoints.3.autoscaling.target_provisioned_concurrency_utilization": 1.5},
         r"endpoints\[3\]\.autoscaling\.target_provisioned_concurrency_utilization: got 1\.5; Input should be less than or equal to 1"),
        ({"endpoints.1.autoscaling.metric_targets": [{"metric": "Temperature", "target": 1}]},
         r"endpoints\[1\]\.autoscaling\.metric_targets\[0\]\.metric: got 'Temperature'; Input should be 'CPUUtilization'"),
        ({"endpoints.1.autoscaling.schedules.0.name": "office hours"}, r"endpoints\[1\]\.autoscaling\.schedules\[0\]\.name: got 'office hours'"),
        ({"endpoints.1.autoscaling.schedules.0.schedule": "at 8 every day"}, r"endpoints\[1\]\.autoscaling\.schedules\[0\]\.schedule: got 'at 8 every day'"),
        ({"endpoints.1.autoscaling.scale_in_cooldown_seconds": 4000}, r"endpoints\[1\]\.autoscaling\.scale_in_cooldown_seconds: got 4000"),
        ({"endpoints.0.fallback_instance_types": ["ml.g6.2xlarge"] * 5},
         r"endpoints\[0\]\.fallback_instance_types: got \[.*\]; List should have at most 4 items"),
        ({"endpoints.0.provision_timeout_seconds": 100}, r"endpoints\[0\]\.provision_timeout_seconds: got 100; Input should be greater than or equal to 300"),
        ({"endpoints.0.alarms.latency_alarm": "maybe"}, r"endpoints\[0\]\.alarms\.latency_alarm: got 'maybe'; Input should be a valid boolean"),
        ({"endpoints.1.variants.0.instnce_count": 2},
         r"endpoints\[1\]\.variants\[0\]\.instnce_count: got 2; unknown key; did you mean 'instance_count'\? allowed keys: container_startup"),
        ({"endpoints.5.components.0.acelerators": 2},
         r"endpoints\[5\]\.components\[0\]\.acelerators: got 2; unknown key; did you mean 'accelerators'\?"),
        ({"network.vpc_id": "vpc-0123456789abcdef0"}, r"network: got .*exactly one of max_azs \(new VPC\) or vpc_id"),
    ],
)
def test_schema_errors_name_the_key_path(changes, expected):
    found = problems_of(cfg(**changes))
    assert any(__import__("re").search(expected, p) for p in found), found


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"endpoints.0.autoscaling": {"min": 3, "max": 2, "target_invocations_per_instance": 5}},
         "endpoints[0].autoscaling.min: got 3; at most max (2)"),
        ({"endpoints.0.autoscaling": {"min": 0, "max": 4, "target_invocations_per_instance": 5}},
         "endpoints[0].autoscaling.min: got 0; at least 1 for an instance-based real-time endpoint"),
        ({"endpoints.0.instance_count": 9}, "endpoints[0].instance_count: got 9; between autoscaling.min (2) and autoscaling.max (8)"),
        ({"endpoints.0.autoscaling": {"min": 1, "max": 2}},
         "endpoints[0].autoscaling.target_invocations_per_instance: got None; a target for type realtime"),
        ({"endpoints.0.instance_type": "ml.t2.medium", "endpoints.0.instance_count": 2},
         "endpoints[0].autoscaling: got 'ml.t2.medium'; no autoscaling on burstable ml.t* instances"),
        ({"endpoints.0.deployment": {"wait_minutes": 10, "termination_wait_minutes": 5, "max_execution_minutes": 12}},
         "endpoints[0].deployment.max_execution_minutes: got 12; greater than wait_minutes + termination_wait_minutes"),
        ({"endpoints.0.alarms": {"evaluation_periods": 2, "datapoints_to_alarm": 3}},
         "endpoints[0].alarms.datapoints_to_alarm: got 3; at most evaluation_periods (2)"),
        ({"endpoints.0.model": None}, "endpoints[0].model: got None; a model (image and model data) for type realtime"),
        ({"endpoints.0.name": "a-very-long-endpoint-name-that-will-not-fit-in-sixty-three-chars"},
         "'acme-ml-dev-a-very-long-endpoint-name-that-will-not-fit-in-sixty-three-chars' (platform-environment-name) has at most 63"),
        ({"training_clusters.0.instance_groups.1.count": 7000},
         "training_clusters[0].instance_groups[1].count: got 7000; an integer 0-6758"),
        # which keys go with which type
        ({"endpoints.1.instance_type": "ml.g5.xlarge"},
         "endpoints[1].instance_type: got '(set)'; set it per variant: variants replaces the single-model shorthand"),
        ({"endpoints.1.variants.1.name": "current"},
         "endpoints[1].variants: got 'current'; variant names unique within the endpoint (shadow variants included)"),
        ({"endpoints.3.variants": [{"name": "a", "model": {"image": IMAGE}, "instance_type": "ml.c5.xlarge"}]},
         "endpoints[3].variants: got '(set)'; only for type realtime"),
        ({"endpoints.0.serverless": {"memory_mb": 2048, "max_concurrency": 5}}, "endpoints[0].serverless: got '(set)'; only for type serverless"),
        ({"endpoints.0.async_inference": {}}, "endpoints[0].async_inference: got '(set)'; only for type async"),
        ({"endpoints.6.components": [{"name": "x", "model": {"image": IMAGE}, "memory_mb": 1024}]},
         "endpoints[6].components: got '(set)'; only for type inference-components"),
        # serverless exclusions
        ({"endpoints.3.instance_type": "ml.g5.xlarge"},
         "endpoints[3].instance_type: got 'ml.g5.xlarge'; none on a serverless endpoint: serverless endpoints have no instances (and no GPUs)"),
        ({"endpoints.3.instance_count": 2}, "endpoints[3].instance_count: got 2; none on a serverless endpoint: serverless endpoints have no instances"),
        ({"endpoints.3.data_capture": {"sampling_percent": 5}},
         "endpoints[3].data_capture: got '(set)'; none on a serverless endpoint: serverless endpoints support no data capture"),
        ({"endpoints.3.network_isolation": True},
         "endpoints[3].network_isolation: got True; false or unset: serverless endpoints support no network isolation"),
        ({"endpoints.3.routing": "RANDOM"},
         "endpoints[3].routing: got 'RANDOM'; none on a serverless endpoint: serverless endpoints have no instances to route between"),
        ({"endpoints.3.serverless": None}, "endpoints[3].serverless: got None; memory_mb and max_concurrency for a serverless endpoint"),
        ({"endpoints.3.model": None}, "endpoints[3].model: got None; a model (image and model data) for type serverless"),
        ({"endpoints.3.serverless.provisioned_concurrency": 30}, "endpoints[3].serverless.provisioned_concurrency: got 30; at most max_concurrency (20)"),
        ({"endpoints.3.deployment": {"strategy": "rolling"}},
         "endpoints[3].deployment.strategy: got 'rolling'; blue/green on a serverless endpoint: rolling updates need instances"),
        ({"endpoints.3.serverless.provisioned_concurrency": None},
         "endpoints[3].serverless.provisioned_concurrency: got None; a provisioned concurrency: a serverless endpoint autoscales it"),
        ({"endpoints.3.serverless.provisioned_concurrency": 15},
         "endpoints[3].serverless.provisioned_concurrency: got 15; between autoscaling.min (1) and autoscaling.max (10)"),
        ({"endpoints.3.autoscaling.max": 30}, "endpoints[3].autoscaling.max: got 30; at most serverless.max_concurrency (20)"),
        ({"endpoints.3.autoscaling.min": 0}, "endpoints[3].autoscaling.min: got 0; at least 1 provisioned concurrency"),
        ({"endpoints.3.autoscaling.target_invocations_per_instance": 10},
         "endpoints[3].autoscaling.target_invocations_per_instance: got 10.0; not for type serverless: use target_provisioned_concurrency_utilization"),
        # async
        ({"endpoints.4.model": None}, "endpoints[4].model: got None; a model (image and model data) for type async"),
        ({"endpoints.4.instance_type": None}, "endpoints[4].instance_type: got None; an instance type for type async"),
        ({"endpoints.4.autoscaling.target_invocations_per_instance": 5},
         "endpoints[4].autoscaling.target_invocations_per_instance: got 5.0; not for type async: use target_backlog_per_instance or metric_targets"),
        ({"endpoints.4.autoscaling.target_backlog_per_instance": None},
         "endpoints[4].autoscaling.target_backlog_per_instance: got None; a target for type async (target_backlog_per_instance, metric_targets) or a schedule"),
        ({"endpoints.0.autoscaling.target_backlog_per_instance": 3},
         "endpoints[0].autoscaling.target_backlog_per_instance: got 3.0; not for type realtime: use target_invocations_per_instance"),
        # multi-model
        ({"endpoints.6.model.model_data_prefix": None},
         "endpoints[6].model.model_data_prefix: got None; the S3 prefix holding the models of a multi-model endpoint"),
        ({"endpoints.6.model.model_data_prefix": "s3://acme-ml-models/tenants"},
         "endpoints[6].model.model_data_prefix: got 's3://acme-ml-models/tenants'; an S3 prefix ending with '/'"),
        ({"endpoints.6.model.model_data_url": "s3://acme-ml-models/x/model.tar.gz"},
         "endpoints[6].model.model_data_url: got 's3://acme-ml-models/x/model.tar.gz'; none on a multi-model endpoint: use model_data_prefix"),
        ({"endpoints.0.model.model_data_prefix": "s3://acme-ml-models/tenants/"},
         "endpoints[0].model.model_data_prefix: got 's3://acme-ml-models/tenants/'; only for type multi-model"),
        # shadow variants
        ({"endpoints.1.shadow_variants": [{"name": "challenger", "model": {"image": IMAGE}, "instance_type": "ml.g5.xlarge"}]},
         "endpoints[1].shadow_variants: got 1; exactly one shadow variant next to exactly one production variant (got 2)"),
        ({"endpoints.2.instance_type": "ml.inf1.xlarge"},
         "endpoints[2].shadow_variants: got '(set)'; no shadow variants on Inf1 instances (SageMaker excludes them from shadow tests)"),
        # inference components
        ({"endpoints.5.model": {"image": IMAGE}},
         "endpoints[5].model: got '(set)'; none on an inference-components endpoint: each of its components has a model"),
        ({"endpoints.5.instance_type": None}, "endpoints[5].instance_type: got None; the instance type hosting the components"),
        ({"endpoints.5.components": []}, "endpoints[5].components: got []; at least one component (name, model, memory_mb)"),
        ({"endpoints.5.components.0.name": "a-component-name-long-enough-to-overflow-the-limit"},
         "'acme-ml-dev-llm-hosting-a-component-name-long-enough-to-overflow-the-limit' (endpoint-component) has at most 63 characters"),
        ({"endpoints.5.instance_type": "ml.c5.4xlarge"}, "endpoints[5].components[0].accelerators: got 1; none: ml.c5.4xlarge has no accelerators"),
        ({"endpoints.5.components.0.autoscaling.max_copies": 0}, "endpoints[5].components[0].autoscaling.max_copies: got 0"),
        ({"endpoints.5.components.0.autoscaling": {"min_copies": 3, "max_copies": 2, "target_concurrent_requests_per_copy": 4}},
         "endpoints[5].components[0].autoscaling.min_copies: got 3; at most max_copies (2)"),
        ({"endpoints.5.components.0.copies": 5},
         "endpoints[5].components[0].copies: got 5; between autoscaling.min_copies (0) and autoscaling.max_copies (4)"),
        ({"endpoints.5.components.0.autoscaling": {"min_copies": 0, "max_copies": 2}},
         "endpoints[5].components[0].autoscaling: got 'no target'; target_concurrent_requests_per_copy, target_invocations_per_copy, both, or a schedule"),
        ({"endpoints.5.deployment": {"strategy": "canary"}},
         "endpoints[5].deployment: got 'canary'; none on an inference-components endpoint: its components roll their copies on update"),
        ({"endpoints.5.autoscaling.target_invocations_per_instance": 5},
         "endpoints[5].autoscaling.target_invocations_per_instance: got 5.0; not for type inference-components: copies scale per component"),
        ({"endpoints.5.autoscaling.schedules": [{"name": "night", "schedule": "rate(1 day)", "max": 1}]},
         "endpoints[5].autoscaling.schedules: got '(set)'; not for type inference-components: managed instance scaling takes only min and max"),
        ({"endpoints.5.autoscaling.scale_in_cooldown_seconds": 600},
         "endpoints[5].autoscaling.scale_in_cooldown_seconds: got '(set)'; not for type inference-components: managed instance scaling takes only"),
        ({"endpoints.5.components.0.autoscaling.schedules.0.time_zone": "Mars/Olympus"},
         "endpoints[5].components[0].autoscaling.schedules[0].time_zone: got 'Mars/Olympus'; an IANA time zone"),
        ({"endpoints.5.instance_count": 3}, "endpoints[5].instance_count: got 3; between autoscaling.min (0) and autoscaling.max (2)"),
        # deployment guardrails
        ({"endpoints.1.deployment": {"strategy": "rolling"}},
         "endpoints[1].deployment.strategy: got 'rolling'; rolling updates only for single-variant endpoints; use all-at-once, canary or linear"),
        ({"endpoints.0.instance_type": "ml.inf1.xlarge"},
         "endpoints[0].deployment.strategy: got 'canary'; all-at-once: Inf1 endpoints support only all-at-once blue/green updates"),
        # autoscaling details
        ({"endpoints.1.variants.0.instance_count": 9},
         "endpoints[1].variants[0].instance_count: got 9; between autoscaling.min (1) and autoscaling.max (4)"),
        ({"endpoints.6.autoscaling": {"min": 2, "max": 4, "metric_targets": [{"metric": "GPUUtilization", "target": 70}]}},
         "endpoints[6].autoscaling.metric_targets[0].metric: got 'GPUUtilization'; a CPU metric: the endpoint's instance types have no GPUs"),
        ({"endpoints.6.autoscaling": {"min": 2, "max": 4, "metric_targets": [{"metric": "MemoryUtilization", "target": 150}]}},
         "endpoints[6].autoscaling.metric_targets[0].target: got 150.0; a percentage in (0, 100]"),
        ({"endpoints.1.autoscaling.schedules.1.name": "office-hours"},
         "endpoints[1].autoscaling.schedules[1].name: got 'office-hours'; a schedule name unique within the endpoint"),
        ({"endpoints.1.autoscaling.schedules.0.time_zone": "Mars/Olympus"},
         "endpoints[1].autoscaling.schedules[0].time_zone: got 'Mars/Olympus'; an IANA time zone such as Europe/Berlin"),
        ({"endpoints.1.autoscaling.schedules.0": {"name": "office-hours", "schedule": "cron(0 8 * * ? *)"}},
         "endpoints[1].autoscaling.schedules[0]: got 'office-hours'; min, max or both"),
        ({"endpoints.1.autoscaling.schedules.0": {"name": "office-hours", "schedule": "cron(0 8 * * ? *)", "min": 0}},
         "endpoints[1].autoscaling.schedules[0].min: got 0; at least 1"),
        ({"endpoints.1.autoscaling.schedules.0": {"name": "office-hours", "schedule": "cron(0 8 * * ? *)", "min": 3, "max": 2}},
         "endpoints[1].autoscaling.schedules[0].min: got 3; at most max (2)"),
        ({"network.availability_zones": ["us-east-1a"]}, "network.availability_zones: got ['us-east-1a']; exactly max_azs (2) zones"),
        ({"platform.account": "123456789012"},
         "network.availability_zones: got []; the zone names when platform.account is set (synth must not look them up)"),
        ({"platform.region": "eu-west-1", "network.availability_zones": ["us-east-1a", "us-east-1b"]},
         "network.availability_zones[0]: got 'us-east-1a'; a zone of platform.region eu-west-1"),
    ],
)
def test_cross_key_rules(changes, expected):
    found = problems_of(cfg(**changes))
    assert any(expected in p for p in found), found


def test_duplicate_endpoint_names_are_refused():
    data = copy.deepcopy(BASE)
    data["endpoints"].append(copy.deepcopy(data["endpoints"][0]))
    assert "endpoints[7].name: got 'chat-llm'; a unique name (endpoints[0] has it)" in problems_of(data)


def test_existing_vpc_needs_subnets_per_zone():
    data = cfg(network={"vpc_id": "vpc-0123456789abcdef0", "availability_zones": ["us-east-1a"]})
    found = problems_of(data)
    assert any(p.startswith("network.private_subnet_ids: got []") for p in found), found


def test_yaml_syntax_and_missing_file_are_clear(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("platform: [unclosed\n")
    with pytest.raises(PlatformValidationError, match=r"(?s)broken\.yaml: 1 problem.*line \d+, column \d+.*valid YAML"):
        load_config(broken)
    with pytest.raises(PlatformValidationError, match=r"a readable YAML file"):
        load_config(tmp_path / "missing.yaml")
    with pytest.raises(PlatformValidationError, match=r"\(top level\): got 'list'; a mapping of sections"):
        parse_config([1, 2])


ISSUE_EXAMPLE = """
platform: {name: acme-ml, environment: dev}
endpoints:
  - name: ranker
    type: realtime
    variants:                   # instead of the single-model shorthand
      - {name: current, model: {image: "IMG", model_data_url: "s3://acme-ml-models/ranker/v7/model.tar.gz"}, instance_type: ml.g5.xlarge, instance_count: 2, weight: 0.9}
      - {name: candidate, model: {image: "IMG", model_data_url: "s3://acme-ml-models/ranker/v8/model.tar.gz"}, instance_type: ml.g5.xlarge, instance_count: 1, weight: 0.1}
    shadow_variants:
      - {name: challenger, model: {image: "IMG", model_data_url: "s3://acme-ml-models/ranker/v9/model.tar.gz"}, instance_type: ml.g5.xlarge, instance_count: 1, sampling_percent: 50}
    deployment: {strategy: linear, step_percent: 25, wait_minutes: 5}
  - name: embeddings
    type: serverless
    model: {image: "IMG", model_data_url: "s3://acme-ml-models/embeddings/model.tar.gz"}
    serverless: {memory_mb: 4096, max_concurrency: 20}
  - name: batch-scoring
    type: async
    model: {image: "IMG", model_data_url: "s3://acme-ml-models/batch/model.tar.gz"}
    instance_type: ml.g5.xlarge
    instance_count: 1
    autoscaling: {min: 0, max: 4, target_backlog_per_instance: 5}
  - name: llm-hosting
    type: inference-components
    instance_type: ml.g5.12xlarge
    instance_count: 1
    autoscaling: {min: 0, max: 2}
    components:
      - name: llama-8b
        model: {image: "IMG", model_data_url: "s3://acme-ml-models/llama-8b/model.tar.gz"}
        accelerators: 1
        memory_mb: 24576
        copies: 1
        autoscaling: {min_copies: 0, max_copies: 4, target_concurrent_requests_per_copy: 4}
  - name: many-models
    type: multi-model
    model: {image: "IMG", model_data_prefix: "s3://acme-ml-models/tenants/"}
    instance_type: ml.c5.2xlarge
    instance_count: 2
"""


def test_issue_config_keys_are_accepted_and_the_one_impossible_combination_is_explained():
    """Every key of the issue's example is part of the schema; its ranker (two production variants plus a
    shadow variant) is the one combination SageMaker refuses, so it is refused here, with the reason."""
    data = yaml.safe_load(ISSUE_EXAMPLE.replace("IMG", IMAGE))
    assert problems_of(data) == [
        (
            "endpoints[0].shadow_variants: got 1; exactly one shadow variant next to exactly one production variant (got 2): "
            "SageMaker allows one of each when shadow variants are set"
        )
    ]
    data["endpoints"][0]["variants"].pop()  # one production variant: valid
    config = parse_config(data)
    assert [(e.name, e.type) for e in config.endpoints] == [
        ("ranker", "realtime"), ("embeddings", "serverless"), ("batch-scoring", "async"),
        ("llm-hosting", "inference-components"), ("many-models", "multi-model"),
    ]
    assert config.endpoints[3].components[0].autoscaling.target_concurrent_requests_per_copy == 4
