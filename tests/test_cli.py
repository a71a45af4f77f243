"""The real entry points: the pinned cdk CLI on app.py, and the library installed with pip."""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO

CDK = REPO / "node_modules" / ".bin" / "cdk"
ENV = {
    **os.environ,
    "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    "CDK_DISABLE_CLI_TELEMETRY": "true",
    "CDK_DISABLE_VERSION_CHECK": "true",
}


def _cdk(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run([str(CDK), *args], cwd=cwd, env=ENV, capture_output=True, text=True, timeout=300, check=False)


@pytest.mark.xdist_group("cli")
def test_cdk_cli_refuses_bad_config_without_traceback(tmp_path):
    data = yaml.safe_load((REPO / "configs" / "default.yaml").read_text())
    ep = data["endpoints"][0]
    ep["instnce_count"] = 2
    ep["instance_count"] = -1
    ep["instance_type"] = "ml.g5.huge"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data))
    result = _cdk("synth", "--quiet", "-c", f"config={bad}", "-o", str(tmp_path / "out"))
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "4 problem(s)" in output  # the unknown key does not hide the entry's rule problems
    for where in ("endpoints[0].instnce_count", "endpoints[0].instance_count", "endpoints[0].instance_type"):
        assert where in output
    assert "Traceback" not in output
    assert "end-of-life" not in output  # the Node 20 banner is silenced by the project's settings


def _without_cli_metadata(body: dict) -> dict:
    """A template without what only the CLI adds: path and asset metadata on resources and the version
    reporting resource (the CLI's --path-metadata, --asset-metadata and --version-reporting, all on by
    default)."""
    body = json.loads(json.dumps(body))
    resources = body["Resources"]
    resources.pop("CDKMetadata", None)
    body.get("Conditions", {}).pop("CDKMetadataAvailable", None)
    if not body.get("Conditions", True):
        del body["Conditions"]
    for resource in resources.values():
        for key in [k for k in resource.get("Metadata", {}) if k == "aws:cdk:path" or k.startswith("aws:asset:")]:
            del resource["Metadata"][key]
        if resource.get("Metadata") == {}:
            del resource["Metadata"]
    return body


@pytest.mark.xdist_group("cli")
def test_cdk_cli_synthesizes_default_config(tmp_path, default_platform):
    """``cdk synth`` through cdk.json and app.py writes the very templates the in-process synth of the
    default config wrote with CDK's template validation on (``default_platform``), plus the CLI's
    metadata. So this run skips that validation (``CDK_VALIDATION=false``, AppProps
    builtinCloudFormationValidation): starting its engine again and checking the same templates a second
    time cost about 10 of this run's CPU-s (measured); a difference in any template fails here."""
    out = tmp_path / "cdk.out"
    result = subprocess.run([str(CDK), "synth", "--quiet", "-o", str(out)], cwd=REPO, env={**ENV, "CDK_VALIDATION": "false"},
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    names = sorted(p.name for p in out.glob("*.template.json"))
    assert names == [
        f"acme-ml-dev-{c}.template.json"
        for c in ("cost", "data", "inference", "lifecycle", "network", "observability", "training")
    ]
    for name in names:
        cli = json.loads((out / name).read_text())
        assert "CDKMetadata" in cli["Resources"]  # the CLI's own additions are there, and only they differ
        assert _without_cli_metadata(cli) == json.loads((default_platform.outdir / name).read_text()), name
    assert "end-of-life" not in result.stdout + result.stderr
    # issue 14: synth prints the dated estimate of always-on capacity
    assert "Estimated monthly cost of always-on capacity: $7,897 (estimate: on-demand us-east-1 prices as of" in result.stderr


@pytest.mark.xdist_group("pip")
def test_pip_installed_library_synthesizes_an_endpoint_outside_the_repo(installed_library, tmp_path):
    py = installed_library
    app = tmp_path / "outside_app.py"
    app.write_text(textwrap.dedent(
        """
        from aws_cdk import App, Stack
        from constructs_lib import InferenceEndpoint, ModelSpec, VariantSpec, EndpointFailureNotifications
        from constructs_lib import PlatformKey, NotificationTopic, add_compliance_checks
        # The public API the issues promise from a pip install:
        from constructs_lib import InferenceComponent, HyperPodCluster, EndpointMonitoring, ClusterMonitoring

        app = App(outdir="out")
        stack = Stack(app, "Outside")
        key = PlatformKey(stack, "Key", alias="alias/outside").key
        topic = NotificationTopic(stack, "Topic", key=key, display_name="outside").topic
        InferenceEndpoint(
            stack, "Endpoint", endpoint_name="outside-endpoint", alarm_topic=topic, encryption_key=key,
            variants=[VariantSpec(
                model=ModelSpec(image="123456789012.dkr.ecr.us-east-1.amazonaws.com/model:1"),
                instance_type="ml.c5.xlarge")],
        )
        EndpointFailureNotifications(stack, "Notify", endpoint_names=["outside-endpoint"], topic=topic, key=key)
        add_compliance_checks(app)
        app.synth()
        print("synthesized")
        """
    ))
    # CDK's built-in CloudFormation validation off (AppProps.builtinCloudFormationValidation: "Set
    # CDK_VALIDATION=false in your environment"): in an App without @aws-cdk/core:validateAgainstDefaultRules
    # it only warns (aws-cdk-lib downgrades its errors), so it can fail nothing here, and starting its WASM
    # engine cost 12 of this synth's 13 CPU-s (measured). The platform's templates are validated, as errors,
    # by every in-process synth (tests/conftest.py new_app) and the CLI synth above.
    run = subprocess.run([str(py), str(app)], cwd=tmp_path, env={**ENV, "CDK_VALIDATION": "false"},
                         capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "synthesized" in run.stdout
    template = (tmp_path / "out" / "Outside.template.json").read_text()
    assert '"AWS::SageMaker::Endpoint"' in template and '"outside-endpoint"' in template
    # The notifier's Lambda code shipped inside the wheel, and Powertools in the stack's layer.
    assets = [p for p in (tmp_path / "out").iterdir() if p.is_dir() and p.name.startswith("asset.")]
    assert any((a / "handler.py").exists() and (a / "lambda_common.py").exists() for a in assets)
    assert any((a / "python" / "aws_lambda_powertools" / "__init__.py").is_file() for a in assets)
    assert '"AWS::Lambda::LayerVersion"' in template
