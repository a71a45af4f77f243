"""lambda/endpoint_scaling_guard: the custom resource around an endpoint whose variants are autoscaled.

SageMaker Developer Guide, "Update endpoints that use auto scaling": an UpdateEndpoint that changes the
instance type of, or removes, a variant registered with Application Auto Scaling fails; deregister the
variant (DeregisterScalableTarget), update, register it again. The handler does that from the resource's
properties and what the endpoint runs now, and refuses an inference-component endpoint's instance-type
change. SageMaker (DescribeEndpoint/DescribeEndpointConfig) and Application Auto Scaling run on moto,
except where a test pins exact requests with botocore's Stubber; the CloudFormation response PUT is
captured by replacing ``urllib.request.urlopen``. moto 5.2.5 has no UpdateEndpoint: an update is set on
moto's endpoint object.
"""

from __future__ import annotations

import copy
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from lambda_testkit import ACCOUNT, REGION, cloudformation_responses
from moto.sagemaker.models import sagemaker_backends

NAME = "endpoint_scaling_guard"
ENDPOINT = "ranker"
RESOURCE_ID = f"endpoint/{ENDPOINT}/variant/AllTraffic"
DIMENSION = "sagemaker:variant:DesiredInstanceCount"
ROLE = "arn:aws:iam::123456789012:role/sagemaker-execution"
SCHEDULE = {"Name": "office-hours", "Schedule": "cron(0 8 ? * MON-FRI *)", "Timezone": "Europe/Berlin", "MinCapacity": "3"}


def props(phase: str, instance_type: str, *, kind: str = "instances", scaling: bool = True, **variant) -> dict:
    """Properties as CloudFormation passes them (numbers become strings)."""
    v: dict[str, Any] = {"VariantName": "AllTraffic", "InstanceTypes": [instance_type], **variant}
    if scaling:
        v["Scaling"] = {"ResourceId": RESOURCE_ID, "ScalableDimension": DIMENSION, "MinCapacity": "2",
                        "MaxCapacity": "6", "ScheduledActions": [SCHEDULE]}
    return {"ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:guard", "Phase": phase,
            "EndpointName": ENDPOINT, "Kind": kind, "Variants": [v]}


def request(request_type: str, new: dict, old: dict | None = None) -> dict:
    event = {
        "RequestType": request_type, "ResponseURL": "https://cloudformation-custom-resource-response.example/r",
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/serving/1", "RequestId": "req-1",
        "LogicalResourceId": "RankerUpdateGuardBefore", "ResourceType": "Custom::EndpointScalingGuard",
        "ResourceProperties": new,
    }
    if request_type != "Create":
        event["PhysicalResourceId"] = f"endpoint-scaling-guard/{ENDPOINT}/{new['Phase']}"
    if old is not None:
        event["OldResourceProperties"] = old
    return event


@pytest.fixture
def guard(load_handler, aws, monkeypatch):
    module = load_handler(NAME)
    responses = cloudformation_responses(module, monkeypatch)  # common.respond PUTs
    module.responses = responses
    return module


@pytest.fixture
def sm():
    return boto3.client("sagemaker", region_name=REGION)


@pytest.fixture
def aas():
    return boto3.client("application-autoscaling", region_name=REGION)


def run_endpoint(sm, instance_type: str) -> None:
    """The endpoint as it runs now (moto): created, or updated to a config with ``instance_type``."""
    sm.create_model(ModelName=f"m-{instance_type}", ExecutionRoleArn=ROLE,
                    PrimaryContainer={"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/ranker:1"})
    sm.create_endpoint_config(
        EndpointConfigName=f"c-{instance_type}",
        ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": f"m-{instance_type}",
                             "InstanceType": instance_type, "InitialInstanceCount": 2}],
    )
    if sm.list_endpoints(NameContains=ENDPOINT)["Endpoints"]:
        point_endpoint_at(f"c-{instance_type}")
    else:
        sm.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName=f"c-{instance_type}")


def point_endpoint_at(config_name: str) -> None:
    """moto 5.2.5 has no UpdateEndpoint: the endpoint now runs ``config_name``."""
    sagemaker_backends[ACCOUNT][REGION].endpoints[ENDPOINT].endpoint_config_name = config_name


def register(aas) -> None:
    aas.register_scalable_target(ServiceNamespace="sagemaker", ResourceId=RESOURCE_ID, ScalableDimension=DIMENSION,
                                 MinCapacity=2, MaxCapacity=6)


