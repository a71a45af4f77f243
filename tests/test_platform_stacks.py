"""The default platform's stacks: stateful resources, key policies, notifications, lifecycle glue, dashboard."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import only, resources_of

# Logical ids of stateful resources are part of the contract: a rename replaces the resource.
STATEFUL_IDS = {
    "PlatformKey205D0CA7": "AWS::KMS::Key",
    "Artifacts80C0BB10": "AWS::S3::Bucket",
    "ArtifactsAccessLogs4D97777C": "AWS::S3::Bucket",
}


def test_stateful_resources_keep_their_logical_ids_and_are_retained(default_platform):
    resources = default_platform["data"].raw["Resources"]
    for logical_id, cfn_type in STATEFUL_IDS.items():
        assert resources[logical_id]["Type"] == cfn_type
        assert resources[logical_id]["DeletionPolicy"] == "Retain"
        assert resources[logical_id]["UpdateReplacePolicy"] == "Retain"


def test_templates_are_written_without_indentation(default_platform):
    """CloudFormation's 1 MB template quota counts whitespace too (StackProps.suppressTemplateIndentation)."""
    for stack in default_platform.platform.stacks:
        text = (default_platform.outdir / f"{stack.artifact_id}.template.json").read_text()
        assert text.startswith('{"Description":') and "\n" not in text, stack.stack_name


@pytest.mark.xdist_group("prod")  # one worker builds prod_platform once
def test_termination_protection_only_in_prod(default_platform, prod_platform):
    """prod protects every stack (issue 14: termination protection is a prod default)."""
    assert {s.termination_protection for s in default_platform.platform.stacks} == {False}
    assert {s.stack_name: s.termination_protection for s in prod_platform.platform.stacks} == {
        s.stack_name: True for s in prod_platform.platform.stacks
    }


@pytest.mark.xdist_group("prod")  # one worker builds prod_platform once
def test_environment_agnostic_by_default_and_explicit_when_configured(default_platform, prod_platform):
    from aws_cdk import Token

    assert Token.is_unresolved(default_platform.platform.data.region)
    assert (prod_platform.platform.data.account, prod_platform.platform.data.region) == ("123456789012", "us-east-1")
    # No context lookup is left for the CLI to perform: it would need credentials.
    manifest = json.loads((prod_platform.outdir / "manifest.json").read_text())
    assert manifest.get("missing", []) == []
    subnets = resources_of(prod_platform["network"], "AWS::EC2::Subnet")
    assert sorted({s["Properties"]["AvailabilityZone"] for s in subnets.values()}) == ["us-east-1a", "us-east-1b"]


ACCOUNT = {"Ref": "AWS::AccountId"}
# The platform key's ARN as the other stacks see it (a weak cross-stack reference to the data stack).
DATA_KEY_ARN = {"Fn::GetStackOutput": {"StackName": "acme-ml-dev-data", "Region": {"Ref": "AWS::Region"}, "OutputName": "PublishOutputFnGetAttPlatformKey205D0CA7Arn0C5A0BDE"}}


def _arn(service: str, resource: str) -> dict:
    return {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, f":{service}:", {"Ref": "AWS::Region"}, ":",
                              ACCOUNT, f":{resource}"]]}


