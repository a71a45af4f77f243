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


def test_an_alarm_threshold_is_checked_once_with_the_endpoints_kind():
    """The library's threshold rule, run once (by check_endpoint_props, with the endpoint's kind) and reported
    at the config path: an async endpoint's warning is compared with the async critical default (450000 ms,
    half the async invocation timeout), and one problem comes out."""
    found = problems_of(cfg(**{"endpoints.4.alarms": {"model_latency_p99_ms": {"warning": 500000}},
                               "endpoints.0.alarms": {"disk_percent": {"warning": 120}}}))
    assert [p for p in found if ".alarms." in p] == [
        "endpoints[0].alarms.disk_percent.warning: got 120.0; a percentage in (0, 100]",
        "endpoints[0].alarms.disk_percent.warning: got 120.0; at most the critical threshold (90)",
        "endpoints[4].alarms.model_latency_p99_ms.warning: got 500000.0; at most the critical threshold (450000)",
    ]


def test_default_config_is_valid():
    config = load_config(DEFAULT_CONFIG)
    assert config.prefix == "acme-ml-dev"
    assert [(e.name, e.type) for e in config.endpoints] == [
        ("chat-llm", "realtime"), ("ranker", "realtime"), ("fraud-scorer", "realtime"), ("embeddings", "serverless"),
        ("batch-scoring", "async"), ("llm-hosting", "inference-components"), ("many-models", "multi-model"),
    ]


def test_acceptance_problems_of_one_entry_reported_together():
    """An unknown key (schema) does not hide the same entry's rule problems: the entry is checked without it."""
    data = cfg(**{"endpoints.0.instance_count": -1, "endpoints.0.instance_type": "ml.g5.huge"})
    data["endpoints"][0]["instnce_count"] = 2
    with pytest.raises(PlatformValidationError) as info:
        parse_config(data, source="bad.yaml")
    message = str(info.value)
    assert message.startswith("bad.yaml: 4 problem(s)")
    assert "endpoints[0].instnce_count: got 2; unknown key for type realtime; did you mean 'instance_count'?" in message
    assert "endpoints[0].instance_count: got -1; an integer >= 1" in message
    assert "endpoints[0].instance_count: got -1; between autoscaling.min (2) and autoscaling.max (8)" in message
    assert (
        "endpoints[0].instance_type: got 'ml.g5.huge'; one of 277 values, e.g. ml.c4.2xlarge" in message
        and "(botocore ProductionVariantInstanceType)" in message
    )


def test_rules_the_construct_refused_are_refused_at_config_time():
    """The config once accepted both and the construct refused them with a construct path."""
    assert problems_of(cfg(**{"endpoints.1.autoscaling.schedules.0.schedule": "rate(5 weeks)"})) == [
        ("endpoints[1].autoscaling.schedules[0].schedule: got 'rate(5 weeks)'; cron(minutes hours day-of-month month "
        "day-of-week year), rate(N minutes|hours|days) or at(yyyy-mm-ddThh:mm:ss)")
    ]
    assert problems_of(cfg(**{"endpoints.1.variants.0.weight": 0, "endpoints.1.variants.1.weight": 0})) == [
        "endpoints[1].variants[*].weight: got [0.0, 0.0]; a total weight > 0"
    ]


