#!/usr/bin/env python3
"""CDK app entry point: the only place that reads context, files or the environment.

Select a config with ``-c config=PATH`` (default: configs/default.yaml). A bad config exits
non-zero with one message listing every problem; a compliance finding fails synth.

``-c local_emulation=true`` (used only by ``make deploy-local``, see stacks/local_deploy.py) selects
strong cross-stack references (``Fn::ImportValue``): the moto server does not resolve the weak
``Fn::GetStackOutput`` the production templates use. Nothing else in the app changes.
"""

from __future__ import annotations

import os
import sys

# The jsii runtime (Node) prints an end-of-life banner on Node 20; the project runs on it knowingly.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from aws_cdk import App

from constructs_lib import PlatformValidationError, add_compliance_checks
from stacks.config import DEFAULT_CONFIG, load_config
from stacks.config.environments import override_report
from stacks.cost import estimate
from stacks.platform import build_platform


def main() -> int:
    app = App()
    if str(app.node.try_get_context("local_emulation")).lower() == "true":
        app.node.set_context("@aws-cdk/core:defaultCrossStackReferences", "strong")
    config_path = app.node.try_get_context("config") or str(DEFAULT_CONFIG)
    try:
        config = load_config(config_path)
        build_platform(app, config)
    except PlatformValidationError as err:
        print(f"error: invalid platform configuration\n{err}", file=sys.stderr)
        return 1
    for line in override_report(config):
        print(line, file=sys.stderr)
    print(estimate(config).summary(), file=sys.stderr)
    add_compliance_checks(app)
    try:
        app.synth()
    except RuntimeError as err:  # jsii surfaces validation failures (e.g. cdk-nag findings) this way
        print(f"error: synth failed\n{err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