def test_key_rotates_and_lets_writing_services_use_it_for_this_account_only(default_platform):
    key = default_platform["data"].raw["Resources"]["PlatformKey205D0CA7"]["Properties"]
    assert key["EnableKeyRotation"] is True
    statements = {s.get("Sid"): s for s in key["KeyPolicy"]["Statement"]}
    services = statements["AllowPlatformServicesToUseKey"]
    assert sorted(services["Principal"]["Service"]) == ["cloudwatch.amazonaws.com", "sns.amazonaws.com"]
    assert sorted(services["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert services["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
        "ArnLike": {"aws:SourceArn": [_arn("cloudwatch", "alarm:*"), _arn("sns", "*")]},
    }
    for sid, context in (("AllowEventBridgeForThisAccountsTopics", ("kms:EncryptionContext:aws:sns:topicArn", "sns")),
                         ("AllowEventBridgeForThisAccountsQueues", ("kms:EncryptionContext:aws:sqs:arn", "sqs"))):
        events = statements[sid]
        assert (events["Principal"], sorted(events["Action"])) == (
            {"Service": "events.amazonaws.com"}, ["kms:Decrypt", "kms:GenerateDataKey*"])
        assert events["Condition"] == {"ArnLike": {context[0]: _arn(context[1], "*")}}
    logs = statements["AllowCloudWatchLogsForThisAccount"]
    assert logs["Principal"]["Service"] == {"Fn::Join": ["", ["logs.", {"Ref": "AWS::Region"}, ".amazonaws.com"]]}
    assert logs["Condition"] == {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": _arn("logs", "log-group:*")}}
    # CT.KMS.PR.3: grants only when an AWS service asks for one (tests/test_cfn_guard.py runs the rule).
    assert statements["DenyGrantsExceptForAwsResources"] == {
        "Sid": "DenyGrantsExceptForAwsResources", "Effect": "Deny", "Principal": {"AWS": "*"},
        "Action": "kms:CreateGrant", "Resource": "*",
        "Condition": {"BoolIfExists": {"kms:GrantIsForAWSResource": "false", "aws:PrincipalIsAWSService": "false"}},
    }
    # Nothing else names a service: no unconditioned grant overrides the scoped ones (CDK's grant_publish
    # on an encrypted topic used to add one for cloudwatch and events).
    # (AllowBudgetsToUseKey: AWS Budgets, scoped by aws:SourceAccount, asserted in tests/test_cost.py)
    assert set(statements) == {None, "AllowCloudWatchLogsForThisAccount", "AllowEventBridgeForThisAccountsQueues",
                               "AllowEventBridgeForThisAccountsTopics", "AllowPlatformServicesToUseKey",
                               "AllowBudgetsToUseKey", "DenyGrantsExceptForAwsResources"}
    assert statements[None]["Principal"] == {"AWS": {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":iam::",
                                                                       ACCOUNT, ":root"]]}}


def test_topic_is_encrypted_tls_only_with_email_and_dlq(default_platform):
    t = default_platform["data"]
    (topic_id, topic), = resources_of(t, "AWS::SNS::Topic").items()
    assert topic["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": ["PlatformKey205D0CA7", "Arn"]}
    _, policy = only(t, "AWS::SNS::TopicPolicy")
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    assert any(s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in statements)
    # (AWS Budgets' own statement is asserted in tests/test_cost.py)
    publish = {s["Sid"]: s for s in statements if s["Effect"] == "Allow" and s.get("Sid") != "AllowBudgetsToPublish"}
    for sid, service, source in (("AllowAlarmsOfThisAccount", "cloudwatch.amazonaws.com", _arn("cloudwatch", "alarm:*")),
                                 ("AllowRulesOfThisAccount", "events.amazonaws.com", _arn("events", "rule/*"))):
        assert publish.pop(sid) == {
            "Sid": sid, "Effect": "Allow", "Action": "sns:Publish", "Principal": {"Service": service},
            "Resource": {"Ref": topic_id},
            "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}, "ArnLike": {"aws:SourceArn": source}},
        }
    assert publish == {}
    _, sub = only(t, "AWS::SNS::Subscription")
    assert sub["Properties"]["Protocol"] == "email"
    assert sub["Properties"]["Endpoint"] == "ml-oncall@example.com"
    assert "RedrivePolicy" in sub["Properties"]