def test_one_entrys_schema_errors_never_hide_another_entrys_rule_errors():
    """Schema and rule problems in several endpoints (and a bad platform name) all come out in one run."""
    data = cfg(**{
        "platform.name": "Acme_ML",  # schema: the prefix is unknown, so physical name lengths wait
        "endpoints.0.instance_count": "two",  # schema: entry 0's rules wait for its types
        "endpoints.1.autoscaling.schedules.0.schedule": "rate(5 weeks)",  # rule
        "endpoints.3.serverless.memory_mb": 3000,  # rule
        "endpoints.4.autoscaling.target_invocations_per_instance": 5,  # rule
        "endpoints.5.components.0.copies": 5,  # rule
    })
    data["endpoints"][6]["instance_typ"] = "ml.c5.xlarge"  # schema: unknown key ...
    data["endpoints"][6]["instance_count"] = 0  # ... and a rule of the same entry
    found = problems_of(data)
    assert [p.split(";")[0] for p in found] == [
        "platform.name: got 'Acme_ML'",
        "endpoints[0].instance_count: got 'two'",
        "endpoints[6].instance_typ: got 'ml.c5.xlarge'",
        "endpoints[1].autoscaling.schedules[0].schedule: got 'rate(5 weeks)'",
        "endpoints[3].serverless.memory_mb: got 3000",
        "endpoints[4].autoscaling.target_invocations_per_instance: got 5.0",
        "endpoints[5].components[0].copies: got 5",
        "endpoints[6].instance_count: got 0",
    ]
    assert found[0] == "platform.name: got 'Acme_ML'; lower-case letters, digits and hyphens, 1-15 characters, starting with a letter"


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"platform.name": "Acme_ML"}, "platform.name"),
        ({"platform.account": "12345"}, "platform.account"),
        ({"platform.region": "Europe"}, "platform.region"),
        ({"notifications.emails": ["not-an-email"]}, "notifications.emails[0]"),
        ({"network.availability_zones": ["zone-a", "zone-b"]}, "network.availability_zones[0]"),
        ({"endpoints.0.name": "bad_name!"}, "endpoints[0].name"),
        ({"endpoints.0.model.image": "nginx:latest"}, "endpoints[0].model.image"),
        ({"endpoints.0.model.environment": {"1-BAD": "x"}}, "endpoints[0].model.environment"),
        ({"endpoints.1.autoscaling.schedules.0.name": "office hours"}, "endpoints[1].autoscaling.schedules[0].name"),
        ({"notifications.slack": {"workspace_id": "t-1", "channel_id": "C1"}}, "notifications.slack.workspace_id"),
        ({"lifecycle.model_data_prefixes": ["https://x"]}, "lifecycle.model_data_prefixes[0]"),
    ],
)
def test_format_messages_say_what_is_allowed_in_words(changes, key):
    """No regex reaches the user: each format error names what is allowed."""
    found = [p for p in problems_of(cfg(**changes)) if p.startswith(key + ":")]
    assert found, problems_of(cfg(**changes))
    for p in found:
        assert "pattern" not in p and "^" not in p and "\\" not in p and "{" not in p, p


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"platform.environment": "qa"}, r"platform\.environment: got 'qa'; Input should be 'dev', 'staging' or 'prod'"),
        ({"platform.name": "Acme_ML"}, r"platform\.name: got 'Acme_ML'; lower-case letters, digits and hyphens, 1-15 characters"),
        ({"platform.account": "12345"}, r"platform\.account: got '12345'"),
        ({"notifications.emails": ["not-an-email"]}, r"notifications\.emails\[0\]: got 'not-an-email'"),
        ({"endpoints.0.name": "bad_name!"}, r"endpoints\[0\]\.name: got 'bad_name!'"),
        ({"endpoints.0.type": "batch"},
         r"endpoints\[0\]\.type: got 'batch'; one of realtime, serverless, async, inference-components, multi-model$"),
        ({"endpoints.0.autoscaling.max": 0}, r"endpoints\[0\]\.autoscaling\.max: got 0; >= 1$"),
        ({"endpoints.0.data_capture.sampling_percent": 101}, r"endpoints\[0\]\.data_capture\.sampling_percent: got 101"),
        ({"endpoints.0.deployment.canary_percent": 60}, r"endpoints\[0\]\.deployment\.canary_percent: got 60; 1-50 % of the fleet"),
        ({"endpoints.0.deployment.strategy": "big-bang"}, r"endpoints\[0\]\.deployment\.strategy: got 'big-bang'"),
        ({"endpoints.0.model.image": "nginx:latest"}, r"endpoints\[0\]\.model\.image: got 'nginx:latest'"),
        ({"endpoints.0.model.model_data_url": "https://x/model.tar.gz"}, r"endpoints\[0\]\.model\.model_data_url"),
        ({"endpoints.0.volume_size_gb": 513}, r"endpoints\[0\]\.volume_size_gb: got 513"),
        ({"endpoints.0.container_startup_timeout_seconds": 30}, r"endpoints\[0\]\.container_startup_timeout_seconds: got 30"),
        ({"network.max_azs": 7}, r"network\.max_azs: got 7"),
        ({"endpoints.3.serverless.memory_mb": 3000},
         r"endpoints\[3\]\.serverless\.memory_mb: got 3000; one of 1024, 2048, 3072, 4096, 5120, 6144 MB"),
        ({"endpoints.3.serverless.max_concurrency": 201}, r"endpoints\[3\]\.serverless\.max_concurrency: got 201; 1-200"),
        ({"endpoints.3.serverless.provisioned_concurrency": 0}, r"endpoints\[3\]\.serverless\.provisioned_concurrency: got 0"),
        ({"endpoints.4.async_inference.max_concurrent_invocations_per_instance": 1001},
         r"endpoints\[4\]\.async_inference\.max_concurrent_invocations_per_instance: got 1001; 1-1000"),
        ({"endpoints.1.variants.0.weight": -1}, r"endpoints\[1\]\.variants\[0\]\.weight: got -1\.0; a weight >= 0"),
        ({"endpoints.1.variants.0.routing": "ROUND_ROBIN"},
         r"endpoints\[1\]\.variants\[0\]\.routing: got 'ROUND_ROBIN'; Input should be 'LEAST_OUTSTANDING_REQUESTS' or 'RANDOM'"),
        ({"endpoints.1.variants.0.instance_type": "ml.g5.huge"}, r"endpoints\[1\]\.variants\[0\]\.instance_type: got 'ml\.g5\.huge'; one of \d+ values, e\.g\. .* \(botocore ProductionVariantInstanceType\)"),
        ({"endpoints.2.shadow_variants.0.sampling_percent": 0}, r"endpoints\[2\]\.shadow_variants\[0\]\.sampling_percent: got 0"),
        ({"endpoints.5.components.0.memory_mb": 64}, r"endpoints\[5\]\.components\[0\]\.memory_mb: got 64; >= 128 MB \(MinMemoryRequiredInMb\)"),
        ({"endpoints.5.components.0.copies": -1}, r"endpoints\[5\]\.components\[0\]\.copies: got -1"),
        ({"endpoints.5.components.0.accelerators": 0}, r"endpoints\[5\]\.components\[0\]\.accelerators: got 0"),
        ({"endpoints.5.components.0.name": "llama_8b"}, r"endpoints\[5\]\.components\[0\]\.name: got 'llama_8b'; 1-63 letters, digits and hyphens, starting and ending with a letter or digit$"),
        ({"endpoints.5.components.0.autoscaling.min_copies": -1}, r"endpoints\[5\]\.components\[0\]\.autoscaling\.min_copies: got -1"),
        ({"endpoints.3.autoscaling.target_provisioned_concurrency_utilization": 1.5},
         r"endpoints\[3\]\.autoscaling\.target_provisioned_concurrency_utilization: got 1\.5; a utilization in \(0, 1\], e\.g\. 0\.7"),
        ({"endpoints.1.autoscaling.metric_targets": [{"metric": "Temperature", "target": 1}]},
         r"endpoints\[1\]\.autoscaling\.metric_targets\[0\]\.metric: got 'Temperature'; one of CPUUtilization, DiskUtilization, .* \(/aws/sagemaker/Endpoints\)"),
        ({"endpoints.1.autoscaling.schedules.0.name": "office hours"}, r"endpoints\[1\]\.autoscaling\.schedules\[0\]\.name: got 'office hours'"),
        ({"endpoints.1.autoscaling.schedules.0.schedule": "at 8 every day"}, r"endpoints\[1\]\.autoscaling\.schedules\[0\]\.schedule: got 'at 8 every day'"),
        ({"endpoints.1.autoscaling.scale_in_cooldown_seconds": 4000}, r"endpoints\[1\]\.autoscaling\.scale_in_cooldown_seconds: got 4000"),
        ({"endpoints.0.fallback_instance_types": ["ml.g6.2xlarge"] * 5},
         r"endpoints\[0\]\.fallback_instance_types: got \[.*\]; at most 4 \(InstancePools holds 1-5 pools\)"),
        ({"endpoints.0.provision_timeout_seconds": 100}, r"endpoints\[0\]\.provision_timeout_seconds: got 100; 300-3600 seconds"),
        ({"endpoints.0.alarms.p99_latency_ms": 500},
         r"endpoints\[0\]\.alarms\.p99_latency_ms: got 500; unknown key; replaced by model_latency_p99_ms\.critical \(the rollback alarm is the critical p99 latency\)"),
        ({"endpoints.0.alarms.errors_5xx_threshold": 5},
         r"endpoints\[0\]\.alarms\.errors_5xx_threshold: got 5; unknown key; replaced by error_rate_5xx_percent\.critical"),
        ({"endpoints.0.alarms.disk_percent": "high"}, r"endpoints\[0\]\.alarms\.disk_percent: got 'high'; Input should be a valid dictionary"),
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
         "endpoints[0].autoscaling.min: got 3; <= max (2)"),
        ({"endpoints.0.autoscaling": {"min": 0, "max": 4, "target_invocations_per_instance": 5}},
         "endpoints[0].autoscaling.min: got 0; >= 1 for instance-based real-time variants"),
        ({"endpoints.0.instance_count": 9}, "endpoints[0].instance_count: got 9; between autoscaling.min (2) and autoscaling.max (8)"),
        ({"endpoints.0.autoscaling": {"min": 1, "max": 2}},
         "endpoints[0].autoscaling: got 'no target and no schedule'; at least one target (metric_targets, target_concurrent_requests_per_model, target_invocations_per_instance) or a schedule"),
        ({"endpoints.0.instance_type": "ml.t2.medium", "endpoints.0.instance_count": 2},
         "endpoints[0].instance_type: got 'ml.t2.medium'; no autoscaling on burstable ml.t* instances (Application Auto Scaling refuses them)"),
        ({"endpoints.0.deployment": {"wait_minutes": 10, "termination_wait_minutes": 5, "max_execution_minutes": 12}},
         "endpoints[0].deployment.max_execution_minutes: got 12; 10-480 minutes and more than wait_minutes + termination_wait_minutes"),
        ({"endpoints.0.alarms": {"evaluation_periods": 2, "datapoints_to_alarm": 3}},
         "endpoints[0].alarms.datapoints_to_alarm: got 3; 1-evaluation_periods (2)"),
        ({"endpoints.0.model": None}, "endpoints[0].model: got None; a model (image and model data)"),
        ({"endpoints.0.name": "a-very-long-endpoint-name-that-will-not-fit-in-sixty-three-chars"},
         "'acme-ml-dev-a-very-long-endpoint-name-that-will-not-fit-in-sixty-three-chars' (platform-environment-name) has at most 63"),
        ({"training_clusters.0.instance_groups.1.count": 7000},
         "training_clusters[0].instance_groups[1].count: got 7000; an integer 0-6758"),
        # which keys go with which type
        ({"endpoints.1.instance_type": "ml.g5.xlarge"},
         "endpoints[1].instance_type: got '(set)'; set it per variant: variants replaces the single-model shorthand"),
        ({"endpoints.1.variants.1.name": "current"},
         "endpoints[1].variants[1].name: got 'current'; a variant name unique within the endpoint"),
        ({"endpoints.3.serverless": None}, "endpoints[3].serverless: got None; memory and max concurrency (serverless capacity) on a serverless endpoint"),
        ({"endpoints.3.model": None}, "endpoints[3].model: got None; a model (image and model data)"),
        ({"endpoints.3.serverless.provisioned_concurrency": 30}, "endpoints[3].serverless.provisioned_concurrency: got 30; 1-200 and at most max_concurrency (20)"),
        ({"endpoints.3.deployment": {"strategy": "rolling"}},
         "endpoints[3].deployment.strategy: got 'rolling'; blue/green on a serverless endpoint: rolling updates need instances"),
        ({"endpoints.3.serverless.provisioned_concurrency": None},
         "endpoints[3].serverless.provisioned_concurrency: got None; a provisioned concurrency when a serverless endpoint autoscales (it scales provisioned concurrency)"),
        ({"endpoints.3.serverless.provisioned_concurrency": 15},
         "endpoints[3].serverless.provisioned_concurrency: got 15; between autoscaling.min (1) and autoscaling.max (10)"),
        ({"endpoints.3.autoscaling.max": 30}, "endpoints[3].autoscaling.max: got 30; <= serverless.max_concurrency (20)"),
        ({"endpoints.3.autoscaling.min": 0}, "endpoints[3].autoscaling.min: got 0; >= 1 provisioned concurrency"),
        ({"endpoints.3.autoscaling.target_invocations_per_instance": 10},
         "endpoints[3].autoscaling.target_invocations_per_instance: got 10.0; not on a serverless endpoint: it has no InvocationsPerInstance to track; use target_provisioned_concurrency_utilization"),
        # async
        ({"endpoints.4.model": None}, "endpoints[4].model: got None; a model (image and model data)"),
        ({"endpoints.4.instance_type": None}, "endpoints[4].instance_type: got None; an instance type (only serverless endpoints have none)"),
        ({"endpoints.4.autoscaling.target_invocations_per_instance": 5},
         "endpoints[4].autoscaling.target_invocations_per_instance: got 5.0; not on an async endpoint: it has no InvocationsPerInstance to track; use metric_targets or target_backlog_per_instance"),
        ({"endpoints.4.autoscaling.target_backlog_per_instance": None},
         "endpoints[4].autoscaling: got 'no target and no schedule'; at least one target (metric_targets, target_backlog_per_instance) or a schedule"),
        ({"endpoints.0.autoscaling.target_backlog_per_instance": 3},
         "endpoints[0].autoscaling.target_backlog_per_instance: got 3.0; not on a realtime endpoint: it has no ApproximateBacklogSizePerInstance to track"),
        # multi-model
        ({"endpoints.6.model.model_data_prefix": None},
         "endpoints[6].model.model_data_prefix: got None; the s3://bucket/prefix/ of the models (multi-model endpoints load models from it)"),
        ({"endpoints.6.model.model_data_prefix": "s3://acme-ml-models/tenants"},
         "endpoints[6].model.model_data_prefix: got 's3://acme-ml-models/tenants'; an s3://bucket/prefix/ URI ending with '/'"),
        ({"endpoints.6.model.model_data_url": "s3://acme-ml-models/x/model.tar.gz"},
         "endpoints[6].model.model_data_url: got 's3://acme-ml-models/x/model.tar.gz'; not on a multi-model endpoint: use model_data_prefix"),
        ({"endpoints.0.model.model_data_prefix": "s3://acme-ml-models/tenants/"},
         "endpoints[0].model.model_data_prefix: got 's3://acme-ml-models/tenants/'; only on a multi-model endpoint"),
        # shadow variants
        ({"endpoints.1.shadow_variants": [{"name": "challenger", "model": {"image": IMAGE}, "instance_type": "ml.g5.xlarge"}]},
         "endpoints[1].shadow_variants: got 1; exactly one shadow variant next to exactly one production variant (got 2 production variants)"),
        ({"endpoints.2.instance_type": "ml.inf1.xlarge"},
         "endpoints[2].instance_type: got 'ml.inf1.xlarge'; no Inf1 instances with shadow variants (SageMaker excludes them from shadow tests)"),
        # inference components
        ({"endpoints.5.model": {"image": IMAGE}},
         "endpoints[5].model: got '(set)'; none on an inference-component endpoint: models belong to its components"),
        ({"endpoints.5.instance_type": None}, "endpoints[5].instance_type: got None; an instance type (only serverless endpoints have none)"),
        ({"endpoints.5.components": []}, "endpoints[5].components: got []; at least one component (name, model, memory_mb)"),
        ({"endpoints.5.components.0.name": "a-component-name-long-enough-to-overflow-the-limit"},
         "'acme-ml-dev-llm-hosting-a-component-name-long-enough-to-overflow-the-limit' (endpoint-component) has at most 63 characters"),
        ({"endpoints.5.instance_type": "ml.c5.4xlarge"}, "endpoints[5].components[0].accelerators: got 1; none: the endpoint's ml.c5.4xlarge has no accelerators"),
        ({"endpoints.5.components.0.autoscaling.max_copies": 0}, "endpoints[5].components[0].autoscaling.max_copies: got 0"),
        ({"endpoints.5.components.0.autoscaling": {"min_copies": 3, "max_copies": 2, "target_concurrent_requests_per_copy": 4}},
         "endpoints[5].components[0].autoscaling.min_copies: got 3; <= max_copies (2)"),
        ({"endpoints.5.components.0.copies": 5},
         "endpoints[5].components[0].copies: got 5; between autoscaling.min_copies (0) and max_copies (4)"),
        ({"endpoints.5.components.0.autoscaling": {"min_copies": 0, "max_copies": 2}},
         "endpoints[5].components[0].autoscaling: got 'no target'; target_concurrent_requests_per_copy, target_invocations_per_copy, both, or a schedule"),
        ({"endpoints.5.deployment": {"strategy": "canary"}},
         "endpoints[5].deployment: got 'canary'; none on an inference-component endpoint: its components roll their copies on update"),
        ({"endpoints.5.components.0.autoscaling.schedules.0.time_zone": "Mars/Olympus"},
         "endpoints[5].components[0].autoscaling.schedules[0].time_zone: got 'Mars/Olympus'; an IANA time zone"),
        ({"endpoints.5.instance_count": 3}, "endpoints[5].instance_count: got 3; between autoscaling.min (0) and autoscaling.max (2)"),
        # deployment guardrails
        ({"endpoints.1.deployment": {"strategy": "rolling"}},
         "endpoints[1].deployment.strategy: got 'rolling'; rolling updates only for single-variant endpoints; use blue/green (all-at-once, canary, linear)"),
        ({"endpoints.0.instance_type": "ml.inf1.xlarge"},
         "endpoints[0].deployment.strategy: got 'canary'; all-at-once on ml.inf1.xlarge: Inf1 endpoints support only all-at-once blue/green updates"),
        # autoscaling details
        ({"endpoints.1.variants.0.instance_count": 9},
         "endpoints[1].variants[0].instance_count: got 9; between autoscaling.min (1) and autoscaling.max (4)"),
        ({"endpoints.6.autoscaling": {"min": 2, "max": 4, "metric_targets": [{"metric": "GPUUtilization", "target": 70}]}},
         "endpoints[6].autoscaling.metric_targets[0].metric: got 'GPUUtilization'; a CPU metric: the variants' instance types have no GPUs"),
        ({"endpoints.6.autoscaling": {"min": 2, "max": 4, "metric_targets": [{"metric": "MemoryUtilization", "target": 150}]}},
         "endpoints[6].autoscaling.metric_targets[0].target: got 150.0; a percentage in (0, 100]"),
        ({"endpoints.1.autoscaling.schedules.1.name": "office-hours"},
         "endpoints[1].autoscaling.schedules[1].name: got 'office-hours'; a schedule name unique within the endpoint"),
        ({"endpoints.1.autoscaling.schedules.0.time_zone": "Mars/Olympus"},
         "endpoints[1].autoscaling.schedules[0].time_zone: got 'Mars/Olympus'; an IANA time zone such as Europe/Berlin"),
        ({"endpoints.1.autoscaling.schedules.0": {"name": "office-hours", "schedule": "cron(0 8 * * ? *)"}},
         "endpoints[1].autoscaling.schedules[0]: got 'office-hours'; min, max or both"),
        ({"endpoints.1.autoscaling.schedules.0": {"name": "office-hours", "schedule": "cron(0 8 * * ? *)", "min": 0}},
         "endpoints[1].autoscaling.schedules[0].min: got 0; >= 1"),
        ({"endpoints.1.autoscaling.schedules.0": {"name": "office-hours", "schedule": "cron(0 8 * * ? *)", "min": 3, "max": 2}},
         "endpoints[1].autoscaling.schedules[0].min: got 3; <= max (2)"),
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


