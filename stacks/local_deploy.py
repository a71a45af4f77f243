"""``make deploy-local``: deploy the platform to a moto server and report what the emulator really holds.

Run: ``.venv/bin/python -m stacks.local_deploy [--config configs/local.yaml]``.

1. starts ``moto.server`` on 127.0.0.1 on a free port, resets it, and stops it by its PID at the end
   (also on failure);
2. synthesizes the config with the pinned CDK CLI and ``-c local_emulation=true`` (strong cross-stack
   references, see app.py), then rewrites a copy of the cloud assembly for what moto cannot take
   (:func:`emulate`) and PRINTS every difference from the production templates;
3. ``cdk bootstrap`` and ``cdk deploy --all --method direct`` (moto's change sets lose outputs) with fake
   credentials and ``AWS_ENDPOINT_URL``;
4. compares what the templates declare with what moto's service APIs hold, per resource type in three
   columns: created (found through the service API), accepted but dropped (CloudFormation reported the
   resource, the service does not hold it or a declared property), skipped (moto has no CloudFormation
   model for the type: reported complete, nothing created). It fails when a resource of a type it can
   check is missing;
5. destroys the stacks (``cdk destroy``, then the CloudFormation API in reverse dependency order, with
   retries) and lists what is left: retained by design (``DeletionPolicy: Retain``) or leaked.

A successful run proves that the templates deploy on moto 5.2.5, nothing more: moto runs no Lambda,
evaluates no alarm, scaling policy or IAM policy, and creates no HyperPod cluster or FSx file system.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

REPO = Path(__file__).resolve().parents[1]
LOCAL_CONFIG = REPO / "configs" / "local.yaml"
REGION = "us-east-1"
MOTO_ACCOUNT = "123456789012"  # moto's default account id
CDK = ["npx", "--no-install", "cdk"]
CUSTOM_RESOURCE_TYPES = ("AWS::CloudFormation::CustomResource",)


# ----------------------------------------------------------------------------------------------- server
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class MotoServer:
    """``python -m moto.server`` on 127.0.0.1:<free port>; reset on start, stopped by PID on exit."""

    def __init__(self, log_path: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # What the clients are given: moto's CloudFormation reads a TemplateURL path-style only when the host
        # is "localhost" (moto/cloudformation/utils.py get_stack_from_s3_url); 127.0.0.1 reads as a bucket.
        self.endpoint_url = f"http://localhost:{self.port}"
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Self:
        log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + 90
        while True:
            try:
                self._post("/moto-api/reset")  # a fresh server, and a clean one if the port was reused
                break
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.__exit__(None, None, None)
                    raise RuntimeError(f"moto server did not start; see {self.log_path}") from None
                time.sleep(0.3)
        print(f"moto server {self.url} (pid {self.process.pid})")
        return self

    def _post(self, path: str) -> None:
        urllib.request.urlopen(urllib.request.Request(self.url + path, method="POST"), timeout=5).read()

    def __exit__(self, *exc) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()  # by PID: this process only
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=15)
        print(f"moto server stopped (pid {self.process.pid})")


def fake_aws_env(endpoint_url: str) -> dict[str, str]:
    """Environment for the CDK CLI and boto3: fake credentials, every service at the moto server."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_SESSION_TOKEN="testing",
        AWS_REGION=REGION, AWS_DEFAULT_REGION=REGION, AWS_ENDPOINT_URL=endpoint_url,
        AWS_EC2_METADATA_DISABLED="true",
        AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20", CDK_DISABLE_CLI_TELEMETRY="true",
        CDK_DISABLE_VERSION_CHECK="true",
    )
    return env


# ------------------------------------------------------------------------------------------- emulation
@dataclass
class Difference:
    stack: str
    logical_id: str
    cfn_type: str
    change: str

    def __str__(self) -> str:
        return f"  {self.stack}/{self.logical_id} ({self.cfn_type}): {self.change}"


def _is_custom_resource(cfn_type: str) -> bool:
    return cfn_type.startswith("Custom::") or cfn_type in CUSTOM_RESOURCE_TYPES


