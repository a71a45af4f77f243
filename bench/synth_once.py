"""One synth, the way ``cdk synth`` runs the app, for the default-vs-empty ratio of ``python -m bench``.

``python -m bench.synth_once platform [CONFIG] OUTDIR``: the platform of CONFIG (default
``configs/default.yaml``); ``python -m bench.synth_once empty OUTDIR``: an app of one stack with one
SNS topic. Both read cdk.json's context, build, and call ``app.synth()`` with CDK's default validation
(construct validations; the platform adds its size-check plugin) and without the nag packs
(``python -m bench`` reports their cost separately). Run in a fresh interpreter, so each pays its own start-up (Python imports, the
jsii runtime loading aws-cdk-lib), as every ``cdk synth`` does.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

KINDS = ("platform", "empty")


def synth(kind: str, outdir: Path, config_path: Path | None = None) -> None:
    from aws_cdk import App, Stack
    from aws_cdk import aws_sns as sns

    app = App(context=json.loads((REPO / "cdk.json").read_text())["context"], outdir=str(outdir))
    if kind == "empty":
        sns.Topic(Stack(app, "empty"), "Topic")
    elif kind == "platform":
        from stacks.config import DEFAULT_CONFIG, load_config
        from stacks.platform import build_platform

        build_platform(app, load_config(config_path or DEFAULT_CONFIG))
    else:
        raise ValueError(f"kind {kind!r}: one of {', '.join(KINDS)}")
    app.synth()


if __name__ == "__main__":
    kind, *rest = sys.argv[1:]
    synth(kind, Path(rest[-1]), Path(rest[0]) if len(rest) == 2 else None)