# Resource policies and the key holding their statements (CloudWatch Logs: a JSON string).
POLICY_DOCUMENTS = {
    "AWS::KMS::Key": "KeyPolicy", "AWS::SNS::TopicPolicy": "PolicyDocument", "AWS::SQS::QueuePolicy": "PolicyDocument",
    "AWS::S3::BucketPolicy": "PolicyDocument", "AWS::Logs::ResourcePolicy": "PolicyDocument",
}
# Conditions that tie a service principal to this account: the source account, or an ARN of this account
# (source resource, or the encryption context of this account's topics, queues and log groups).
SCOPING_KEYS = {
    "aws:SourceAccount", "aws:SourceArn", "kms:EncryptionContext:aws:sns:topicArn",
    "kms:EncryptionContext:aws:sqs:arn", "kms:EncryptionContext:aws:logs:arn",
}


def _statements(resource: dict) -> list[dict]:
    document = resource["Properties"][POLICY_DOCUMENTS[resource["Type"]]]
    if isinstance(document, dict) and "Fn::Join" in document:  # a JSON string with tokens: make them opaque
        sep, parts = document["Fn::Join"]
        document = json.loads(sep.join(p if isinstance(p, str) else "TOKEN" for p in parts))
    return document["Statement"]


def _names_this_account(value) -> bool:
    text = json.dumps(value)
    return '"AWS::AccountId"' in text or '"Fn::GetAtt"' in text or '"Ref"' in text or "TOKEN" in text


def test_every_service_principal_grant_is_scoped_to_this_account(default_platform):
    """No confused deputy: every Allow to a service principal in any key, topic, queue, bucket or log
    resource policy of the default platform carries aws:SourceAccount or an ARN condition of this account."""
    checked = []
    for concern, template in default_platform.templates.items():
        for logical_id, resource in template.raw["Resources"].items():
            if resource["Type"] not in POLICY_DOCUMENTS:
                continue
            for statement in _statements(resource):
                principal = statement.get("Principal")
                if statement["Effect"] != "Allow" or not isinstance(principal, dict) or "Service" not in principal:
                    continue
                where = (concern, logical_id, statement.get("Sid"))
                scoping = {
                    key: value for operator in statement.get("Condition", {}).values()
                    for key, value in operator.items() if key in SCOPING_KEYS
                }
                assert scoping, f"{where}: {principal['Service']} without an account condition"
                assert all(_names_this_account(v) for v in scoping.values()), (where, scoping)
                checked.append(where)
    kinds = {c[0] for c in checked}
    assert {"data", "observability", "lifecycle"} <= kinds, checked
    assert len(checked) >= 10


def test_artifact_bucket_is_kms_versioned_logged(default_platform):
    bucket = default_platform["data"].raw["Resources"]["Artifacts80C0BB10"]["Properties"]
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0] == {
        "BucketKeyEnabled": True,
        "ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": {"Fn::GetAtt": ["PlatformKey205D0CA7", "Arn"]}},
    }
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    assert bucket["LoggingConfiguration"]["DestinationBucketName"] == {"Ref": "ArtifactsAccessLogs4D97777C"}
    assert bucket["BucketName"] == {
        "Fn::Join": ["", ["acme-ml-dev-artifacts-", {"Ref": "AWS::AccountId"}, "-", {"Ref": "AWS::Region"}]]
    }
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True
    }


def test_config_tags_land_on_resources(default_platform):
    model = default_platform["inference"].raw["Resources"]["ChatLlmEndpointModel0E72DA25"]
    tags = {t["Key"]: t["Value"] for t in model["Properties"]["Tags"]}
    # team: the budgets team owning chat-llm overrides platform.tags' team (tests/test_cost.py)
    assert tags == {"team": "llm", "cost-center": "4711", "platform": "acme-ml", "environment": "dev"}


def test_flow_logs_encrypted_and_no_public_ip_on_launch(default_platform):
    t = default_platform["network"]
    _, group = only(t, "AWS::Logs::LogGroup")
    assert group["Properties"]["KmsKeyId"] == DATA_KEY_ARN
    _, flow = only(t, "AWS::EC2::FlowLog")
    assert flow["Properties"]["TrafficType"] == "ALL"
    for subnet in resources_of(t, "AWS::EC2::Subnet").values():
        assert subnet["Properties"]["MapPublicIpOnLaunch"] is False