# One config model per endpoint type: a key of another type is unknown for this one (schema, not a rule).
_SERVERLESS_KEYS = (
    "alarms, autoscaling, container_startup_timeout_seconds, customer_facing, deployment, model, "
    "model_download_timeout_seconds, name, serverless, slo, stack, type, volume_kms_key"
)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"endpoints.3.variants": [{"name": "a", "model": {"image": IMAGE}, "instance_type": "ml.c5.xlarge"}]},
         r"endpoints\[3\]\.variants: got \[.*\]; unknown key for type serverless; allowed keys: " + _SERVERLESS_KEYS + "$"),
        ({"endpoints.0.serverless": {"memory_mb": 2048, "max_concurrency": 5}},
         (r"endpoints\[0\]\.serverless: got \{'memory_mb': 2048, 'max_concurrency': 5\}; unknown key for type realtime; "
         r"allowed keys: alarms, autoscaling, ")),
        ({"endpoints.0.async_inference": {}}, r"endpoints\[0\]\.async_inference: got \{\}; unknown key for type realtime; allowed keys: "),
        ({"endpoints.6.components": [{"name": "x", "model": {"image": IMAGE}, "memory_mb": 1024}]},
         r"endpoints\[6\]\.components: got \[.*\]; unknown key for type multi-model; allowed keys: alarms, autoscaling, "),
        ({"endpoints.4.shadow_variants": []}, r"endpoints\[4\]\.shadow_variants: got \[\]; unknown key for type async; "),
        ({"endpoints.3.instance_type": "ml.g5.xlarge"},
         r"endpoints\[3\]\.instance_type: got 'ml\.g5\.xlarge'; unknown key for type serverless; allowed keys: " + _SERVERLESS_KEYS),
        ({"endpoints.3.instance_count": 2}, r"endpoints\[3\]\.instance_count: got 2; unknown key for type serverless; "),
        ({"endpoints.3.data_capture": {"sampling_percent": 5}},
         r"endpoints\[3\]\.data_capture: got \{'sampling_percent': 5\}; unknown key for type serverless; "),
        ({"endpoints.3.network_isolation": True}, r"endpoints\[3\]\.network_isolation: got True; unknown key for type serverless; "),
        ({"endpoints.3.routing": "RANDOM"}, r"endpoints\[3\]\.routing: got 'RANDOM'; unknown key for type serverless; "),
        ({"endpoints.5.autoscaling.target_invocations_per_instance": 5},
         (r"endpoints\[5\]\.autoscaling\.target_invocations_per_instance: got 5; unknown key for type inference-components "
         r"\(managed instance scaling takes only min and max; copies scale per component: components\[\]\.autoscaling\); "
         r"allowed keys: max, min$")),
        ({"endpoints.5.autoscaling.schedules": [{"name": "night", "schedule": "rate(1 day)", "max": 1}]},
         r"endpoints\[5\]\.autoscaling\.schedules: got \[.*\]; unknown key for type inference-components "),
    ],
)
def test_a_key_of_another_type_is_unknown_for_the_type(changes, expected):
    """The key path, the value and the keys the type has; one problem for the key, no rule on top of it."""
    with pytest.raises(PlatformValidationError, match=expected) as info:
        parse_config(cfg(**changes), source="test.yaml")
    assert len(info.value.problems) == 1, info.value.problems


