"""The platform's names, derived in one place: stack names, physical names and parameter paths.

``build_platform`` (stacks/platform.py) builds one :class:`PlatformNames` from the config and passes it
to every stack; the config's own length checks (which run before any stack exists) build theirs from the
same platform section. Every name here is part of the deployed contract: changing one renames (replaces)
the resource, so tests pin them (tests/test_update_safety.py, tests/default_logical_ids.json).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_cdk import Aws

MAX_PHYSICAL_NAME = 63  # SageMaker endpoint, inference component, HyperPod and EKS cluster names


def physical_name(prefix: str, name: str) -> str:
    """``acme-ml-dev`` + ``ranker``: the rule of every prefixed name (for callers that hold only the
    prefix, such as the config's checks before the platform section is known to be valid)."""
    return f"{prefix}-{name}"


def construct_id(name: str) -> str:
    """``chat-llm`` -> ``ChatLlm``: the construct id part of a config name (``ChatLlmEndpoint``,
    ``ChatLlmDashboard``, ``<Cluster>Cluster``, ``<Pipeline>Training``). Part of every logical id below it."""
    return "".join(part.capitalize() for part in name.split("-"))


def shard_stack_name(prefix: str, key: str) -> str:
    """``acme-ml-dev-inference`` for hash shard 1, ``acme-ml-dev-inference-<key>`` otherwise."""
    return physical_name(prefix, "inference") if key == "1" else physical_name(prefix, f"inference-{key}")


@dataclass(frozen=True)
class PlatformNames:
    """Names of one platform environment (``platform.name`` + ``platform.environment``)."""

    platform: str
    environment: str

    @classmethod
    def of(cls, config: Any) -> PlatformNames:
        """From a validated ``PlatformConfig``."""
        return cls(platform=config.platform.name, environment=config.platform.environment)

    @property
    def prefix(self) -> str:
        """``acme-ml-dev``: the prefix of stack names and physical names."""
        return f"{self.platform}-{self.environment}"

    def named(self, name: str) -> str:
        """``acme-ml-dev-<name>``: the physical name of a platform resource that is unique per account
        (and region): endpoints, HyperPod and EKS clusters, budgets, topics' prefixes."""
        return physical_name(self.prefix, name)

    # -- stacks ------------------------------------------------------------------------------------
    def stack(self, concern: str) -> str:
        """``acme-ml-dev-data``, ``acme-ml-dev-lifecycle``, ...: stack name and construct id."""
        return self.named(concern)

    def shard_stack(self, key: str) -> str:
        """``acme-ml-dev-inference`` for hash shard 1, ``acme-ml-dev-inference-<key>`` otherwise."""
        return shard_stack_name(self.prefix, key)

    def training_shard_stack(self, key: str) -> str:
        """``acme-ml-dev-training-<key>``: a training shard (``training_clusters[].stack``,
        ``training_pipelines[].stack``)."""
        return self.named(f"training-{key}")

    def description(self, text: str) -> str:
        return f"{self.prefix}: {text}"

    # -- resources ---------------------------------------------------------------------------------
    def endpoint(self, name: str) -> str:
        """``acme-ml-dev-ranker``: endpoint names are unique per account and region."""
        return self.named(name)

    @property
    def endpoint_prefix(self) -> str:
        """``acme-ml-dev-``: every platform endpoint's name starts with it."""
        return f"{self.prefix}-"

    def cluster(self, name: str) -> str:
        """``acme-ml-dev-llm-pretrain``: HyperPod cluster names (and a created EKS cluster's) are unique
        per account and region."""
        return self.named(name)

    def budget(self, scope: str) -> str:
        """``acme-ml-dev-platform``, ``acme-ml-dev-team-search``: unique per account."""
        return self.named(scope)

    def pipeline(self, name: str) -> str:
        """``acme-ml-dev-pipeline-<name>``: a training pipeline's alarm prefix and dashboard ("pipeline-":
        an endpoint or cluster may have the same name)."""
        return self.named(f"pipeline-{name}")

    @property
    def overview(self) -> str:
        """``acme-ml-dev-overview``: the platform overview's front page (shard pages add ``-<key>``)."""
        return self.named("overview")

    def overview_page(self, shard_key: str) -> str:
        """``acme-ml-dev-overview-<key>``: the overview's page of one inference shard."""
        return f"{self.overview}-{shard_key}"

    @property
    def training(self) -> str:
        """``acme-ml-dev-training``: the training ECR repository and the Prometheus workspace alias."""
        return self.named("training")

    @property
    def key_alias(self) -> str:
        return f"alias/{self.prefix}"

    @property
    def artifact_bucket(self) -> str:
        """``acme-ml-dev-artifacts-<account>-<region>`` (tokens: bucket names are global): unique, stable,
        importable by name from other stacks. At most 63 characters: platform.name is at most 15,
        environment at most 7 (``staging``)."""
        return f"{self.prefix}-artifacts-{Aws.ACCOUNT_ID}-{Aws.REGION}"

    # -- SSM parameter paths -----------------------------------------------------------------------
    def parameter_path(self, *parts: str) -> str:
        """``/acme-ml/dev/<parts>``."""
        return "/" + "/".join((self.platform, self.environment, *parts))

    def promotion_path(self, endpoint: str, variant: str) -> str:
        """``/<platform>/<environment>/promotion/<endpoint>/<variant>``: the variant's promotion parameters
        are ``<path>/image`` and ``<path>/model-data``."""
        return self.parameter_path("promotion", endpoint, variant)

    @property
    def training_parameters(self) -> str:
        """Default path of the training platform's parameters."""
        return self.parameter_path("training")