def _references(value) -> Iterator[tuple[str, str]]:
    """('ref'|'import', target) for every Ref / Fn::GetAtt / Fn::Sub ${X} / Fn::ImportValue inside value."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                yield "ref", inner
            elif key == "Fn::GetAtt":
                target = inner[0] if isinstance(inner, list) else str(inner).split(".")[0]
                yield "ref", target
            elif key == "Fn::Sub":
                text = inner[0] if isinstance(inner, list) else inner
                for piece in str(text).split("${")[1:]:
                    name = piece.split("}")[0]
                    if not name.startswith("!"):
                        yield "ref", name.split(".")[0]
                if isinstance(inner, list):
                    yield from _references(inner[1])
            elif key == "Fn::ImportValue":
                yield "import", inner if isinstance(inner, str) else json.dumps(inner)
            else:
                yield from _references(inner)
    elif isinstance(value, list):
        for item in value:
            yield from _references(item)


def _get_atts(value) -> set[str]:
    """Logical ids read with Fn::GetAtt (or ${X.Attr} in Fn::Sub) inside value."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Fn::GetAtt":
                found.add(inner[0] if isinstance(inner, list) else str(inner).split(".")[0])
            elif key == "Fn::Sub":
                text = inner[0] if isinstance(inner, list) else inner
                found |= {p.split("}")[0].split(".")[0] for p in str(text).split("${")[1:] if "." in p.split("}")[0]}
                found |= _get_atts(inner[1]) if isinstance(inner, list) else set()
            else:
                found |= _get_atts(inner)
    elif isinstance(value, list):
        for item in value:
            found |= _get_atts(item)
    return found


SKIPPED_VALUE = "skipped-by-moto:"
# An ARN-shaped stand-in for Fn::GetAtt <id>.Arn: moto validates IAM policy resources as ARNs (partition,
# vendor), so "skipped-by-moto:<id>.Arn" in a policy fails the whole stack (MalformedPolicyDocument).
SKIPPED_ARN = "arn:aws:skipped-by-moto:::"


def _without_get_atts(value, skipped: set[str]):
    """value with every Ref / Fn::GetAtt of a resource in ``skipped`` replaced by a literal; and the ids read."""
    read: set[str] = set()

    def walk(v):
        if isinstance(v, dict):
            if "Ref" in v and len(v) == 1 and v["Ref"] in skipped:  # moto resolves it to None: the key vanishes
                read.add(v["Ref"])
                return f"{SKIPPED_VALUE}{v['Ref']}"
            if "Fn::GetAtt" in v and len(v) == 1:
                inner = v["Fn::GetAtt"]
                target, attribute = (inner if isinstance(inner, list) else str(inner).split(".", 1))[:2]
                if target in skipped:
                    read.add(target)
                    return f"{SKIPPED_ARN}{target}" if attribute == "Arn" else f"{SKIPPED_VALUE}{target}.{attribute}"
            if "Fn::Sub" in v and len(v) == 1:
                inner = v["Fn::Sub"]
                text = inner[0] if isinstance(inner, list) else inner
                for target in skipped:
                    if "${" + target + "." in text:
                        read.add(target)
                        head, _, tail = text.partition("${" + target + ".")
                        attribute, _, rest = tail.partition("}")
                        text = f"{head}{SKIPPED_VALUE}{target}.{attribute}{rest}"
                return {"Fn::Sub": [text, walk(inner[1])] if isinstance(inner, list) else text}
            return {k: walk(x) for k, x in v.items()}
        if isinstance(v, list):
            return [walk(x) for x in v]
        return v

    return walk(value), read


def _moto_crash_fixes(cfn_type: str, props: dict) -> str | None:
    """Property removals for types moto 5.2.5 crashes on; returns what was changed (None = nothing)."""
    if cfn_type == "AWS::KMS::Key" and props.get("Tags"):
        del props["Tags"]
        return "Tags removed (moto: KeyError 'TagKey' on a tagged key)"
    if cfn_type == "AWS::SSM::Parameter" and props.get("Tags"):
        del props["Tags"]
        return "Tags removed (moto: crashes on the tag map CloudFormation specifies for SSM)"
    return None