@pytest.mark.parametrize("given", [5, None, "Realtime"])
def test_a_type_that_names_no_kind_is_refused_with_the_value_given(given):
    with pytest.raises(
        PlatformValidationError,
        match=rf"endpoints\[0\]\.type: got {given!r}; one of realtime, serverless, async, inference-components, multi-model$",
    ):
        parse_config(cfg(**{"endpoints.0.type": given}), source="test.yaml")


def test_problems_of_endpoints_of_several_types_come_out_in_one_run():
    """Unknown keys of three types (schema), a bad type and rules of a fourth and fifth type, reported together."""
    data = cfg(**{
        "endpoints.0.async_inference": {},  # realtime: unknown key
        "endpoints.3.instance_count": 2,  # serverless: unknown key
        "endpoints.3.serverless.memory_mb": 3000,  # serverless: a rule of the same entry
        "endpoints.4.autoscaling.target_invocations_per_instance": 5,  # async: a rule (the library's scaling targets)
        "endpoints.5.autoscaling.schedules": [],  # inference-components: unknown key
        "endpoints.6.type": "batch",  # no such type
    })
    found = problems_of(data)
    assert found[:4] == [
        ("endpoints[0].async_inference: got {}; unknown key for type realtime; allowed keys: alarms, autoscaling, "
        "container_startup_timeout_seconds, customer_facing, data_capture, deployment, fallback_instance_types, "
        "instance_count, instance_type, model, model_download_timeout_seconds, name, network_isolation, "
        "provision_timeout_seconds, routing, shadow_variants, slo, stack, type, variants, volume_kms_key, volume_size_gb"),
        "endpoints[3].instance_count: got 2; unknown key for type serverless; allowed keys: " + _SERVERLESS_KEYS,
        ("endpoints[5].autoscaling.schedules: got []; unknown key for type inference-components (managed instance scaling "
        "takes only min and max; copies scale per component: components[].autoscaling); allowed keys: max, min"),
        "endpoints[6].type: got 'batch'; one of realtime, serverless, async, inference-components, multi-model",
    ]
    assert any(p.startswith("endpoints[3].serverless.memory_mb: got 3000; one of 1024, 2048") for p in found[4:]), found
    assert any(p.startswith("endpoints[4].autoscaling.target_invocations_per_instance: got 5.0;") for p in found[4:]), found


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
            "endpoints[0].shadow_variants: got 1; exactly one shadow variant next to exactly one production variant (got 2 "
            "production variants): CreateEndpointConfig allows one of each when ShadowProductionVariants is set"
        )
    ]
    data["endpoints"][0]["variants"].pop()  # one production variant: valid
    config = parse_config(data)
    assert [(e.name, e.type) for e in config.endpoints] == [
        ("ranker", "realtime"), ("embeddings", "serverless"), ("batch-scoring", "async"),
        ("llm-hosting", "inference-components"), ("many-models", "multi-model"),
    ]
    assert config.endpoints[3].components[0].autoscaling.target_concurrent_requests_per_copy == 4


