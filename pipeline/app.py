#!/usr/bin/env python3
"""CDK app of the delivery pipeline (the platform's own app is ../app.py).

``npx cdk synth --app '.venv/bin/python pipeline/app.py'`` (``make pipeline``) from the repository
root; ``-c delivery=PATH`` selects another delivery file. Reads files and context only here.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from aws_cdk import App, Environment

from constructs_lib import PlatformValidationError, add_compliance_checks
from stacks.config.delivery import load_delivery
from stacks.delivery import DeliveryStack, PipelineSource
from stacks.platform import build_platform

DEFAULT_DELIVERY = REPO / "pipeline" / "delivery.yaml"
SYNTH_APP = ".venv/bin/python pipeline/app.py"


def build(app: App, delivery_path: Path) -> DeliveryStack:
    delivery, stages = load_delivery(delivery_path)
    cli_version = json.loads((REPO / "package.json").read_text())["devDependencies"]["aws-cdk"].lstrip("^~")
    return DeliveryStack(
        app, f"{delivery.pipeline_name}-delivery",
        env=Environment(account=delivery.account, region=delivery.region),
        source=PipelineSource(**delivery.source.model_dump()), stages=stages, build=build_platform,
        cli_version=cli_version, synth_app=SYNTH_APP, pipeline_name=delivery.pipeline_name,
        description=f"{delivery.pipeline_name}: CDK pipeline deploying the platform " + " -> ".join(s.name for s in stages),
    )


def main() -> int:
    app = App()
    path = Path(app.node.try_get_context("delivery") or DEFAULT_DELIVERY)
    try:
        build(app, path)
    except PlatformValidationError as err:
        print(f"error: invalid delivery configuration\n{err}", file=sys.stderr)
        return 1
    add_compliance_checks(app)
    try:
        app.synth()
    except RuntimeError as err:
        print(f"error: synth failed\n{err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