def _drop_reason(cfn_type: str, props: dict) -> str | None:
    """Why a resource is left out of the local deploy (None = kept)."""
    if _is_custom_resource(cfn_type):
        return "custom resource removed (moto runs its Lambda only in Docker: the stack would hang)"
    if cfn_type == "AWS::SageMaker::EndpointConfig" and any(
        "ModelName" not in v for v in props.get("ProductionVariants", [])
    ):
        return "removed: a variant without ModelName (inference components) crashes moto"
    return None


def emulate(assembly: Path) -> list[Difference]:
    """Rewrite the templates of a cloud assembly in place for moto; every change is returned.

    Generic: any ``Custom::*`` / ``AWS::CloudFormation::CustomResource`` is removed, with everything that
    references it (Ref, Fn::GetAtt, Fn::Sub, outputs, and ``Fn::ImportValue`` of those outputs in other
    stacks), transitively; ``DependsOn`` on a removed resource is dropped.
    """
    manifest = json.loads((assembly / "manifest.json").read_text())
    stacks = {
        name: artifact for name, artifact in manifest["artifacts"].items()
        if artifact["type"] == "aws:cloudformation:stack"
    }
    templates = {name: json.loads((assembly / a["properties"]["templateFile"]).read_text()) for name, a in stacks.items()}
    supported = _moto_cfn_types({r["Type"] for t in templates.values() for r in t.get("Resources", {}).values()})
    differences: list[Difference] = []
    removed_exports: set[str] = set()
    changed = True
    while changed:
        changed = False
        for stack, template in templates.items():
            resources = template.get("Resources", {})
            for logical_id, resource in list(resources.items()):
                props = resource.setdefault("Properties", {}) if "Properties" in resource else {}
                reason = _drop_reason(resource["Type"], props)
                if reason is None:
                    for kind, target in _references(resource):
                        if kind == "ref" and target not in resources and not target.startswith("AWS::") and target not in template.get("Parameters", {}):
                            reason = f"removed: references {target}, which was removed"
                            break
                        if kind == "import" and target in removed_exports:
                            reason = f"removed: imports {target}, whose resource was removed"
                            break
                if reason is not None:
                    del resources[logical_id]
                    differences.append(Difference(stack, logical_id, resource["Type"], reason))
                    changed = True
            for logical_id, resource in resources.items():
                depends = resource.get("DependsOn")
                if depends:
                    kept = [d for d in ([depends] if isinstance(depends, str) else depends) if d in resources]
                    if len(kept) != len([depends] if isinstance(depends, str) else depends):
                        resource["DependsOn"] = kept
            for name, output in list(template.get("Outputs", {}).items()):
                if any(
                    (kind == "ref" and t not in resources and not t.startswith("AWS::"))
                    or (kind == "import" and t in removed_exports)
                    for kind, t in _references(output["Value"])
                ):
                    del template["Outputs"][name]
                    export = output.get("Export", {}).get("Name")
                    if export:
                        removed_exports.add(export if isinstance(export, str) else json.dumps(export))
                    differences.append(Difference(stack, name, "Output", "removed: its value references a removed resource"))
                    changed = True
    for stack, template in templates.items():
        resources = template.get("Resources", {})
        skipped = {lid for lid, r in resources.items() if r["Type"] not in supported}
        for logical_id, resource in resources.items():
            change = _moto_crash_fixes(resource["Type"], resource.get("Properties", {}))
            if change:
                differences.append(Difference(stack, logical_id, resource["Type"], change))
            if "Properties" in resource:
                resource["Properties"], read = _without_get_atts(resource["Properties"], skipped)
                if read:
                    differences.append(Difference(stack, logical_id, resource["Type"], (
                        f"Ref/Fn::GetAtt of {', '.join(sorted(read))} (types moto skips; it fails on or drops them) "
                        f"replaced by the literal '{SKIPPED_VALUE}<id>[.<attribute>]' ('{SKIPPED_ARN}<id>' for an Arn)"
                    )))
        for name, output in template.get("Outputs", {}).items():
            output["Value"], read = _without_get_atts(output["Value"], skipped)
            if read:
                differences.append(Difference(stack, name, "Output", f"value is '{SKIPPED_VALUE}...': "
                                              f"reads {', '.join(sorted(read))}, of a type moto skips"))
        (assembly / stacks[stack]["properties"]["templateFile"]).write_text(json.dumps(template, indent=1))
    return differences