def targets(aas) -> list[dict]:
    return aas.describe_scalable_targets(ServiceNamespace="sagemaker", ResourceIds=[RESOURCE_ID])["ScalableTargets"]


def answered(guard) -> dict:
    (response,) = guard.responses
    return response


@pytest.mark.parametrize("request_type", ["Create", "Delete"])
def test_create_and_delete_change_nothing(guard, sm, aas, lambda_context, request_type):
    run_endpoint(sm, "ml.c5.xlarge")
    register(aas)
    guard.handler(request(request_type, props("before", "ml.c5.xlarge")), lambda_context)
    response = answered(guard)
    assert response["Status"] == "SUCCESS"
    assert response["PhysicalResourceId"] == f"endpoint-scaling-guard/{ENDPOINT}/before"
    assert (response["StackId"], response["RequestId"], response["LogicalResourceId"]) == (
        "arn:aws:cloudformation:us-east-1:123456789012:stack/serving/1", "req-1", "RankerUpdateGuardBefore")
    assert response["Data"] == {"Actions": "none"}
    assert [t["ResourceId"] for t in targets(aas)] == [RESOURCE_ID]  # still registered


def test_before_an_instance_type_change_the_variant_is_deregistered(guard, sm, aas, lambda_context):
    """Deployment, phase before: the endpoint still runs the old type, so UpdateEndpoint would fail."""
    run_endpoint(sm, "ml.c5.xlarge")
    register(aas)
    guard.handler(request("Update", props("before", "ml.m5.xlarge"), props("before", "ml.c5.xlarge")), lambda_context)
    response = answered(guard)
    assert response["Status"] == "SUCCESS" and response["Data"] == {"Actions": "AllTraffic:deregistered"}
    assert response["PhysicalResourceId"] == f"endpoint-scaling-guard/{ENDPOINT}/before"  # never replaced
    assert targets(aas) == []


def test_deregistering_a_target_that_is_gone_is_fine(guard, sm, lambda_context):
    run_endpoint(sm, "ml.c5.xlarge")  # no target registered (e.g. a retried request)
    guard.handler(request("Update", props("before", "ml.m5.xlarge"), props("before", "ml.c5.xlarge")), lambda_context)
    response = answered(guard)
    assert response["Status"] == "SUCCESS" and response["Data"] == {"Actions": "AllTraffic:already-deregistered"}


def test_after_the_endpoint_update_the_target_and_its_schedule_are_registered_again(guard, sm, aas, lambda_context):
    run_endpoint(sm, "ml.c5.xlarge")
    run_endpoint(sm, "ml.m5.xlarge")  # CloudFormation updated the endpoint
    guard.handler(request("Update", props("after", "ml.m5.xlarge"), props("after", "ml.c5.xlarge")), lambda_context)
    response = answered(guard)
    assert response["Status"] == "SUCCESS" and response["Data"] == {"Actions": "AllTraffic:registered"}
    (target,) = targets(aas)
    assert (target["MinCapacity"], target["MaxCapacity"], target["ScalableDimension"]) == (2, 6, DIMENSION)
    (action,) = aas.describe_scheduled_actions(ServiceNamespace="sagemaker", ResourceId=RESOURCE_ID)["ScheduledActions"]
    assert (action["ScheduledActionName"], action["Schedule"], action["Timezone"], action["ScalableTargetAction"]) == (
        "office-hours", "cron(0 8 ? * MON-FRI *)", "Europe/Berlin", {"MinCapacity": 3})


def test_rollback_registers_the_original_target_again(guard, sm, aas, lambda_context):
    """The endpoint update failed and was rolled back: CloudFormation sends phase before an Update from the
    new properties back to the old ones, and the endpoint runs the old type again."""
    run_endpoint(sm, "ml.c5.xlarge")
    guard.handler(request("Update", props("before", "ml.c5.xlarge"), props("before", "ml.m5.xlarge")), lambda_context)
    assert answered(guard)["Data"] == {"Actions": "AllTraffic:registered"}
    assert [(t["MinCapacity"], t["MaxCapacity"]) for t in targets(aas)] == [(2, 6)]


