"""The AWS Guard rules registry's Control Tower proactive controls over the default platform's templates.

The rules and the ``cfn-guard`` binary are the ones the pinned cdklabs CloudFormation-Guard validation
plugin (``cdklabs.cdk-validator-cfnguard``) ships and runs; the test runs that binary on each template
of the default platform's cloud assembly (the plugin's ``execGuard`` does the same, over all templates
at once). Every failed check is fixed, or accepted below with its reason, and where the reason is a
fact of the template (the key lives in the data stack, the queue is a dead-letter queue, the alarm
feeds a composite) the test checks that fact instead of trusting the list.

Two things the rules cannot see, handled here rather than skipped blindly:
- ``Fn::GetStackOutput`` (CDK's cross-stack reference): the encryption rules accept a key only as a
  string or a ``Ref``/``Fn::GetAtt`` to a key in the same template; the platform key lives in the data
  stack, so every such finding is checked to reference the data stack's output of the platform key.
- Rules select their resources by type. A rule whose resource types do not occur in a template
  reports SKIP, so the run passes only the rules that mention a type the template has: the same
  findings (checked on the data stack against the full rule set) in a tenth of the time (measured on
  the observability template: 32 s with all 237 rules, 2.6 s with the 13 that apply).
"""

from __future__ import annotations

import json
import platform
import re
import subprocess
import tarfile
from collections import defaultdict
from pathlib import Path

import pytest

from tests.test_endpoint_signals import _alarms

pytestmark = pytest.mark.xdist_group("guard")

OUR_FUNCTIONS = (
    r"^(ApprovedModelDeployer|EndpointNotifications|TrainingJobNotifications|IdleEndpointGuard|"
    r"HyperPodEventNotifications|EndpointScalingGuard|TrainingJobAlarms)\w*(Handler|Function)[0-9A-F]{8}$"
)
# (control, logical-id pattern) -> why the finding is accepted.
ACCEPTED = {
    ("CT.LAMBDA.PR.3", OUR_FUNCTIONS):
        "the platform's functions call only AWS APIs (SNS, SageMaker, DynamoDB, CloudWatch, Application Auto "
        "Scaling) over their public endpoints with IAM auth: a VPC adds NAT or endpoint cost and no isolation "
        "(the same reason as the nag and checkov acknowledgments)",
    ("CT.LAMBDA.PR.3", r"^CustomCDKBucketDeployment[0-9A-F]+$"):
        "aws-cdk-lib's BucketDeployment handler (copies the lifecycle scripts between S3 buckets at deploy): "
        "not ours to configure",
    ("CT.LAMBDA.PR.3", r"^CustomVpcRestrictDefaultSGCustomResourceProviderHandler[0-9A-F]{8}$"):
        "aws-cdk-lib's restrictDefaultSecurityGroup custom resource (EC2 API only, at deploy)",
    ("CT.SQS.PR.1", r"(FailureQueue|DeadLetterQueue)[0-9A-F]{8}$"):
        "the queue is itself a dead-letter queue (checked below): a dead-letter queue of a dead-letter queue "
        "adds nothing",
    ("CT.CLOUDWATCH.PR.1", r"Alarm[0-9A-F]{8}$"):
        "the alarm feeds its endpoint's composite rollup (checked below), which alone notifies: one incident, "
        "one page per severity",
    ("CT.S3.PR.9", r"^(Artifacts|ArtifactsAccessLogs)[0-9A-F]{8}$"):
        "object lock would make model artifacts and logs undeletable for its retention period, against the "
        "buckets' lifecycle expiry; the buckets are versioned, retained on stack deletion and TLS-only",
    ("CT.S3.PR.4", r"^(Artifacts|ArtifactsAccessLogs)[0-9A-F]{8}$"):
        "nothing consumes object events of these buckets; access is audited by the server access logs",
    ("CT.S3.PR.2", r"^ArtifactsAccessLogs[0-9A-F]{8}$"):
        "the access-log bucket itself: logging it would log the logs",
    ("CT.S3.PR.10", r"^ArtifactsAccessLogs[0-9A-F]{8}$"):
        "S3 server access logging delivers only to a target bucket with SSE-S3 default encryption; SSE-KMS "
        "is not supported for the target (Amazon S3 User Guide, enabling server access logging)",
}
# Findings of these controls are checked to be cross-stack references to the platform key.
KEY_PROPERTY = {"CT.CLOUDWATCH.PR.3": "KmsKeyId", "CT.SQS.PR.2": "KmsMasterKeyId"}
PACKAGE = "cdk-validator-cfnguard@0.0.62.jsii.tgz"


