"""``stacks.naming.PlatformNames``: every stack name, physical name and parameter path of a platform comes
from one object (built in ``build_platform`` and passed to every stack); the config's helpers and the
stacks agree with it. The names themselves are the deployed contract (tests/test_update_safety.py)."""

from __future__ import annotations

from aws_cdk import Token

from stacks.naming import PlatformNames, construct_id, physical_name, shard_stack_name

NAMES = PlatformNames(platform="acme-ml", environment="dev")


def test_names_of_one_platform_environment():
    assert NAMES.prefix == "acme-ml-dev"
    assert [NAMES.stack(c) for c in ("data", "network", "training", "observability", "lifecycle", "cost")] == [
        "acme-ml-dev-data", "acme-ml-dev-network", "acme-ml-dev-training", "acme-ml-dev-observability",
        "acme-ml-dev-lifecycle", "acme-ml-dev-cost",
    ]
    assert (NAMES.shard_stack("1"), NAMES.shard_stack("2"), NAMES.shard_stack("search")) == (
        "acme-ml-dev-inference", "acme-ml-dev-inference-2", "acme-ml-dev-inference-search",
    )
    assert shard_stack_name("acme-ml-dev", "7") == "acme-ml-dev-inference-7" == physical_name("acme-ml-dev", "inference-7")
    assert (NAMES.endpoint("ranker"), NAMES.endpoint_prefix, NAMES.cluster("llm-pretrain")) == (
        "acme-ml-dev-ranker", "acme-ml-dev-", "acme-ml-dev-llm-pretrain",
    )
    assert (NAMES.budget("team-search"), NAMES.pipeline("nightly"), NAMES.overview, NAMES.overview_page("2")) == (
        "acme-ml-dev-team-search", "acme-ml-dev-pipeline-nightly", "acme-ml-dev-overview", "acme-ml-dev-overview-2",
    )
    assert (NAMES.training, NAMES.key_alias, NAMES.description("VPC")) == (
        "acme-ml-dev-training", "alias/acme-ml-dev", "acme-ml-dev: VPC",
    )
    assert NAMES.artifact_bucket.startswith("acme-ml-dev-artifacts-") and Token.is_unresolved(NAMES.artifact_bucket)
    assert (NAMES.promotion_path("chat-llm", "AllTraffic"), NAMES.training_parameters) == (
        "/acme-ml/dev/promotion/chat-llm/AllTraffic", "/acme-ml/dev/training",
    )
    # Construct ids of config names: part of every logical id below them (tests/default_logical_ids.json).
    assert [construct_id(n) for n in ("chat-llm", "ranker", "acme-ml-dev-llm-pretrain")] == [
        "ChatLlm", "Ranker", "AcmeMlDevLlmPretrain",
    ]


def test_the_config_helpers_name_what_the_names_object_names(default_config):
    """The config's naming helpers give the default config's deployed names (the names object's, pinned
    above), and the training parameters follow a configured prefix instead of the default path. Every
    other physical name is read from the names object itself (no one-line wrappers around it)."""
    from stacks.config.endpoints import endpoint_physical_name
    from stacks.config.training import parameter_prefix

    config = default_config
    assert PlatformNames.of(config) == NAMES
    assert [endpoint_physical_name(config.prefix, ep) for ep in config.endpoints] == [
        "acme-ml-dev-chat-llm", "acme-ml-dev-ranker", "acme-ml-dev-fraud-scorer", "acme-ml-dev-embeddings",
        "acme-ml-dev-batch-scoring", "acme-ml-dev-llm-hosting", "acme-ml-dev-many-models",
    ]
    assert config.training.parameter_prefix is None and parameter_prefix(config) == "/acme-ml/dev/training"
    custom = config.model_copy(update={"training": config.training.model_copy(update={"parameter_prefix": "/team/ml"})})
    assert parameter_prefix(custom) == "/team/ml"


def test_the_platform_stacks_carry_the_names_objects_names(default_platform):
    """build_platform's stacks are named by the one object: every concern and shard."""
    platform = default_platform.platform
    assert {s.stack_name for s in platform.stacks} == {
        NAMES.stack(c) for c in ("data", "network", "training", "observability", "lifecycle", "cost")
    } | {NAMES.shard_stack("1")}
    assert platform.observability.overview_name == NAMES.overview
    assert {s.stack_name: s.template_options.description for s in platform.stacks}[NAMES.stack("data")] == (
        "acme-ml-dev: KMS key, artifact bucket, notification topic"
    )