# ------------------------------------------------------------------------------------------ checking
def _moto_cfn_types(types: set[str]) -> set[str]:
    """The resource types among ``types`` that moto 5.2.5's CloudFormation can create (it has a model)."""
    import importlib

    from moto.cloudformation.parsing import get_model_map

    modules = {"lambda": "awslambda", "cloudwatch": "cloudwatch", "applicationautoscaling": "applicationautoscaling"}
    for service in {t.split("::")[1].lower() for t in types if t.startswith("AWS::")}:
        try:
            importlib.import_module(f"moto.{modules.get(service, service)}.models")
        except ImportError:
            pass
    get_model_map.cache_clear()
    from moto.cloudformation import parsing

    parsing.get_model_list.cache_clear()
    return {t for t in types if t in get_model_map()}


Checker = Callable[[object, str, dict], "tuple[bool, list[str]]"]
"""(session, physical id, declared properties) -> (exists, declared properties the service does not hold)."""


def _exists(call: Callable[[], object]) -> bool:
    from botocore.exceptions import ClientError

    try:
        call()
        return True
    except ClientError:
        return False


def _sagemaker_config(session, pid: str, props: dict) -> tuple[bool, list[str]]:
    from botocore.exceptions import ClientError

    try:
        held = session.client("sagemaker").describe_endpoint_config(EndpointConfigName=pid.split("/")[-1])
    except ClientError:
        return False, []
    dropped = [k for k in ("ShadowProductionVariants", "DataCaptureConfig", "AsyncInferenceConfig", "KmsKeyId")
               if k in props and not held.get(k)]
    for declared, variant in zip(props.get("ProductionVariants", []), held.get("ProductionVariants", [])):
        dropped += [f"ProductionVariants[].{k}" for k in ("ServerlessConfig", "RoutingConfig", "ManagedInstanceScaling")
                    if k in declared and not variant.get(k)]
    return True, sorted(set(dropped))


def _sagemaker_endpoint(session, pid: str, props: dict) -> tuple[bool, list[str]]:
    from botocore.exceptions import ClientError

    try:
        held = session.client("sagemaker").describe_endpoint(EndpointName=pid.split("/")[-1])
    except ClientError:
        return False, []
    return True, [k for k in ("DeploymentConfig",) if k in props and not held.get(k)]


def _key(session, pid: str, props: dict) -> tuple[bool, list[str]]:
    kms = session.client("kms")
    held = [k["KeyId"] for page in kms.get_paginator("list_keys").paginate() for k in page["Keys"]]
    if pid not in held:
        return False, []
    try:
        meta = kms.describe_key(KeyId=pid)["KeyMetadata"]
    except Exception:  # noqa: BLE001 - moto 5.2.5 stores a CloudFormation KeyPolicy as an object and then
        # fails on json.loads of it in every policy-checked call (moto/kms/policy_validator.py)
        return True, ["KeyPolicy (moto: DescribeKey fails on the stored policy)"]
    if meta["KeyState"] == "PendingDeletion":
        return False, []
    dropped = []
    if props.get("EnableKeyRotation") and not kms.get_key_rotation_status(KeyId=pid).get("KeyRotationEnabled"):
        dropped.append("EnableKeyRotation")
    return True, dropped