def test_rollback_of_phase_after_deregisters_so_the_endpoint_can_roll_back(guard, sm, aas, lambda_context):
    run_endpoint(sm, "ml.c5.xlarge")
    run_endpoint(sm, "ml.m5.xlarge")  # updated; something after it failed
    register(aas)                     # phase after had registered it
    guard.handler(request("Update", props("after", "ml.c5.xlarge"), props("after", "ml.m5.xlarge")), lambda_context)
    assert answered(guard)["Data"] == {"Actions": "AllTraffic:deregistered"}
    assert targets(aas) == []


def test_a_removed_variant_is_deregistered_and_an_added_one_left_to_cloudformation(guard, sm, aas, lambda_context):
    run_endpoint(sm, "ml.c5.xlarge")
    register(aas)
    old = props("before", "ml.c5.xlarge")
    new = copy.deepcopy(old)
    new["Variants"][0]["VariantName"] = "Blue"
    new["Variants"][0]["Scaling"]["ResourceId"] = f"endpoint/{ENDPOINT}/variant/Blue"
    guard.handler(request("Update", new, old), lambda_context)
    assert answered(guard)["Data"] == {"Actions": "AllTraffic:deregistered"}
    assert targets(aas) == []
    guard.responses.clear()
    # Phase after: the endpoint runs Blue now; its ScalableTarget resource is new, CloudFormation creates it.
    sm.create_model(ModelName="m-blue", ExecutionRoleArn=ROLE, PrimaryContainer={"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/ranker:1"})
    sm.create_endpoint_config(EndpointConfigName="c-blue", ProductionVariants=[
        {"VariantName": "Blue", "ModelName": "m-blue", "InstanceType": "ml.c5.xlarge", "InitialInstanceCount": 2}])
    point_endpoint_at("c-blue")
    after_old, after_new = copy.deepcopy(old), copy.deepcopy(new)
    after_old["Phase"] = after_new["Phase"] = "after"
    guard.handler(request("Update", after_new, after_old), lambda_context)
    assert answered(guard)["Data"] == {"Actions": "AllTraffic:already-deregistered"}  # Blue: not registered here
    assert aas.describe_scalable_targets(ServiceNamespace="sagemaker")["ScalableTargets"] == []


def stubbed(guard):
    """Stubbers on the module's clients: any call not queued fails the test."""
    sm, aas = Stubber(guard.sagemaker_client), Stubber(guard.autoscaling_client)
    sm.activate()
    aas.activate()
    return sm, aas


def test_an_update_without_an_instance_type_change_calls_nothing(guard, lambda_context):
    sm, aas = stubbed(guard)
    new = props("before", "ml.c5.xlarge")
    new["Variants"][0]["Scaling"]["MaxCapacity"] = "10"  # CloudFormation updates the target itself
    guard.handler(request("Update", new, props("before", "ml.c5.xlarge")), lambda_context)
    assert answered(guard)["Status"] == "SUCCESS"
    sm.assert_no_pending_responses()
    aas.assert_no_pending_responses()


def test_exact_requests_and_fallback_pools(guard, lambda_context):
    """InstancePools (capacity fallback) count as the variant's instance types, in priority order."""
    sm, aas = stubbed(guard)
    sm.add_response("describe_endpoint", {
        "EndpointName": ENDPOINT, "EndpointArn": f"arn:aws:sagemaker:us-east-1:123456789012:endpoint/{ENDPOINT}",
        "EndpointConfigName": "cfg-1", "EndpointStatus": "InService",
        "CreationTime": "2026-11-01T00:00:00Z", "LastModifiedTime": "2026-11-01T00:00:00Z",
    }, {"EndpointName": ENDPOINT})
    sm.add_response("describe_endpoint_config", {
        "EndpointConfigName": "cfg-1", "EndpointConfigArn": "arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/cfg-1",
        "CreationTime": "2026-11-01T00:00:00Z",
        "ProductionVariants": [{"VariantName": "AllTraffic", "ModelName": "m", "InitialInstanceCount": 2,
                                "InstancePools": [{"InstanceType": "ml.g6.xlarge", "Priority": 2},
                                                  {"InstanceType": "ml.g5.xlarge", "Priority": 1}]}],
    }, {"EndpointConfigName": "cfg-1"})
    aas.add_response("register_scalable_target", {}, {
        "ServiceNamespace": "sagemaker", "ResourceId": RESOURCE_ID, "ScalableDimension": DIMENSION,
        "MinCapacity": 2, "MaxCapacity": 6})
    aas.add_response("put_scheduled_action", {}, {
        "ServiceNamespace": "sagemaker", "ResourceId": RESOURCE_ID, "ScalableDimension": DIMENSION,
        "ScheduledActionName": "office-hours", "Schedule": "cron(0 8 ? * MON-FRI *)", "Timezone": "Europe/Berlin",
        "ScalableTargetAction": {"MinCapacity": 3}})
    new = props("after", "ml.g5.xlarge")
    new["Variants"][0]["InstanceTypes"] = ["ml.g5.xlarge", "ml.g6.xlarge"]
    guard.handler(request("Update", new, props("after", "ml.c5.xlarge")), lambda_context)
    assert answered(guard)["Data"] == {"Actions": "AllTraffic:registered"}
    sm.assert_no_pending_responses()
    aas.assert_no_pending_responses()