@pytest.fixture(scope="session")
def guard(tmp_path_factory) -> tuple[Path, list[Path]]:
    """The plugin's cfn-guard binary for this machine and its Control Tower rule files."""
    import cdklabs.cdk_validator_cfnguard as plugin

    machine = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}[platform.machine().lower()]
    binary, rules = f"package/bin/ubuntu/{machine}/cfn-guard", "package/rules/control-tower/cfn-guard/"
    target = tmp_path_factory.mktemp("cfn-guard")
    with tarfile.open(Path(plugin.__file__).parent / "_jsii" / PACKAGE) as archive:
        members = [m for m in archive.getmembers() if m.name == binary or (m.name.startswith(rules) and m.isfile())]
        archive.extractall(target, members=members, filter="data")
    executable = target / binary
    executable.chmod(0o755)
    return executable, sorted((target / rules).rglob("*.guard"))


def _types(rule: Path) -> set[str]:
    return set(re.findall(r"AWS::[A-Za-z0-9]+::[A-Za-z0-9]+", rule.read_text()))


def _documents(text: str) -> list[dict]:
    """cfn-guard's JSON output: one document per rule file, concatenated."""
    decoder, out, i, text = json.JSONDecoder(), [], 0, text.strip()
    while i < len(text):
        document, i = decoder.raw_decode(text, i)
        out.append(document)
        while i < len(text) and text[i].isspace():
            i += 1
    return out