def _bucket(session, pid: str, props: dict) -> tuple[bool, list[str]]:
    s3 = session.client("s3")
    if not _exists(lambda: s3.head_bucket(Bucket=pid)):
        return False, []
    dropped = []
    if "BucketEncryption" in props and not _exists(lambda: s3.get_bucket_encryption(Bucket=pid)):
        dropped.append("BucketEncryption")
    if "VersioningConfiguration" in props and s3.get_bucket_versioning(Bucket=pid).get("Status") != "Enabled":
        dropped.append("VersioningConfiguration")
    if "LoggingConfiguration" in props and "LoggingEnabled" not in s3.get_bucket_logging(Bucket=pid):
        dropped.append("LoggingConfiguration")
    return True, dropped


def _topic(session, pid: str, props: dict) -> tuple[bool, list[str]]:
    from botocore.exceptions import ClientError

    try:
        attrs = session.client("sns").get_topic_attributes(TopicArn=pid)["Attributes"]
    except ClientError:
        return False, []
    return True, ["KmsMasterKeyId"] if "KmsMasterKeyId" in props and not attrs.get("KmsMasterKeyId") else []


def _queue(session, pid: str, props: dict) -> tuple[bool, list[str]]:
    from botocore.exceptions import ClientError

    try:
        attrs = session.client("sqs").get_queue_attributes(QueueUrl=pid, AttributeNames=["All"])["Attributes"]
    except ClientError:
        return False, []
    return True, ["KmsMasterKeyId"] if "KmsMasterKeyId" in props and not attrs.get("KmsMasterKeyId") else []


def _function(session, pid: str, props: dict) -> tuple[bool, list[str]]:
    from botocore.exceptions import ClientError

    try:
        conf = session.client("lambda").get_function(FunctionName=pid)["Configuration"]
    except ClientError:
        return False, []
    dropped = [k for k in ("DeadLetterConfig", "VpcConfig") if k in props and not conf.get(k)]
    return True, dropped


def _log_group(session, pid: str, props: dict) -> tuple[bool, list[str]]:
    groups = session.client("logs").describe_log_groups(logGroupNamePrefix=pid)["logGroups"]
    held = next((g for g in groups if g["logGroupName"] == pid), None)
    if held is None:
        return False, []
    return True, [k for k, api in (("KmsKeyId", "kmsKeyId"), ("RetentionInDays", "retentionInDays"))
                  if k in props and not held.get(api)]


def _simple(service: str, method: str, arg: Callable[[str], dict]) -> Checker:
    def check(session, pid: str, props: dict) -> tuple[bool, list[str]]:
        client = session.client(service)
        return _exists(lambda: getattr(client, method)(**arg(pid))), []

    return check


def _ec2(method: str, key: str) -> Checker:
    def check(session, pid: str, props: dict) -> tuple[bool, list[str]]:
        from botocore.exceptions import ClientError

        try:
            found = getattr(session.client("ec2"), method)(**{key: [pid]})
        except ClientError:
            return False, []
        return any(v for k, v in found.items() if isinstance(v, list)), []

    return check


