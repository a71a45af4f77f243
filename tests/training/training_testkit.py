"""Shared helpers of the training-construct tests (imported as ``training_testkit``; unique name, so
it never collides with the other test folders' ``conftest`` modules)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


REPO = Path(__file__).resolve().parents[2]
SCRIPTS_DIR = REPO / "constructs_lib" / "training" / "lifecycle_scripts"
AZS = ["us-east-1a", "us-east-1b"]
EKS_CLUSTER_ARN = "arn:aws:eks:us-east-1:123456789012:cluster/training"
EKS_CLUSTER_SG = "sg-0e1c2a3b4c5d6e7f8"
SLURM_CLUSTER = "llm-pretrain"
EKS_CLUSTER = "eks-train"


def cdk_context() -> dict[str, Any]:
    """The "context" of cdk.json: the feature flags every app of this project synthesizes with."""
    return json.loads((REPO / "cdk.json").read_text())["context"]


def new_app(outdir: Path | None = None):
    from aws_cdk import App

    return App(context=cdk_context(), outdir=str(outdir) if outdir else None)


def new_stack(name: str = "Test"):
    """A throw-away stack for validation tests (nothing is synthesized)."""
    from aws_cdk import Stack

    return Stack(new_app(), name)


@dataclass
class TrainingApp:
    outdir: Path
    stacks: dict[str, Any]
    templates: dict[str, dict[str, Any]]
    slurm: Any  # HyperPodCluster
    eks: Any  # HyperPodCluster
    network: Any  # TrainingNetwork
    storage: Any  # LustreStorage
    platform: Any  # TrainingPlatform
    operators: Any  # iam.Role used by the grant tests

    def template(self, stack: str):
        from aws_cdk.assertions import Template

        return Template.from_json(self.templates[stack])

    def resolve(self, stack: str, value: Any) -> Any:
        return self.stacks[stack].resolve(value)


def resources(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == resource_type}


def only(template: dict[str, Any], resource_type: str) -> tuple[str, dict[str, Any]]:
    found = resources(template, resource_type)
    assert len(found) == 1, f"expected one {resource_type}, found {sorted(found)}"
    return next(iter(found.items()))