def _resources_in(value, found: set[str]) -> set[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "path" and isinstance(inner, str) and inner.startswith("/Resources/"):
                found.add(inner.split("/")[2])
            else:
                _resources_in(inner, found)
    elif isinstance(value, list):
        for inner in value:
            _resources_in(inner, found)
    return found


def run_guard(guard, template: Path, rules: list[Path] | None = None) -> set[tuple[str, str]]:
    """(control, logical id) of every failed check of ``template``; by default only the rules that
    name a resource type the template has."""
    binary, all_rules = guard
    present = {r["Type"] for r in json.loads(template.read_text())["Resources"].values()}
    selected = rules if rules is not None else [r for r in all_rules if _types(r) & present]
    if not selected:
        return set()
    args = [str(binary), "validate", "--data", str(template), "--output-format", "json", "--show-summary", "none"]
    for rule in selected:
        args += ["--rules", str(rule)]
    done = subprocess.run(args, capture_output=True, text=True, timeout=600, check=False)
    # Exit codes: 0 all pass or skip, 19 a failed check, 5 a rule or data error.
    assert done.returncode in (0, 19), done.stderr[-2000:]
    failed = set()
    for document in _documents(done.stdout):
        for rule in document.get("not_compliant", []):
            controls = set(re.findall(r"\[(CT\.[A-Z0-9]+\.PR\.\d+)\]", json.dumps(rule)))
            failed |= {(control, lid) for control in controls for lid in _resources_in(rule, set())}
    return failed


@pytest.fixture(scope="session")
def findings(guard, default_platform) -> dict[str, set[tuple[str, str]]]:
    return {concern: run_guard(guard, default_platform.outdir / f"{stack.artifact_id}.template.json")
            for concern, stack in _stacks(default_platform).items()}


def _stacks(synthesized) -> dict:
    return {stack.stack_name.rsplit("-", 1)[-1]: stack for stack in synthesized.platform.stacks}


def test_the_rules_and_binary_are_the_plugins(guard):
    binary, rules = guard
    version = subprocess.run([str(binary), "--version"], capture_output=True, text=True, check=True).stdout
    assert version.strip() == "cfn-guard 3.1.1"
    assert len(rules) == 237 and all(_types(r) for r in rules)  # every rule selects resources by type


def test_selecting_rules_by_resource_type_changes_no_finding(guard, default_platform, findings):
    data = default_platform.outdir / f"{_stacks(default_platform)['data'].artifact_id}.template.json"
    assert run_guard(guard, data, rules=guard[1]) == findings["data"] != set()


def test_no_failed_check_outside_the_accepted_ones(findings):
    unexplained = sorted(
        (concern, control, lid) for concern, failed in findings.items() for control, lid in failed
        if control not in KEY_PROPERTY
        and not any(control == c and re.search(pattern, lid) for c, pattern in ACCEPTED)
    )
    assert unexplained == []


def test_every_accepted_entry_still_matches_a_finding(findings):
    failed = {item for items in findings.values() for item in items}
    stale = sorted(k for k in ACCEPTED if not any(c == k[0] and re.search(k[1], lid) for c, lid in failed))
    assert stale == [], "accepted entries that match no finding any more: remove them"


def test_unencrypted_findings_are_the_data_stacks_key_by_cross_stack_reference(default_platform, findings):
    """CT.CLOUDWATCH.PR.3 and CT.SQS.PR.2 fail only where the key is the data stack's platform key, read
    through Fn::GetStackOutput, which the rules cannot follow."""
    data = default_platform["data"].raw
    key_outputs = {
        name for name, output in data["Outputs"].items()
        if output["Value"] in ({"Fn::GetAtt": ["PlatformKey205D0CA7", "Arn"]}, {"Ref": "PlatformKey205D0CA7"})
    }
    checked = defaultdict(int)
    for concern, failed in findings.items():
        resources = default_platform[concern].raw["Resources"]
        for control, lid in failed:
            if control in KEY_PROPERTY:
                reference = resources[lid]["Properties"][KEY_PROPERTY[control]]["Fn::GetStackOutput"]
                assert (reference["StackName"], reference["OutputName"]) in {
                    (_stacks(default_platform)["data"].stack_name, name) for name in key_outputs
                }, (concern, lid, reference)
                checked[control] += 1
    assert set(checked) == set(KEY_PROPERTY), checked


def test_accepted_dead_letter_queues_are_dead_letter_queues(default_platform, findings):
    for concern, failed in findings.items():
        template = default_platform[concern].raw
        for control, lid in failed:
            if control == "CT.SQS.PR.1":
                uses = [
                    name for name, r in template["Resources"].items()
                    for prop in ("DeadLetterConfig", "RedrivePolicy", "DestinationConfig", "Targets")
                    if lid in json.dumps(r.get("Properties", {}).get(prop, ""))
                ]
                assert uses, f"{concern}/{lid} is accepted as a dead-letter queue but nothing sends to it"


def test_alarms_without_actions_feed_a_composite_that_notifies(default_platform, findings):
    """Each alarm CT.CLOUDWATCH.PR.1 flags reaches, through composite alarms (in its stack or, by
    cross-stack reference, in another), a severity topic: the reach the signal tests compute."""
    from tests.test_endpoint_signals import _reached

    reached = _reached(default_platform)
    names = {lid: name for name, (lid, _) in _alarms(default_platform).items()}
    flagged = sorted(lid for failed in findings.values() for control, lid in failed if control == "CT.CLOUDWATCH.PR.1")
    assert flagged and [lid for lid in flagged if not reached.get(names.get(lid, ""))] == []