# -- one set of rules: the config runs the library's checkers ----------------------------------------
def _library_problems(**props):
    """The problems ``InferenceEndpoint`` raises for ``props`` (a small valid realtime endpoint otherwise)."""
    from aws_cdk import App, Stack

    from constructs_lib import InferenceEndpoint, ModelSpec, VariantSpec

    model = ModelSpec(image=IMAGE, model_data_url="s3://acme-ml-models/x/model.tar.gz")
    props.setdefault("variants", [VariantSpec(model=model, instance_type="ml.c5.xlarge")])
    with pytest.raises(PlatformValidationError) as info:
        InferenceEndpoint(Stack(App(), "Lib"), "Endpoint", endpoint_name="e", **props)
    assert info.value.subject == "InferenceEndpoint Lib/Endpoint"
    return info.value.problems


def _twins():
    from constructs_lib import (
        AutoScalingSpec,
        DeploymentSpec,
        EndpointKind,
        ModelSpec,
        ScheduledScalingSpec,
        ServerlessSpec,
        VariantSpec,
    )

    model = ModelSpec(image=IMAGE, model_data_url="s3://acme-ml-models/x/model.tar.gz")
    schedule = ScheduledScalingSpec(name="a", schedule="rate(5 weeks)", min_capacity=1)
    return [
        pytest.param({"endpoints.1.autoscaling.schedules.0.schedule": "rate(5 weeks)"}, "endpoints[1].autoscaling.schedules[0].schedule",
                     dict(autoscaling=AutoScalingSpec(min_capacity=1, max_capacity=1, target_invocations_per_instance=5, schedules=(schedule,))),
                     "autoscaling.schedules[0].schedule", id="schedule"),
        pytest.param({"endpoints.1.variants.0.weight": 0, "endpoints.1.variants.1.weight": 0}, "endpoints[1].variants[*].weight",
                     dict(variants=[VariantSpec(model=model, instance_type="ml.c5.xlarge", weight=0)]), "variants[*].weight", id="weight"),
        pytest.param({"endpoints.0.deployment.canary_percent": 60}, "endpoints[0].deployment.canary_percent",
                     dict(deployment=DeploymentSpec(canary_percent=60)), "deployment.canary_percent", id="canary"),
        pytest.param({"endpoints.0.instance_count": 0}, "endpoints[0].instance_count",
                     dict(variants=[VariantSpec(model=model, instance_type="ml.c5.xlarge", instance_count=0)]),
                     "variants[0].instance_count", id="shorthand-instance-count"),
        pytest.param({"endpoints.3.serverless.memory_mb": 3000}, "endpoints[3].serverless.memory_mb",
                     dict(kind=EndpointKind.SERVERLESS, variants=[VariantSpec(model=model, serverless=ServerlessSpec(memory_mb=3000, max_concurrency=5))]),
                     "variants[0].serverless.memory_mb", id="serverless-memory"),
        pytest.param({"endpoints.0.autoscaling.min": 0}, "endpoints[0].autoscaling.min",
                     dict(autoscaling=AutoScalingSpec(min_capacity=0, max_capacity=4, target_invocations_per_instance=5)),
                     "autoscaling.min_capacity", id="scaling-floor"),
    ]