CHECKERS: dict[str, Checker] = {
    "AWS::SageMaker::Model": _simple("sagemaker", "describe_model", lambda p: {"ModelName": p.split("/")[-1]}),
    "AWS::SageMaker::EndpointConfig": _sagemaker_config,
    "AWS::SageMaker::Endpoint": _sagemaker_endpoint,
    "AWS::S3::Bucket": _bucket,
    "AWS::KMS::Key": _key,
    "AWS::KMS::Alias": lambda s, p, _: (any(a["AliasName"] == p for a in s.client("kms").list_aliases()["Aliases"]), []),
    "AWS::SNS::Topic": _topic,
    "AWS::SQS::Queue": _queue,
    "AWS::Events::Rule": _simple("events", "describe_rule", lambda p: {"Name": p.split("/")[-1].split("|")[-1]}),
    "AWS::Lambda::Function": _function,
    "AWS::Lambda::LayerVersion": _simple("lambda", "get_layer_version_by_arn", lambda p: {"Arn": p}),
    "AWS::CloudWatch::Dashboard": _simple("cloudwatch", "get_dashboard", lambda p: {"DashboardName": p}),
    "AWS::Logs::LogGroup": _log_group,
    "AWS::SSM::Parameter": _simple("ssm", "get_parameter", lambda p: {"Name": p}),
    "AWS::ECR::Repository": _simple("ecr", "describe_repositories", lambda p: {"repositoryNames": [p]}),
    "AWS::DynamoDB::Table": _simple("dynamodb", "describe_table", lambda p: {"TableName": p}),
    "AWS::IAM::Role": _simple("iam", "get_role", lambda p: {"RoleName": p}),
    "AWS::IAM::ManagedPolicy": _simple("iam", "get_policy", lambda p: {"PolicyArn": p}),
    "AWS::StepFunctions::StateMachine": _simple("stepfunctions", "describe_state_machine", lambda p: {"stateMachineArn": p}),
    "AWS::EC2::VPC": _ec2("describe_vpcs", "VpcIds"),
    "AWS::EC2::Subnet": _ec2("describe_subnets", "SubnetIds"),
    "AWS::EC2::SecurityGroup": _ec2("describe_security_groups", "GroupIds"),
    "AWS::EC2::RouteTable": _ec2("describe_route_tables", "RouteTableIds"),
    "AWS::EC2::InternetGateway": _ec2("describe_internet_gateways", "InternetGatewayIds"),
    "AWS::EC2::NatGateway": _ec2("describe_nat_gateways", "NatGatewayIds"),
    "AWS::EC2::VPCEndpoint": _ec2("describe_vpc_endpoints", "VpcEndpointIds"),
    "AWS::EC2::FlowLog": _ec2("describe_flow_logs", "FlowLogIds"),
}


@dataclass
class Column:
    created: int = 0
    dropped: list[str] = field(default_factory=list)
    skipped: int = 0
    unverified: int = 0
    missing: list[str] = field(default_factory=list)


def _stack_order(assembly: Path) -> list[str]:
    """Stack names in dependency order (dependencies first), from the cloud assembly manifest."""
    artifacts = json.loads((assembly / "manifest.json").read_text())["artifacts"]
    stacks = {n: a for n, a in artifacts.items() if a["type"] == "aws:cloudformation:stack"}
    order: list[str] = []

    def visit(name: str) -> None:
        if name in order:
            return
        for dep in stacks[name].get("dependencies", []):
            if dep in stacks:
                visit(dep)
        order.append(name)

    for name in sorted(stacks):
        visit(name)
    return order


def _templates(assembly: Path) -> dict[str, dict]:
    artifacts = json.loads((assembly / "manifest.json").read_text())["artifacts"]
    return {
        n: json.loads((assembly / artifacts[n]["properties"]["templateFile"]).read_text()) for n in _stack_order(assembly)
    }


def _stack_name(assembly: Path, artifact: str) -> str:
    artifacts = json.loads((assembly / "manifest.json").read_text())["artifacts"]
    return artifacts[artifact]["properties"].get("stackName", artifact)


def check_deployed(session, assembly: Path) -> tuple[dict[str, Column], dict[tuple[str, str], tuple[str, str]]]:
    """Per type: what moto holds vs what the templates declare; also the physical ids (for leak checks)."""
    templates = _templates(assembly)
    declared_types = {r["Type"] for t in templates.values() for r in t.get("Resources", {}).values()}
    supported = _moto_cfn_types(declared_types)
    cfn = session.client("cloudformation")
    columns: dict[str, Column] = defaultdict(Column)
    physical: dict[tuple[str, str], tuple[str, str]] = {}
    for artifact, template in templates.items():
        stack = _stack_name(assembly, artifact)
        reported = {  # moto lists skipped resources without ids
            r["LogicalResourceId"]: r.get("PhysicalResourceId", "")
            for r in cfn.describe_stack_resources(StackName=stack)["StackResources"] if "LogicalResourceId" in r
        }
        for logical_id, resource in template.get("Resources", {}).items():
            cfn_type = resource["Type"]
            if cfn_type == "AWS::CDK::Metadata":
                continue
            column = columns[cfn_type]
            if cfn_type not in supported:
                column.skipped += 1
                continue
            pid = reported.get(logical_id)
            checker = CHECKERS.get(cfn_type)
            if checker is None:
                column.unverified += 1
                continue
            physical[(stack, logical_id)] = (cfn_type, pid or "")
            if not pid:  # moto reports the resource created but gives it no physical id
                column.dropped.append(f"{logical_id} (no physical id)")
                continue
            exists, dropped_props = checker(session, pid, resource.get("Properties", {}))
            if exists:
                column.created += 1
                column.dropped += [f"{logical_id}.{p}" for p in dropped_props]
            else:
                column.missing.append(f"{stack}/{logical_id} ({pid or 'no physical id'})")
    return columns, physical


