"""The delivery pipeline: CodePipeline V2, dev -> staging -> prod stages with a diff each, the test
step in the synth, a manual approval before prod; nag-checked (synth fails on a finding) and linted."""

from __future__ import annotations

import importlib.util
import json

import pytest

from constructs_lib.errors import PlatformValidationError
from tests.conftest import REPO, lint_matches, lint_template, new_app

PIPELINE_APP = REPO / "pipeline" / "app.py"
pytestmark = pytest.mark.xdist_group("delivery")  # one worker shares the module's synth


def _pipeline_module():
    spec = importlib.util.spec_from_file_location("pipeline_app", PIPELINE_APP)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# session: xdist may interleave other modules, which would rebuild a module-scoped synth
@pytest.fixture(scope="session")
def pipeline(tmp_path_factory):
    from constructs_lib import add_compliance_checks

    outdir = tmp_path_factory.mktemp("pipeline-cdk-out")
    app = new_app(outdir)
    stack = _pipeline_module().build(app, REPO / "pipeline" / "delivery.yaml")
    add_compliance_checks(app)
    app.synth()  # raises on any unacknowledged nag finding, in the pipeline stack and in every stage
    body = json.loads((outdir / f"{stack.artifact_id}.template.json").read_text())
    return stack, body, outdir


def _pipeline_props(body) -> dict:
    (props,) = [r["Properties"] for r in body["Resources"].values() if r["Type"] == "AWS::CodePipeline::Pipeline"]
    return props


def test_pipeline_is_v2_with_source_build_and_three_stages_in_order(pipeline):
    _, body, _ = pipeline
    props = _pipeline_props(body)
    assert props["PipelineType"] == "V2"
    names = [s["Name"] for s in props["Stages"]]
    assert names == ["Source", "Build", "UpdatePipeline", "Assets", "Dev", "Staging", "Prod"]
    source = props["Stages"][0]["Actions"][0]
    assert source["ActionTypeId"] == {"Category": "Source", "Owner": "AWS", "Provider": "CodeStarSourceConnection", "Version": "1"}
    assert source["Configuration"]["FullRepositoryId"] == "acme/aiplatform-cdk"
    assert source["Configuration"]["BranchName"] == "main"


def test_each_stage_diffs_first_and_prod_waits_for_approval_after_its_diff(pipeline):
    _, body, _ = pipeline
    stages = {s["Name"]: s["Actions"] for s in _pipeline_props(body)["Stages"]}
    for name in ("Dev", "Staging", "Prod"):
        first = min(stages[name], key=lambda a: a["RunOrder"])
        assert first["Name"] == f"Diff{name}"
    prod = {a["Name"]: a for a in stages["Prod"]}
    approval = prod["PromoteProd"]
    assert approval["ActionTypeId"] == {"Category": "Approval", "Owner": "AWS", "Provider": "Manual", "Version": "1"}
    assert prod["DiffProd"]["RunOrder"] < approval["RunOrder"] < prod["acme-ml-prod-data.Deploy"]["RunOrder"]
    assert not any(a["ActionTypeId"]["Category"] == "Approval" for s in ("Dev", "Staging") for a in stages[s])


def test_synth_runs_make_test_then_the_nag_checked_synth(pipeline):
    stack, _, _ = pipeline
    commands = stack.synth_step.commands
    assert commands == ["make test", "npx --no-install cdk synth --quiet --app '.venv/bin/python pipeline/app.py' -o cdk.out"]


def test_diff_steps_assume_only_the_target_accounts_lookup_role(pipeline):
    stack, _, _ = pipeline
    accounts = {"Dev": "111111111111", "Staging": "222222222222", "Prod": "333333333333"}
    for name, account in accounts.items():
        step = stack.diff_steps[name]
        assert step.commands == [f"cdk diff --app assembly-acme-ml-platform-delivery-{name} --all"]
        (statement,) = [stack.resolve(s.to_statement_json()) for s in step.role_policy_statements]
        assert statement == {
            "Action": "sts:AssumeRole", "Effect": "Allow",
            "Resource": f"arn:aws:iam::{account}:role/cdk-hnb659fds-lookup-role-{account}-us-east-1",
        }