@pytest.mark.parametrize(("changes", "config_path", "props", "library_path"), _twins())
def test_config_and_library_report_the_same_rule_in_the_same_words(changes, config_path, props, library_path):
    """One rule, two prefixes: the config's message is the construct's, at the config key path (prop names
    quoted inside a message are renamed too, e.g. ``max_capacity`` -> ``max``)."""
    library = {p.allowed for p in _library_problems(**props) if p.where == library_path}
    config = {p.split("; ", 1)[1] for p in problems_of(cfg(**changes)) if p.startswith(config_path + ": ")}
    assert library and library <= config, (library, config)


def _message_literals(path) -> set[str]:
    """The constant text of every ``allowed`` argument of ``p.add``/``p.check`` calls in a module."""
    import ast
    from pathlib import Path

    out = set()
    for node in ast.walk(ast.parse(Path(path).read_text())):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("add", "check"):
            last = node.args[-1] if node.args else None
            parts = [last] if isinstance(last, ast.Constant) else list(last.values) if isinstance(last, ast.JoinedStr) else []
            out |= {p.value.strip(" :(),") for p in parts if isinstance(p, ast.Constant) and isinstance(p.value, str)}
    return {text for text in out if len(text) >= 12}


def test_each_endpoint_rule_message_lives_in_one_module():
    """grep finds every endpoint rule's words in the library only, and the config's own rules in the config only."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    library = set()
    for module in ("constructs_lib/inference/_validation.py", "constructs_lib/observability/endpoint_monitoring.py",
                   "constructs_lib/observability/slo.py"):
        library |= _message_literals(root / module)
    config_sources = {p: p.read_text() for p in (root / "stacks").rglob("*.py")}
    assert len(library) > 80
    for text in sorted(library):
        copies = [p.name for p, source in config_sources.items() if text in source]
        assert not copies, f"{text!r} is written again in {copies}"
    library_sources = {p: p.read_text() for p in (root / "constructs_lib").rglob("*.py")}
    for text in sorted(_message_literals(root / "stacks/config/semantics.py")):
        copies = [p.name for p, source in library_sources.items() if text in source]
        assert not copies, f"{text!r} is written again in {copies}"


# -- images in the deployment region (stacks/config/regions.py) ------------------------------------------
def test_images_outside_platform_region_are_refused_naming_each_key():
    """CreateModel needs the image in the model's region (ContainerDefinition.Image): with platform.region
    every ECR image must be in it. The default config's images are all in us-east-1."""
    found = problems_of(cfg(**{"platform.region": "eu-west-1"}))
    image = [p for p in found if ".image: got '" in p or "inference_image: got '" in p]
    assert [p.split(":", 1)[0] for p in image] == [
        "endpoints[0].model.image", "endpoints[1].variants[0].model.image", "endpoints[1].variants[1].model.image",
        "endpoints[2].model.image", "endpoints[2].shadow_variants[0].model.image", "endpoints[3].model.image",
        "endpoints[4].model.image", "endpoints[5].components[0].model.image", "endpoints[6].model.image",
        "lifecycle.register_models_from_training.inference_image", "training_pipelines[0].inference_image",
    ]
    with pytest.raises(PlatformValidationError, match=(
        r"endpoints\[0\]\.model\.image: got '763104351884\.dkr\.ecr\.us-east-1\.amazonaws\.com/huggingface-pytorch-tgi"
        r"[^']*'; an image in platform\.region eu-west-1 \(SageMaker needs images in the region of the model; "
        r"copy the image to an ECR repository there\)")):
        parse_config(cfg(**{"platform.region": "eu-west-1"}), source="test.yaml")


