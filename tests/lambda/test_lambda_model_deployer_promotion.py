"""lambda/model_deployer as the promotion workflow: sequences of events, not single events.

The state machine is the one ``ApprovedModelDeployer`` defines (its Amazon States Language, resolved from
the construct); a small interpreter runs its Task, Choice, Wait, Succeed and Fail states against the real
handler, with a clock that only moves when an execution waits. DynamoDB, SNS and the model registry are
moto; the endpoint is a stub that behaves like the service: ``UpdateEndpoint`` while the endpoint is
updating is refused ("Cannot update in-progress endpoint"), a deployment takes three minutes, and a
deployment of a version marked bad ends rolled back (back InService on the old config, with a
``FailureReason``). ``StartExecution`` refuses a name it has seen (``ExecutionAlreadyExists``), as Step
Functions does for 90 days.

The endpoint's CloudFormation model reads its image and model data from SSM parameters (moto) that the
promotion writes before ``UpdateEndpoint`` and restores after a rollback; the last tests take the targets,
parameters and model from the synthesized default platform and let moto's CloudFormation resolve them.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from lambda_testkit import EVENTS_DIR, REGION, RecordingClient, sns_inbox

NAME = "model_deployer"
APPROVED = "model-package-approved.json"
GROUP = "chat-llm-models"
ENDPOINT = "chat-llm"
ROLE = "arn:aws:iam::123456789012:role/sagemaker-model-execution"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/llm-serving:1.4.0"
IDEMPOTENCY = "idempotency"
PROMOTION = "promotion"
MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:promotion"
DEPLOYMENT_SECONDS = 180
CANARY = {
    "BlueGreenUpdatePolicy": {
        "TrafficRoutingConfiguration": {
            "Type": "CANARY", "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 25}, "WaitIntervalInSeconds": 600,
        },
        "MaximumExecutionTimeoutInSeconds": 3600,
    },
    "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "chat-llm-5xx"}]},
}


# --- the state machine, as the construct defines it -------------------------------------------------
@pytest.fixture(scope="module")
def asl() -> dict[str, Any]:
    from aws_cdk import App, Stack
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk import aws_stepfunctions as sfn

    from constructs_lib.lifecycle import promotion_definition

    # the construct's own definition, on an imported function: no code bundling needed to read it
    stack = Stack(App(), "Promotion")
    steps = lambda_.Function.from_function_arn(stack, "Steps", "arn:aws:lambda:us-east-1:123456789012:function:steps")
    machine = sfn.StateMachine(
        stack, "Machine", definition_body=sfn.DefinitionBody.from_chainable(promotion_definition(stack, steps))
    )
    resolved = stack.resolve(machine.node.default_child.definition_string)
    parts = resolved["Fn::Join"][1] if isinstance(resolved, dict) else [resolved]
    return json.loads("".join(p if isinstance(p, str) else json.dumps(p) for p in parts))


@dataclass
class Execution:
    name: str
    data: dict[str, Any]
    state: str
    wake: int = 0
    done: bool = False
    transient_retries: int = 0


def _path(data: dict[str, Any], path: str, context: dict[str, Any]) -> Any:
    if path == "$":
        return data
    if path.startswith("$$."):
        value: Any = context
        path = path[3:]
    else:
        value, path = data, path[2:]
    for part in path.split("."):
        value = value[part]
    return value


class Promotions:
    """Step Functions for the test: runs the ASL against the handler, one clock for everything."""

    def __init__(self, asl: dict[str, Any], handler: Any, context: Any, endpoint: FakeEndpoint) -> None:
        self.asl, self.handler, self.context, self.endpoint = asl, handler, context, endpoint
        self.executions: dict[str, Execution] = {}
        self.now = 0
        self.delivered: list[tuple[int, str, str]] = []  # (time, event id, endpoint status then)

    # the stepfunctions client the entry uses
    def start_execution(self, *, stateMachineArn: str, name: str, input: str) -> dict[str, Any]:
        assert stateMachineArn == MACHINE
        if name in self.executions:
            raise ClientError({"Error": {"Code": "ExecutionAlreadyExists", "Message": name}}, "StartExecution")
        self.executions[name] = Execution(name, json.loads(input), self.asl["StartAt"], wake=self.now)
        return {"executionArn": f"{MACHINE}:{name}"}

    def _advance(self, ex: Execution) -> None:
        while not ex.done and ex.wake <= self.now:
            state = self.asl["States"][ex.state]
            kind = state["Type"]
            if kind == "Task":
                context = {"Execution": {"Id": f"{MACHINE}:{ex.name}"}}
                payload = {
                    k.removesuffix(".$"): _path(ex.data, v, context) if k.endswith(".$") else v
                    for k, v in state["Parameters"].items()
                }
                try:
                    ex.data = self.handler(copy.deepcopy(payload), self.context)
                except Exception as error:  # noqa: BLE001 -- any error: Retry as the state says, or fail
                    retry = next((r for r in state["Retry"] if type(error).__name__ in r["ErrorEquals"]), None)
                    assert retry is not None, error
                    ex.transient_retries += 1
                    assert ex.transient_retries <= retry["MaxAttempts"], error
                    continue
                ex.state = state["Next"]
            elif kind == "Choice":
                ex.state = next(
                    (c["Next"] for c in state["Choices"] if _path(ex.data, c["Variable"], {}) == c["StringEquals"]),
                    state.get("Default"),
                )
            elif kind == "Wait":
                ex.wake, ex.state = self.now + state["Seconds"], state["Next"]
            elif kind == "Succeed":
                ex.done = True
            else:
                raise AssertionError(f"execution {ex.name} failed in {ex.state}: {ex.data}")

    def run(self, *, events: dict[int, list[dict[str, Any]]], entry: Any, limit: int = 6 * 3600) -> None:
        """Deliver ``events`` at their times (seconds), run every execution, tick the clock by a minute."""
        while self.now <= limit:
            for event in events.pop(self.now, []):
                self.delivered.append((self.now, event["id"], self.endpoint.status))
                entry(copy.deepcopy(event), self.context)
            for ex in list(self.executions.values()):
                self._advance(ex)
            if not events and all(ex.done for ex in self.executions.values()):
                return
            self.now += 60
            self.endpoint.tick(60)
        raise AssertionError("promotions did not finish")


# --- an endpoint that behaves like the service ------------------------------------------------------
@dataclass
class FakeEndpoint:
    config: str
    name: str = ENDPOINT
    status: str = "InService"
    pending: str = ""
    remaining: int = 0
    bad_versions: set[int] = field(default_factory=set)
    failure_reason: str = ""
    updates: list[dict[str, Any]] = field(default_factory=list)
    refused: int = 0
    # the promotion parameters' values at each UpdateEndpoint (written before it?)
    parameters: tuple[str, ...] = ()
    parameters_at_update: list[list[str]] = field(default_factory=list)

    def describe_endpoint(self, *, EndpointName: str) -> dict[str, Any]:
        if EndpointName != self.name:
            raise ClientError({"Error": {"Code": "ValidationException", "Message": f"Could not find endpoint {EndpointName}"}}, "DescribeEndpoint")
        response: dict[str, Any] = {
            "EndpointName": EndpointName, "EndpointArn": f"arn:aws:sagemaker:us-east-1:123456789012:endpoint/{EndpointName}",
            "EndpointConfigName": self.config, "EndpointStatus": self.status,
            "ProductionVariants": [{"VariantName": "primary"}],
        }
        if self.failure_reason:
            response["FailureReason"] = self.failure_reason
        if self.pending:
            response["PendingDeploymentSummary"] = {"EndpointConfigName": self.pending}
        return response

    def update_endpoint(self, **kwargs: Any) -> dict[str, Any]:
        if self.status != "InService":
            self.refused += 1
            raise ClientError(
                {"Error": {"Code": "ValidationException", "Message": f"Cannot update in-progress endpoint \"arn:...{ENDPOINT}\"."}},
                "UpdateEndpoint",
            )
        self.updates.append(kwargs)
        self.parameters_at_update.append(parameter_values(self.parameters))
        self.status, self.pending, self.remaining, self.failure_reason = "Updating", kwargs["EndpointConfigName"], DEPLOYMENT_SECONDS, ""
        return {"EndpointArn": "arn:endpoint"}

    def tick(self, seconds: int) -> None:
        if self.status != "Updating":
            return
        self.remaining -= seconds
        if self.remaining > 0:
            return
        found = re.search(r"-v(\d+)-", self.pending)
        if found and int(found.group(1)) in self.bad_versions:  # auto-rollback on the endpoint's alarm
            self.failure_reason = "Deployment rolled back: alarm chat-llm-5xx went to ALARM during the canary"
        else:
            self.config = self.pending
        self.status, self.pending = "InService", ""


def data_url(version: int) -> str:
    return f"s3://ml-artifacts-123456789012/chat-llm/v{version}/model.tar.gz"


IMAGE_PARAMETER = "/aiplatform/test/promotion/chat-llm/primary/image"
DATA_PARAMETER = "/aiplatform/test/promotion/chat-llm/primary/model-data"
TARGET = {
    "EndpointName": ENDPOINT, "DeploymentConfig": CANARY,
    "Parameters": {"primary": {"Image": IMAGE_PARAMETER, "ModelDataUrl": DATA_PARAMETER}},
}


def parameter_values(names: tuple[str, ...]) -> list[str]:
    ssm = boto3.client("ssm", region_name=REGION)
    return [ssm.get_parameter(Name=name)["Parameter"]["Value"] for name in names]


# --- the world ----------------------------------------------------------------------------------------
def make_world(load_handler, lambda_context, asl, monkeypatch, *, target: dict[str, Any], variant: str = "primary",
               parameters: dict[str, str] | None = None) -> dict[str, Any]:
    """The registry (versions 1-8, 7 and 8 approved), the endpoint serving v6 through ``variant``, the
    promotion parameters holding v6 (as CloudFormation created them), the handler for ``target``."""
    sm = boto3.client("sagemaker", region_name=REGION)
    sm.create_model_package_group(ModelPackageGroupName=GROUP)
    for version in range(1, 9):
        sm.create_model_package(
            ModelPackageGroupName=GROUP, ModelApprovalStatus="Approved" if version >= 7 else "Rejected",
            InferenceSpecification={"Containers": [{"Image": IMAGE, "ModelDataUrl": data_url(version)}]},
        )
    sm.create_model(ModelName="chat-llm-v6", PrimaryContainer={"Image": IMAGE, "ModelDataUrl": data_url(6)}, ExecutionRoleArn=ROLE)
    sm.create_endpoint_config(
        EndpointConfigName="chat-llm-config-a",
        ProductionVariants=[{"VariantName": variant, "ModelName": "chat-llm-v6", "InstanceType": "ml.m5.xlarge", "InitialInstanceCount": 2}],
        DataCaptureConfig={  # moto returns a partial DataCaptureConfig without one
            "EnableCapture": True, "InitialSamplingPercentage": 20, "DestinationS3Uri": "s3://ml-artifacts-123456789012/capture",
            "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        },
    )
    ssm = boto3.client("ssm", region_name=REGION)
    for name, value in (parameters or {IMAGE_PARAMETER: IMAGE, DATA_PARAMETER: data_url(6)}).items():
        ssm.put_parameter(Name=name, Value=value, Type="String")
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    for table, key in ((IDEMPOTENCY, "id"), (PROMOTION, "EndpointName")):
        dynamodb.create_table(
            TableName=table, KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
        )
    inbox = sns_inbox()
    module = load_handler(
        NAME, DEPLOY_TARGETS=json.dumps({GROUP: [target]}),
        MODEL_EXECUTION_ROLE_ARN=ROLE, TOPIC_ARN=inbox.topic_arn, IDEMPOTENCY_TABLE=IDEMPOTENCY,
        PROMOTION_TABLE=PROMOTION, STATE_MACHINE_ARN=MACHINE,
    )
    names = tuple(n for pair in target.get("Parameters", {}).values() for n in (pair["Image"], pair.get("ModelDataUrl")) if n)
    endpoint = FakeEndpoint(config="chat-llm-config-a", name=target["EndpointName"], parameters=names)
    sagemaker = RecordingClient(
        module.sagemaker_client,
        overrides={"describe_endpoint": endpoint.describe_endpoint, "update_endpoint": endpoint.update_endpoint},
    )
    monkeypatch.setattr(module, "sagemaker_client", sagemaker)
    promotions = Promotions(asl, module.handler, lambda_context, endpoint)
    monkeypatch.setattr(module, "stepfunctions_client", promotions)
    return {"module": module, "endpoint": endpoint, "promotions": promotions, "inbox": inbox, "sm": sagemaker}


@pytest.fixture
def world(aws, load_handler, lambda_context, asl, monkeypatch):
    return make_world(load_handler, lambda_context, asl, monkeypatch, target=TARGET)


def approval(version: int, event_id: str | None = None) -> dict[str, Any]:
    event = json.loads((EVENTS_DIR / APPROVED).read_text())
    arn = f"arn:aws:sagemaker:us-east-1:123456789012:model-package/{GROUP}/{version}"
    event["id"] = event_id or f"approval-{version}"
    event["resources"] = [arn]
    event["detail"].update(ModelPackageVersion=version, ModelPackageArn=arn)
    return event


def subjects(world) -> list[str]:
    return [m["Subject"] for m in world["inbox"].messages()]


# --- sequences ------------------------------------------------------------------------------------
def test_version_8_approved_while_7_deploys_ends_on_8_with_one_notice_each(world):
    module, endpoint = world["module"], world["endpoint"]
    world["promotions"].run(events={0: [approval(7)], 120: [approval(8)]}, entry=module.handler)

    assert world["promotions"].delivered == [(0, "approval-7", "InService"), (120, "approval-8", "Updating")]
    assert endpoint.config == module.resource_name(ENDPOINT, f"arn:aws:sagemaker:us-east-1:123456789012:model-package/{GROUP}/8", "8", "config")
    assert [u["EndpointConfigName"].split("-")[2] for u in endpoint.updates] == ["v7", "v8"]
    assert all(u["DeploymentConfig"] == CANARY and u["RetainAllVariantProperties"] for u in endpoint.updates)
    assert endpoint.refused == 0  # the second version waited for the first deployment to finish
    # each version was in the promotion parameters before its UpdateEndpoint; v8 stays there
    assert endpoint.parameters_at_update == [[IMAGE, data_url(7)], [IMAGE, data_url(8)]]
    assert parameter_values(endpoint.parameters) == [IMAGE, data_url(8)]
    assert subjects(world) == [f"[aiplatform] {GROUP} v7 deployed to {ENDPOINT}", f"[aiplatform] {GROUP} v8 deployed to {ENDPOINT}"]
    # the execution started for v8 found the endpoint's promotion running and left v8 to it
    assert sorted(world["promotions"].executions) == [
        module.resource_name(ENDPOINT, f"arn:aws:sagemaker:us-east-1:123456789012:model-package/{GROUP}/{v}", str(v), "promotion")
        for v in (7, 8)
    ]


def test_newest_approved_version_wins_over_an_older_one_arriving_late(world):
    module, endpoint = world["module"], world["endpoint"]
    world["promotions"].run(events={0: [approval(8)], 120: [approval(7)]}, entry=module.handler)
    assert [u["EndpointConfigName"].split("-")[2] for u in endpoint.updates] == ["v8"]
    assert subjects(world) == [f"[aiplatform] {GROUP} v8 deployed to {ENDPOINT}"]


def test_a_rolled_back_version_is_notified_with_its_reason_and_never_redeployed(world):
    module, endpoint = world["module"], world["endpoint"]
    endpoint.bad_versions.add(7)
    promotions = world["promotions"]
    promotions.run(events={0: [approval(7)]}, entry=module.handler)
    [message] = world["inbox"].messages()
    assert message["Subject"] == f"[aiplatform] {GROUP} v7 ROLLED BACK on {ENDPOINT}"
    assert "Package version:  7" in message["Message"]
    assert "Rollback reason:  Deployment rolled back: alarm chat-llm-5xx went to ALARM during the canary" in message["Message"]
    assert endpoint.config == "chat-llm-config-a"
    # v7 was recorded before the update, and the rollback put back what the endpoint serves again (v6)
    assert endpoint.parameters_at_update == [[IMAGE, data_url(7)]]
    assert parameter_values(endpoint.parameters) == [IMAGE, data_url(6)]
    # redelivered (same id), repeated by SageMaker (new id): nothing deployed, nothing notified
    promotions.run(
        events={promotions.now + 60: [approval(7)], promotions.now + 120: [approval(7, "another-id")]},
        entry=module.handler,
    )
    assert len(endpoint.updates) == 1 and world["inbox"].messages() == []


def test_the_same_approval_twice_deploys_once(world):
    module, endpoint = world["module"], world["endpoint"]
    world["promotions"].run(events={0: [approval(7), approval(7, "second-id")], 60: [approval(7)]}, entry=module.handler)
    assert len(endpoint.updates) == 1
    assert subjects(world) == [f"[aiplatform] {GROUP} v7 deployed to {ENDPOINT}"]


def test_a_missing_package_is_notified_once_and_does_not_raise(world):
    module = world["module"]
    missing = approval(9)  # the registry has versions 1-8
    result = module.handler(copy.deepcopy(missing), world["promotions"].context)
    assert result["action"] == "not-deployed" and "ValidationException" in result["reason"]
    module.handler(copy.deepcopy(missing), world["promotions"].context)  # redelivered: remembered
    assert subjects(world) == [f"[aiplatform] Deploying {GROUP} v9 to {ENDPOINT} FAILED"]
    assert world["promotions"].executions == {} and world["endpoint"].updates == []


def test_an_update_started_elsewhere_is_waited_for_not_fought(world):
    module, endpoint = world["module"], world["endpoint"]
    # a stack update of the same config is running when the approval arrives
    endpoint.status, endpoint.pending, endpoint.remaining = "Updating", "chat-llm-config-a", 240
    world["promotions"].run(events={0: [approval(7)]}, entry=module.handler)
    assert endpoint.refused == 0 and [u["EndpointConfigName"].split("-")[2] for u in endpoint.updates] == ["v7"]


def test_throttling_is_retried_with_back_off(world, asl):
    module, sagemaker = world["module"], world["sm"]
    calls = {"n": 0}
    describe = world["endpoint"].describe_endpoint

    def throttled_twice(**kwargs: Any) -> dict[str, Any]:
        calls["n"] += 1
        if calls["n"] <= 2:
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "DescribeEndpoint")
        return describe(**kwargs)

    sagemaker.overrides["describe_endpoint"] = throttled_twice
    world["promotions"].run(events={0: [approval(7)]}, entry=module.handler)
    [ex] = world["promotions"].executions.values()
    assert ex.transient_retries == 2
    assert subjects(world) == [f"[aiplatform] {GROUP} v7 deployed to {ENDPOINT}"]
    retry = asl["States"]["StatusStep"]["Retry"]
    assert retry == [{
        "ErrorEquals": ["TransientError", "Lambda.TooManyRequestsException", "Lambda.ServiceException",
                        "Lambda.AWSLambdaException", "Lambda.SdkClientException"],
        "IntervalSeconds": 5, "MaxAttempts": 6, "BackoffRate": 2,
    }]


# --- one truth with CloudFormation: the promotion parameters -----------------------------------------
def parameter_history(name: str) -> list[str]:
    ssm = boto3.client("ssm", region_name=REGION)
    return [v["Value"] for v in ssm.get_parameter_history(Name=name)["Parameters"]]


def test_a_refused_update_puts_back_what_the_endpoint_serves(world):
    module, endpoint, context = world["module"], world["endpoint"], world["promotions"].context
    module.handler(approval(7), context)  # records v7 as wanted (the execution is not run here)
    endpoint.status = "Updating"  # a stack update started between the status and deploy steps
    arn = f"arn:aws:sagemaker:us-east-1:123456789012:model-package/{GROUP}/7"
    state = {"EndpointName": ENDPOINT, "Version": 7, "PackageArn": arn, "Group": GROUP}
    world["sm"].calls.clear()
    result = module.handler({"Step": "deploy", "State": state, "Execution": "e1"}, context)
    assert result["Next"] == "WaitInService" and endpoint.refused == 1
    # the step's and the deployment's DescribeEndpoint; the restore uses the deployment's, not a third
    assert [c[0] for c in world["sm"].calls].count("describe_endpoint") == 2
    # written before UpdateEndpoint, then put back to the served v6 when SageMaker refused it
    assert parameter_history(DATA_PARAMETER) == [data_url(6), data_url(7), data_url(6)]
    assert parameter_history(IMAGE_PARAMETER) == [IMAGE, IMAGE, IMAGE]


def test_a_rollback_restores_the_parameters_from_the_steps_one_describe_endpoint(world):
    """The outcome step describes the endpoint once: the response that shows the rollback (InService on
    the old config) also names the config whose models the parameters get back."""
    module, endpoint, context, sm = world["module"], world["endpoint"], world["promotions"].context, world["sm"]
    module.handler(approval(7), context)  # records v7 as wanted (the execution is not run here)
    ssm = boto3.client("ssm", region_name=REGION)
    ssm.put_parameter(Name=DATA_PARAMETER, Value=data_url(7), Type="String", Overwrite=True)  # recorded before the update
    endpoint.failure_reason = "Deployment rolled back: alarm chat-llm-5xx went to ALARM during the canary"
    arn = f"arn:aws:sagemaker:us-east-1:123456789012:model-package/{GROUP}/7"
    state = {"EndpointName": ENDPOINT, "Version": 7, "PackageArn": arn, "Group": GROUP}
    sm.calls.clear()
    result = module.handler({"Step": "outcome", "State": state, "Execution": "e1"}, context)
    assert result["Next"] == "Next"
    assert [c for c in sm.calls if c[0] == "describe_endpoint"] == [("describe_endpoint", {"EndpointName": ENDPOINT})]
    assert parameter_values(endpoint.parameters) == [IMAGE, data_url(6)]  # what config-a serves
    assert subjects(world) == [f"[aiplatform] {GROUP} v7 ROLLED BACK on {ENDPOINT}"]


def test_a_version_cloudformation_could_not_deploy_is_refused_before_anything_changes(world):
    module, endpoint = world["module"], world["endpoint"]
    sm = boto3.client("sagemaker", region_name=REGION)
    sm.create_model_package(  # version 9: weights in the image, while the template's model has model data
        ModelPackageGroupName=GROUP, ModelApprovalStatus="Approved",
        InferenceSpecification={"Containers": [{"Image": IMAGE}]},
    )
    models_before = {m["ModelName"] for m in sm.list_models()["Models"]}
    world["promotions"].run(events={0: [approval(9)]}, entry=module.handler)
    [message] = world["inbox"].messages()
    assert message["Subject"] == f"[aiplatform] Deploying {GROUP} v9 to {ENDPOINT} FAILED"
    assert (
        "the promotion parameters of chat-llm: variant primary's template model has model data, the version none; "
        "CloudFormation could not deploy it: not deployed"
    ) in message["Message"]
    assert endpoint.updates == [] and parameter_history(DATA_PARAMETER) == [data_url(6)]
    assert {m["ModelName"] for m in sm.list_models()["Models"]} == models_before


# --- the synthesized platform: promote, then deploy the same template again ------------------------------
def _step_targets(platform) -> dict[str, Any]:
    lifecycle = platform["lifecycle"].raw["Resources"]
    [variables] = [
        r["Properties"]["Environment"]["Variables"] for lid, r in lifecycle.items()
        if r["Type"] == "AWS::Lambda::Function" and lid.startswith("ApprovedModelDeployerStepHandler")
    ]
    return json.loads(variables["DEPLOY_TARGETS"])


def test_after_a_promotion_the_platform_template_deploys_the_promoted_version(
    default_platform, aws, load_handler, lambda_context, asl, monkeypatch
):
    """Promotion under moto with the synthesized platform's targets and parameters, then the synthesized
    inference template's chat-llm model deployed by moto's CloudFormation: it resolves the promoted
    version. Synthesizing again gives this very template (synth reads no AWS state): the template names
    the parameters, not a version, so what a later ``cdk deploy`` deploys is what promotion recorded."""
    [target] = _step_targets(default_platform)[GROUP]
    path = "/acme-ml/dev/promotion/chat-llm/AllTraffic"
    assert target["EndpointName"] == "acme-ml-dev-chat-llm"
    assert target["Parameters"] == {"AllTraffic": {"Image": f"{path}/image", "ModelDataUrl": f"{path}/model-data"}}
    # the data stack's parameters, as CloudFormation creates them (the config's image and model data)
    created = {
        r["Properties"]["Name"]: r["Properties"]["Value"]
        for r in default_platform["data"].raw["Resources"].values() if r["Type"] == "AWS::SSM::Parameter"
    }
    assert sorted(created) == [f"{path}/image", f"{path}/model-data"]
    assert created[f"{path}/model-data"] == "s3://acme-ml-models/chat-llm/model.tar.gz"
    world = make_world(load_handler, lambda_context, asl, monkeypatch, target=target, variant="AllTraffic", parameters=created)

    world["promotions"].run(events={0: [approval(8)]}, entry=world["module"].handler)
    assert [m["Subject"] for m in world["inbox"].messages()] == [f"[aiplatform] {GROUP} v8 deployed to acme-ml-dev-chat-llm"]
    assert world["endpoint"].parameters_at_update == [[IMAGE, data_url(8)]]

    # the inference template's chat-llm model: its image and model data are the parameters, resolved on deploy
    inference = default_platform["inference"].raw
    [(model_id, model)] = [
        (lid, r) for lid, r in inference["Resources"].items()
        if r["Type"] == "AWS::SageMaker::Model" and lid.startswith("ChatLlmEndpointModel")
    ]
    container = model["Properties"]["PrimaryContainer"]
    refs = {key: container[key]["Ref"] for key in ("Image", "ModelDataUrl")}
    parameters = {ref: inference["Parameters"][ref] for ref in refs.values()}
    assert parameters == {
        refs["Image"]: {"Type": "AWS::SSM::Parameter::Value<String>", "Default": f"{path}/image"},
        refs["ModelDataUrl"]: {"Type": "AWS::SSM::Parameter::Value<String>", "Default": f"{path}/model-data"},
    }
    again = {
        "Parameters": parameters,
        "Resources": {model_id: {"Type": model["Type"], "Properties": {**model["Properties"], "ExecutionRoleArn": ROLE}}},
    }
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    cloudformation.create_stack(StackName="inference-again", TemplateBody=json.dumps(again))
    [resource] = cloudformation.describe_stack_resources(StackName="inference-again")["StackResources"]
    sm = boto3.client("sagemaker", region_name=REGION)
    deployed = sm.describe_model(ModelName=resource["PhysicalResourceId"].rsplit("/", 1)[-1])["PrimaryContainer"]
    assert (deployed["Image"], deployed["ModelDataUrl"]) == (IMAGE, data_url(8))
    assert deployed["Environment"] == {"SM_NUM_GPUS": "1"}  # the config's environment stays the template's