def print_columns(columns: dict[str, Column]) -> None:
    print(f"\n{'resource type':<42}{'created':>8}{'skipped':>8}{'unverif.':>9}  accepted but dropped / missing")
    for cfn_type in sorted(columns):
        c = columns[cfn_type]
        notes = [*(f"dropped {d}" for d in c.dropped), *(f"MISSING {m}" for m in c.missing)]
        print(f"{cfn_type:<42}{c.created:>8}{c.skipped:>8}{c.unverified:>9}  {'; '.join(notes)}")
    print("created = found through the service API; unverified = moto reported it created, no API check here;"
          "\nskipped = moto has no CloudFormation model for the type (reported complete, nothing created).")


# ------------------------------------------------------------------------------------------ the flow
def _run(cmd: list[str], env: dict[str, str], timeout: int = 900) -> subprocess.CompletedProcess:
    print("$", " ".join(cmd), flush=True)
    run = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    if run.returncode != 0:
        sys.stdout.write(run.stdout[-4000:] + run.stderr[-8000:])
    return run


def synth(config: Path, outdir: Path, env: dict[str, str]) -> None:
    run = _run([*CDK, "synth", "--quiet", "-c", f"config={config}", "-c", "local_emulation=true", "-o", str(outdir)], env)
    if run.returncode != 0:
        raise RuntimeError("cdk synth failed")


def destroy(session, assembly: Path, env: dict[str, str], attempts: int = 4) -> list[str]:
    """cdk destroy, then delete what is left in reverse dependency order; returns stacks still there.

    moto deletes a stack's resources in template order and refuses, e.g., a role whose policies are not
    detached yet (DeleteConflict): each retry deletes what became deletable."""
    from botocore.exceptions import ClientError

    _run([*CDK, "destroy", "--all", "--force", "--app", str(assembly)], env)
    cfn = session.client("cloudformation")
    names = [_stack_name(assembly, a) for a in _stack_order(assembly)]

    def alive() -> list[str]:
        present = {s["StackName"] for s in cfn.describe_stacks()["Stacks"] if s["StackStatus"] != "DELETE_COMPLETE"}
        return [n for n in reversed(names) if n in present]

    for _ in range(attempts):
        left = alive()
        if not left:
            return []
        for name in left:
            try:
                cfn.delete_stack(StackName=name)
                print(f"deleted {name} on retry")
            except ClientError as err:
                print(f"retrying delete of {name}: {err.response['Error']['Message']}")
        time.sleep(1)
    return list(reversed(alive()))


def leftovers(session, assembly: Path, physical: dict[tuple[str, str], tuple[str, str]]) -> tuple[list[str], list[str]]:
    """(retained by design, leaked): resources still held by moto after the stacks are gone."""
    templates = {_stack_name(assembly, a): t for a, t in _templates(assembly).items()}
    retained, leaked = [], []
    for (stack, logical_id), (cfn_type, pid) in sorted(physical.items()):
        if not pid:
            continue
        exists, _ = CHECKERS[cfn_type](session, pid, {})
        if not exists:
            continue
        policy = templates[stack]["Resources"][logical_id].get("DeletionPolicy", "Delete")
        (retained if policy in ("Retain", "RetainExceptOnCreate") else leaked).append(
            f"{cfn_type} {pid} ({stack}/{logical_id}, DeletionPolicy {policy})"
        )
    return retained, leaked