def test_images_in_platform_region_pass():
    eu = IMAGE.replace("us-east-1", "eu-west-1")
    data = cfg(**{"platform.region": "eu-west-1"})
    data["endpoints"] = [{"name": "scorer", "model": {"image": eu}, "instance_type": "ml.c5.xlarge"}]
    data["lifecycle"] = {}
    for section in ("training_clusters", "training_pipelines", "training", "network", "budgets"):  # budgets name the removed ones
        data.pop(section, None)
    config = parse_config(data, source="eu.yaml")
    assert config.endpoints[0].model.image == eu


def test_without_platform_region_images_must_share_one_region():
    eu = IMAGE.replace("us-east-1", "eu-west-1")
    found = problems_of(cfg(**{"endpoints.1.variants.1.model.image": eu}))
    assert found == [(
        f"endpoints[1].variants[1].model.image: got '{eu}'; an image in us-east-1, the region of "
        "endpoints[0].model.image: templates without platform.region deploy to one region, and SageMaker "
        "needs every image in the region of its model"
    )]


def test_region_of_ecr_uris_only():
    from stacks.config.regions import ecr_region

    assert ecr_region(IMAGE) == "us-east-1"
    assert ecr_region("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/repo:1") == "cn-north-1"
    assert ecr_region("s3://acme-ml-models/chat-llm/model.tar.gz") is None  # S3 URIs carry no region
    assert ecr_region(None) is None