def test_an_aws_error_answers_failed_with_the_reason(guard, lambda_context):
    sm, _ = stubbed(guard)
    sm.add_client_error("describe_endpoint", "AccessDeniedException", "not authorized to DescribeEndpoint")
    guard.handler(request("Update", props("before", "ml.m5.xlarge"), props("before", "ml.c5.xlarge")), lambda_context)
    response = answered(guard)
    assert response["Status"] == "FAILED"
    assert response["Reason"].startswith("ClientError: An error occurred (AccessDeniedException)")
    assert response["PhysicalResourceId"] == f"endpoint-scaling-guard/{ENDPOINT}/before"


def test_inference_component_endpoint_refuses_another_instance_type(guard, sm, lambda_context):
    run_endpoint(sm, "ml.c5.xlarge")
    old = props("before", "ml.c5.xlarge", kind="inference-components", scaling=False)
    new = props("before", "ml.m5.xlarge", kind="inference-components", scaling=False)
    guard.handler(request("Update", new, old), lambda_context)
    response = answered(guard)
    assert response["Status"] == "FAILED"
    assert response["Reason"] == (
        f"Inference-component endpoint {ENDPOINT} cannot change its instance type in place (variant AllTraffic: "
        "ml.c5.xlarge -> ml.m5.xlarge): SageMaker refuses UpdateEndpoint to a different instance type while "
        "inference components run on it. Nothing was changed. To move it: add a second endpoint with the new "
        "instance type and the components, deploy, move the callers, then remove the old one; or deploy once "
        "without its components, then with the new instance type and the components."
    )
    guard.responses.clear()
    # Its rollback (back to the type the endpoint runs) succeeds: the stack does not end UPDATE_ROLLBACK_FAILED.
    guard.handler(request("Update", old, new), lambda_context)
    assert answered(guard)["Status"] == "SUCCESS"


def test_anything_but_a_custom_resource_request_is_ignored_without_a_response(guard, lambda_context):
    assert guard.handler({"id": "1", "detail-type": "Something Else", "detail": {}}, lambda_context) == {"action": "ignored"}
    assert guard.handler({**request("Create", props("before", "ml.c5.xlarge")), "RequestType": "Bogus"},
                         lambda_context) == {"action": "ignored"}
    assert guard.responses == []


def test_plan_is_pure_and_ordered(pure_handlers):
    module = pure_handlers[NAME]
    old, new = module.parse_spec(props("before", "ml.c5.xlarge")), module.parse_spec(props("before", "ml.m5.xlarge"))
    assert new.variants["AllTraffic"].scaling.scheduled_actions == (
        module.ScheduledAction("office-hours", "cron(0 8 ? * MON-FRI *)", "Europe/Berlin", 3, None),)
    assert [(a.verb, a.variant) for a in module.plan(old, new, {"AllTraffic": ("ml.c5.xlarge",)})] == [
        ("deregister", "AllTraffic")]
    assert [(a.verb, a.variant) for a in module.plan(old, new, {"AllTraffic": ("ml.m5.xlarge",)})] == [
        ("register", "AllTraffic")]
    assert module.plan(old, new, {}) == [module.Action("deregister", "AllTraffic", old.variants["AllTraffic"].scaling)]
    unscaled = module.parse_spec(props("after", "ml.c5.xlarge", scaling=False))
    scaled = module.parse_spec(props("after", "ml.m5.xlarge"))
    # autoscaling added together with the type change: CloudFormation creates the target, the guard must not
    assert module.plan(unscaled, scaled, {"AllTraffic": ("ml.m5.xlarge",)}) == []
