"""The config contract: every bad value is refused with its key path, value and what is allowed."""

from __future__ import annotations

import copy

import pytest
import yaml

from constructs_lib.errors import PlatformValidationError
from stacks.config import DEFAULT_CONFIG, load_config, parse_config

BASE = yaml.safe_load(DEFAULT_CONFIG.read_text())


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
    assert [e.name for e in config.endpoints] == ["chat-llm"]


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
         "endpoints[0].autoscaling.target_invocations_per_instance: got None; a target for a realtime endpoint"),
        ({"endpoints.0.instance_type": "ml.t2.medium", "endpoints.0.instance_count": 2},
         "endpoints[0].autoscaling: got 'ml.t2.medium'; no autoscaling on burstable ml.t* instances"),
        ({"endpoints.0.deployment": {"wait_minutes": 10, "termination_wait_minutes": 5, "max_execution_minutes": 12}},
         "endpoints[0].deployment.max_execution_minutes: got 12; greater than wait_minutes + termination_wait_minutes"),
        ({"endpoints.0.alarms": {"evaluation_periods": 2, "datapoints_to_alarm": 3}},
         "endpoints[0].alarms.datapoints_to_alarm: got 3; at most evaluation_periods (2)"),
        ({"endpoints.0.type": "serverless"}, "endpoints[0].type: got 'serverless'; not supported yet; supported today: realtime"),
        ({"endpoints.0.model": None}, "endpoints[0].model: got None; a model (image and model_data_url) for a realtime endpoint"),
        ({"endpoints.0.name": "a-very-long-endpoint-name-that-will-not-fit-in-sixty-three-chars"},
         "'acme-ml-dev-a-very-long-endpoint-name-that-will-not-fit-in-sixty-three-chars' (platform-environment-name) has at most 63"),
        ({"training_clusters": [{"name": "x"}]}, "training_clusters: got '(set)'; not supported yet"),
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
    assert "endpoints[1].name: got 'chat-llm'; a unique name (endpoints[0] has it)" in problems_of(data)


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