@dataclass
class Report:
    differences: list[Difference] = field(default_factory=list)
    columns: dict[str, Column] = field(default_factory=dict)
    retained: list[str] = field(default_factory=list)
    leaked: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0


class _Clients:
    """A boto3 session's clients, one per service: the checkers ask for a client per resource (creating one
    costs botocore about 30 ms: it builds the client class and endpoint resolver each time)."""

    def __init__(self, session) -> None:
        self._session = session
        self._clients: dict[str, object] = {}

    def client(self, service: str):
        if service not in self._clients:
            self._clients[service] = self._session.client(service)
        return self._clients[service]


def deploy_local(
    config: Path = LOCAL_CONFIG, *, workdir: Path | None = None, assembly_from: Path | None = None
) -> Report:
    """The whole round; ``report.failures`` is empty when everything declared and checkable was created."""
    import boto3

    report = Report()
    started = time.monotonic()
    workdir = Path(workdir or tempfile.mkdtemp(prefix="deploy-local-"))
    workdir.mkdir(parents=True, exist_ok=True)
    assembly = workdir / "cdk.out"
    shutil.rmtree(assembly, ignore_errors=True)
    failures = report.failures
    with MotoServer(workdir / "moto.log") as server:
        env = fake_aws_env(server.endpoint_url)
        session = _Clients(
            boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)
        )
        saved = {k: os.environ.get(k) for k in ("AWS_ENDPOINT_URL", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE")}
        os.environ.update(AWS_ENDPOINT_URL=server.endpoint_url, AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
        try:
            if assembly_from is None:
                synth(config, assembly, env)
            else:  # an assembly synthesized with -c local_emulation=true (the test synthesizes in-process)
                shutil.copytree(assembly_from, assembly)
            differences = report.differences = emulate(assembly)
            print(f"\nDifferences from the production templates ({len(differences)}), besides strong cross-stack "
                  "references (Fn::ImportValue instead of Fn::GetStackOutput) and the instance types of the config:")
            for difference in differences:
                print(difference)
            if _run([*CDK, "bootstrap", f"aws://{MOTO_ACCOUNT}/{REGION}", "--app", str(assembly)], env).returncode:
                raise RuntimeError("cdk bootstrap failed")
            deploy = _run([*CDK, "deploy", "--all", "--app", str(assembly), "--method", "direct",
                           "--require-approval", "never", "--progress", "events", "--concurrency", "4"], env)
            if deploy.returncode:
                failures.append("cdk deploy failed")
            else:
                columns, physical = check_deployed(session, assembly)
                report.columns = columns
                print_columns(columns)
                failures += [f"missing {m}" for c in columns.values() for m in c.missing]
            still = destroy(session, assembly, env)
            if still:
                failures.append(f"stacks not deleted: {still}")
            if not deploy.returncode:
                retained, leaked = report.retained, report.leaked = leftovers(session, assembly, physical)
                print(f"\nLeft after destroy: {len(retained)} retained by design, {len(leaked)} leaked by moto")
                for line in retained:
                    print("  retained", line)
                for line in leaked:
                    print("  leaked  ", line)
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
    report.seconds = time.monotonic() - started
    print(f"\ndeploy-local: {'FAILED: ' + '; '.join(failures) if failures else 'ok'} ({report.seconds:.0f} s)")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, default=LOCAL_CONFIG)
    parser.add_argument("--workdir", type=Path, default=None, help="keeps cdk.out and moto.log (default: a temp dir)")
    parser.add_argument("--assembly", type=Path, default=None,
                        help="deploy this cloud assembly (synthesized with -c local_emulation=true) instead of synthesizing")
    args = parser.parse_args(argv)
    try:
        report = deploy_local(args.config, workdir=args.workdir, assembly_from=args.assembly)
        return 1 if report.failures else 0
    except (RuntimeError, subprocess.TimeoutExpired) as err:
        print(f"error: deploy-local: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