def test_stages_deploy_each_environment_to_its_account(pipeline):
    stack, _, outdir = pipeline
    for name, account in {"Dev": "111111111111", "Staging": "222222222222", "Prod": "333333333333"}.items():
        manifest = json.loads((outdir / f"assembly-acme-ml-platform-delivery-{name}" / "manifest.json").read_text())
        envs = {a["environment"] for a in manifest["artifacts"].values() if a["type"] == "aws:cloudformation:stack"}
        assert envs == {f"aws://{account}/us-east-1"}
    assert {s.termination_protection for s in stack.stages["Prod"].platform.stacks} == {True}


def test_pipeline_and_stage_templates_pass_cfn_lint(pipeline):
    """The in-process cfn-lint helper with .cfnlintrc.yaml's ignores (it agrees with the CLI:
    test_compliance), each template linted once."""
    stack, _, outdir = pipeline
    stage_files = {s: sorted(outdir.glob(f"assembly-*-{s}/*.template.json")) for s in ("Dev", "Staging", "Prod")}
    assert {s: len(f) for s, f in stage_files.items()} == {"Dev": 6, "Staging": 6, "Prod": 6}
    # The stages differ only by their configs' account and environment: lint prod, the strictest one
    # (the suite's time budget; the configs themselves are validated in tests/test_environments.py).
    assert [finding for f in stage_files["Prod"] for finding in lint_template(f)] == []
    # CDK Pipelines writes each deploy action's RoleArn (the target's cfn-exec role) as Fn::Join with an
    # empty delimiter; E3703 prefers Fn::Sub, a style rule CloudFormation does not enforce. Nothing else
    # (what `cfn-lint --ignore-checks E3703 W3005 W3010` passes: ignoring a check drops only its findings).
    rules = [m.rule.id for m in lint_matches(outdir / f"{stack.artifact_id}.template.json")]
    assert rules.count("E3703") > 0
    assert [rule for rule in rules if rule != "E3703"] == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("stages:\n  - {config: ../configs/dev.yaml}\n  - {config: ../configs/prod.yaml}\n",
         r"stages\[1\].manual_approval: got False; true for a prod stage"),
        ("stages:\n  - {config: ../configs/prod.yaml, manual_approval: true}\n  - {config: ../configs/dev.yaml}\n",
         r"stages\[1\].config: got '../configs/dev.yaml'; stages in the order dev -> staging -> prod"),
        ("stages:\n  - {config: ../configs/base.yaml}\n", r"stages\[0\].config: got '../configs/base.yaml'; a config with platform.account"),
    ],
)
def test_delivery_file_errors_name_the_key(tmp_path, change, expected):
    text = (REPO / "pipeline" / "delivery.yaml").read_text().split("stages:")[0] + change
    (tmp_path / "pipeline").mkdir()
    path = tmp_path / "pipeline" / "delivery.yaml"
    path.write_text(text.replace("../configs/", str(REPO / "configs") + "/"))
    with pytest.raises(PlatformValidationError, match=expected.replace("../configs/", str(REPO / "configs") + "/")):
        _pipeline_module().build(new_app(), path)


def test_delivery_source_needs_exactly_one_kind(tmp_path):
    text = (REPO / "pipeline" / "delivery.yaml").read_text().replace("  branch: main\n", "  branch: main\n  codecommit_repository: platform\n")
    path = tmp_path / "delivery.yaml"
    path.write_text(text)
    with pytest.raises(PlatformValidationError, match=r"source: got .*exactly one of connection_arn \(with repository\) or codecommit_repository"):
        _pipeline_module().build(new_app(), path)