def _endpoint_notifications(template, cfn_type: str) -> tuple[str, dict]:
    """The endpoint notifier's resource of ``cfn_type`` (the lifecycle stack has more rules and functions)."""
    (found,) = [(k, v) for k, v in resources_of(template, cfn_type).items() if k.startswith("EndpointNotifications")]
    return found


def test_endpoint_failure_rule_targets_function_with_retries_and_dlq(default_platform, default_config):
    t = default_platform["lifecycle"]
    _, rule = _endpoint_notifications(t, "AWS::Events::Rule")
    assert rule["Properties"]["EventPattern"] == {
        "source": ["aws.sagemaker"],
        "detail-type": ["SageMaker Endpoint State Change", "SageMaker Endpoint Deployment State Change"],
        "detail": {"EndpointName": [{"prefix": "acme-ml-dev-"}]},
    }
    # EventBridge prefix matching: each platform endpoint's events match, another team's do not.
    from moto.events.models import EventPattern as Matcher

    matcher = Matcher.load(json.dumps(rule["Properties"]["EventPattern"]))
    event = {"source": "aws.sagemaker", "detail-type": "SageMaker Endpoint State Change", "detail": {}}
    for ep in default_config.endpoints:
        assert matcher.matches_event({**event, "detail": {"EndpointName": f"acme-ml-dev-{ep.name}"}}), ep.name
    assert not matcher.matches_event({**event, "detail": {"EndpointName": "other-team-ranker"}})
    assert not matcher.matches_event({**event, "detail": {"EndpointName": "acme-ml-prod-ranker"}})
    (target,) = rule["Properties"]["Targets"]
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 8, "MaximumEventAgeInSeconds": 7200}
    dlq_id = target["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0]
    queues = resources_of(t, "AWS::SQS::Queue")
    assert dlq_id in queues and "KmsMasterKeyId" in queues[dlq_id]["Properties"]
    # EventBridge may send to the DLQ (queue policy); the key policy allows events.amazonaws.com (see above).
    policies = [p["Properties"] for p in resources_of(t, "AWS::SQS::QueuePolicy").values()]
    assert any(
        s.get("Principal") == {"Service": "events.amazonaws.com"} and s["Action"] == "sqs:SendMessage"
        for p in policies for s in p["PolicyDocument"]["Statement"]
    )


def test_notifier_function_is_reliable(default_platform, default_config):
    t = default_platform["lifecycle"]
    fn_id, fn = _endpoint_notifications(t, "AWS::Lambda::Function")
    p = fn["Properties"]
    assert p["Runtime"] == "python3.14"
    assert p["Handler"] == "handler.handler"
    assert (p["Timeout"], p["MemorySize"], p["ReservedConcurrentExecutions"]) == (30, 256, 5)
    assert p["TracingConfig"] == {"Mode": "Active"}
    assert p["LoggingConfig"]["LogFormat"] == "JSON"
    assert "TargetArn" in p["DeadLetterConfig"]
    assert p["Environment"]["Variables"]["PLATFORM_NAME"] == "acme-ml-dev"
    assert "KmsKeyArn" in p
    (c,) = [
        c["Properties"] for c in resources_of(t, "AWS::Lambda::EventInvokeConfig").values()
        if c["Properties"]["FunctionName"] == {"Ref": fn_id}
    ]
    assert (c["MaximumRetryAttempts"], c["MaximumEventAgeInSeconds"]) == (2, 21600)
    assert "OnFailure" in c["DestinationConfig"]
    _, role = _endpoint_notifications(t, "AWS::IAM::Role")
    assert "ManagedPolicyArns" not in role["Properties"]  # no AWS-managed basic-execution policy
    _, policy = _endpoint_notifications(t, "AWS::IAM::Policy")
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    publish = [s for s in statements if s.get("Sid") == "PublishNotifications"]
    assert publish and publish[0]["Action"] == "sns:Publish" and publish[0]["Resource"] != "*"
    (describe,) = [s for s in statements if s.get("Sid") == "DescribePlatformEndpoints"]
    assert describe["Action"] == "sagemaker:DescribeEndpoint"
    (arn,) = [describe["Resource"]]  # one ARN pattern: the platform's endpoints, however many
    assert arn["Fn::Join"][1][-1] == ":endpoint/acme-ml-dev-*"


def test_dashboard_is_built_from_endpoint_metrics(default_platform):
    # One dashboard per endpoint (EndpointMonitoring, tests/test_observability.py) plus the overview;
    # the endpoint's dashboard keeps the foundation's name and logical id.
    dashboards = resources_of(default_platform["inference"], "AWS::CloudWatch::Dashboard")  # with its endpoint
    (logical_id, dash), = [(k, d) for k, d in dashboards.items() if d["Properties"]["DashboardName"] == "acme-ml-dev-chat-llm"]
    assert logical_id == "ChatLlmDashboardC0C64D6D"  # unchanged since the foundation: no replacement on update
    body = json.loads("".join(p if isinstance(p, str) else "0" for p in dash["Properties"]["DashboardBody"]["Fn::Join"][1]))
    metrics = [m for w in body["widgets"] if "metrics" in w.get("properties", {}) for m in w["properties"]["metrics"]]
    flat = json.dumps(metrics)
    for name in ("Invocations", "Invocation5XXErrors", "ModelLatency", "GPUUtilization", "GPUMemoryUtilization"):
        assert f'"{name}"' in flat, name
    assert '"stat": "p99"' in flat and '"stat": "p50"' in flat
    assert "100 * m_invocation5xxerrors_alltraffic / m_invocations_alltraffic" in flat
    assert any(w["type"] == "alarm" for w in body["widgets"])


# Logical ids of the default platform (tests/default_logical_ids.json), recorded after the endpoint
# shards: each endpoint's dashboard and alarms moved, under the same logical ids, from the observability
# stack into its shard (for the default config: acme-ml-dev-inference; CHANGELOG 0.3.0). A resource may be
# added freely; one that disappears (replaced or removed) must be listed here with its reason (ids
# without their 8-digit hash), and a stateful resource never may.
_ROLLBACK = ("the count-based rollback alarm <name>-{old} became the critical alarm of its signal, "
             "<name>-{new}-critical (one alarm path: the signal registry and the alarm factory)")
REMOVED_LOGICAL_IDS: dict[str, str] = {
    **{f"{endpoint}Endpoint{old_id}": _ROLLBACK.format(old=old, new=new)
       for endpoint in ("ChatLlm", "Ranker", "FraudScorer", "Embeddings", "BatchScoring", "ManyModels")
       for old_id, old, new in (("Errors5xxAlarm", "5xx-errors", "5xx-rate"),
                                ("LatencyP99Alarm", "p99-model-latency", "p99-model-latency"))},
    **{k: "inference components have no deployment to roll back: the component's own 5XX / latency alarms went; "
          "the endpoint's monitoring has the critical 5XX-rate and latency alarms over its components"
       for k in ("LlmHostingEndpointLlama8bComponentErrors5xxAlarm", "LlmHostingEndpointLlama8bComponentLatencyP99Alarm")},
    **{f"{endpoint}Dashboard5xxRateCriticalAlarm": "the critical 5XX rate is the endpoint's rollback alarm: created once, "
       "by the endpoint (inference stack, same name), and adopted by its monitoring"
       for endpoint in ("ChatLlm", "Ranker", "FraudScorer")},
    **{f"{construct}ExecutionPolicy": "stateless: the execution role's statements moved into the role as its inline "
       "policy (one resource per endpoint instead of two); the role keeps its logical id and permissions"
       for construct in ("ChatLlmEndpoint", "RankerEndpoint", "FraudScorerEndpoint", "EmbeddingsEndpoint",
                         "BatchScoringEndpoint", "ManyModelsEndpoint", "LlmHostingEndpoint",
                         "LlmHostingEndpointLlama8bComponent")},
}


def test_default_platform_keeps_its_logical_ids(default_platform):
    """Diffs the default platform's logical ids against the recorded ones and lists what moved."""
    recorded = json.loads((Path(__file__).parent / "default_logical_ids.json").read_text())
    assert set(recorded) == set(default_platform.stack_names.values())
    concerns = {name: concern for concern, name in default_platform.stack_names.items()}
    moved = {}
    for stack, ids in recorded.items():
        current = set(default_platform[concerns[stack]].raw["Resources"])
        gone = sorted(k for k in set(ids) - current if re.sub(r"[0-9A-F]{8}$", "", k) not in REMOVED_LOGICAL_IDS)
        if gone:
            moved[stack] = gone
    assert not moved, f"logical ids that moved (list them in REMOVED_LOGICAL_IDS with the reason): {moved}"


def test_each_endpoint_keeps_its_dashboard_and_alarm_ids_in_its_shard(default_platform, default_config):
    """The ids the observability stack gave (``<Name>Dashboard...``) are the shard's: moving the monitoring
    to the shard replaced no alarm or dashboard by a differently named one, and left none behind."""
    shard, observability = default_platform["inference"].raw["Resources"], default_platform["observability"].raw["Resources"]
    for ep in default_config.endpoints:
        prefix = "".join(part.capitalize() for part in ep.name.split("-")) + "Dashboard"
        mine = {k: r["Type"] for k, r in shard.items() if k.startswith(prefix)}
        assert "AWS::CloudWatch::Dashboard" in mine.values() and "AWS::CloudWatch::CompositeAlarm" in mine.values(), ep.name
        assert set(mine.values()) <= {"AWS::CloudWatch::Dashboard", "AWS::CloudWatch::Alarm",
                                      "AWS::CloudWatch::CompositeAlarm"}, ep.name
        assert not [k for k in observability if k.startswith(prefix)], ep.name


def test_stacks_import_no_private_module():
    """Stacks use the library's public modules only (what they need is exported there)."""
    import ast

    root = Path(__file__).resolve().parents[1]
    private = []
    for path in sorted((root / "stacks").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("constructs_lib"):
                names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names if a.name.startswith("constructs_lib")]
            else:
                continue
            private += [f"{path.name}: {n}" for n in names if any(part.startswith("_") for part in n.split("."))]
    assert private == []


def test_inference_imports_no_private_observability_module():
    """The endpoint construct and its validation read the signal registry through its public module
    (``observability.endpoint_signals``), not through observability's private helpers."""
    import ast

    root = Path(__file__).resolve().parents[1]
    private = []
    for path in sorted((root / "constructs_lib" / "inference").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 2 and (node.module or "").startswith("observability"):
                names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
                private += [f"{path.name}: {n}" for n in names if any(p.startswith("_") for p in n.split("."))]
    assert private == []


def test_monitoring_and_stacks_read_typed_endpoint_facts(default_platform):
    """No getattr on endpoints and no reading their generated resources back: EndpointBase carries the
    facts (instance types, autoscaling bounds, rollback alarms), imported endpoints included."""
    root = Path(__file__).resolve().parents[1]
    for path in [*(root / "constructs_lib" / "observability").glob("*.py"), *(root / "constructs_lib" / "lifecycle").glob("*.py"),
                 *(root / "stacks").glob("*.py")]:
        source = path.read_text()
        assert not re.search(r"getattr\((self\.)?(ep|endpoint|endpoints\[[^\]]+\])\b", source), path.name
        if path.parent.name != "lifecycle":  # (the idle guard names the IAM resource "scalable_targets")
            assert "scalable_targets" not in source and "production_variants" not in source, path.name
        assert "default_child" not in source, path.name  # e.g. an alarm's name read back from its CfnAlarm
    endpoints = default_platform.platform.endpoints
    chat, ranker = endpoints["chat-llm"], endpoints["ranker"]
    assert chat.instance_types == ("ml.g5.2xlarge",) and chat.capacity_bounds == (2, 8)
    assert ranker.capacity_bounds == (1, 4) and len(ranker.alarms) == 2
    assert ranker.deployment_config["AutoRollbackConfiguration"] == {"Alarms": [
        {"AlarmName": "acme-ml-dev-ranker-5xx-rate-critical"}, {"AlarmName": "acme-ml-dev-ranker-p99-model-latency-critical"}]}
    from aws_cdk import App, Stack

    from constructs_lib import InferenceEndpoint

    imported = InferenceEndpoint.from_endpoint_name(Stack(App(), "Imported"), "Chat", "chat")
    assert (imported.instance_types, imported.capacity_bounds, tuple(imported.alarms)) == ((), (None, None), ())
    assert (dict(imported.signal_alarms), imported.deployment_config, imported.alarms_routed) == ({}, None, False)


@pytest.mark.xdist_group("prod")  # one worker builds prod_platform once
def test_region_agnostic_templates_stop_a_deploy_where_the_images_are_not(default_platform, prod_platform):
    """Without platform.region the stacks that create models (inference) or register versions with an image
    (lifecycle, and training: the pipeline's RegisterModel) carry a Rules assertion: CloudFormation
    validates rules before creating any resource."""
    rule = {"Assertions": [{
        "Assert": {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]},
        "AssertDescription": "This stack's container images are in us-east-1: deploy it to us-east-1 "
                             "(or set platform.region and use images of that region).",
    }]}
    with_rule = {c for c, t in default_platform.templates.items() if "ImagesRegion" in t.raw.get("Rules", {})}
    assert with_rule == {"inference", "lifecycle", "training"}
    for concern in with_rule:
        assert default_platform[concern].raw["Rules"]["ImagesRegion"] == rule
    # With platform.region the config refused images of other regions already; the templates name the region.
    assert not [c for c, t in prod_platform.templates.items() if "ImagesRegion" in t.raw.get("Rules", {})]


def test_functions_share_one_powertools_layer_per_stack_staged_once(default_platform):
    """Every platform function gets Powertools from its stack's one layer; the layer's asset is staged
    once in the assembly (same content in every stack) and no function asset carries a copy."""
    layer_keys = set()
    stacks_with_functions = []
    for concern, template in default_platform.templates.items():
        functions = {
            k: r["Properties"] for k, r in template.raw["Resources"].items()
            if r["Type"] == "AWS::Lambda::Function" and r["Properties"].get("Handler") == "handler.handler"
        }
        layers = {k: v for k, v in resources_of(template, "AWS::Lambda::LayerVersion").items()
                  if k.startswith("PowertoolsLayer")}
        if not functions:
            assert not layers, concern
            continue
        stacks_with_functions.append(concern)
        ((layer_id, layer),) = layers.items()
        assert layer["Properties"]["CompatibleRuntimes"] == ["python3.14"]
        assert layer["Properties"]["Description"].startswith("aws-lambda-powertools ")
        layer_keys.add(json.dumps(layer["Properties"]["Content"]["S3Key"]))
        assert {k: p["Layers"] for k, p in functions.items()} == {k: [{"Ref": layer_id}] for k in functions}
    # observability: the training job alarms' function
    assert sorted(stacks_with_functions) == ["inference", "lifecycle", "observability"]
    assert len(layer_keys) == 1, layer_keys
    outdir = default_platform.outdir
    with_powertools = sorted(
        p.relative_to(outdir).parts[0] for p in outdir.glob("asset.*/**/aws_lambda_powertools/__init__.py")
    )
    assert len(with_powertools) == 1 and (outdir / with_powertools[0] / "python").is_dir(), with_powertools
