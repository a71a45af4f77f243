"""TrainingNetwork: private subnets, endpoints, flow logs and the EFA security group."""

from __future__ import annotations

import pytest
from training_testkit import AZS, new_stack, resources

from constructs_lib.errors import PlatformValidationError

EFA_GROUP = {"Fn::GetAtt": ["NetworkEfaSecurityGroup3744DDDC", "GroupId"]}


@pytest.mark.xdist_group("training-synth")
class TestSynthesized:
    def test_efa_group_allows_all_traffic_from_and_to_itself(self, training_app):
        template = training_app.templates["slurm"]
        ingress = [r["Properties"] for r in resources(template, "AWS::EC2::SecurityGroupIngress").values()]
        egress = [r["Properties"] for r in resources(template, "AWS::EC2::SecurityGroupEgress").values()]
        assert {
            "Description": "All traffic from members (EFA, Lustre)",
            "GroupId": EFA_GROUP,
            "IpProtocol": "-1",
            "SourceSecurityGroupId": EFA_GROUP,
        } in ingress
        assert {
            "Description": "All traffic to members (EFA, Lustre)",
            "GroupId": EFA_GROUP,
            "IpProtocol": "-1",
            "DestinationSecurityGroupId": EFA_GROUP,
        } in egress

    def test_efa_group_egress_is_explicit(self, training_app):
        group = training_app.templates["slurm"]["Resources"]["NetworkEfaSecurityGroup3744DDDC"]["Properties"]
        assert group["SecurityGroupEgress"] == [
            {
                "CidrIp": "0.0.0.0/0",
                "Description": "HTTPS to S3, VPC endpoints and AWS APIs",
                "FromPort": 443,
                "IpProtocol": "tcp",
                "ToPort": 443,
            },
            {
                "CidrIp": "0.0.0.0/0",
                "Description": "HTTP to OS package mirrors through NAT",
                "FromPort": 80,
                "IpProtocol": "tcp",
                "ToPort": 80,
            },
        ]
        assert "SecurityGroupIngress" not in group  # nothing from outside the group

    def test_endpoints_accept_https_from_the_nodes_only(self, training_app):
        template = training_app.templates["slurm"]
        ingress = [r["Properties"] for r in resources(template, "AWS::EC2::SecurityGroupIngress").values()]
        assert {
            "Description": "HTTPS from training nodes",
            "FromPort": 443,
            "ToPort": 443,
            "IpProtocol": "tcp",
            "GroupId": {"Fn::GetAtt": ["NetworkEndpointSecurityGroup6DEF6240", "GroupId"]},
            "SourceSecurityGroupId": EFA_GROUP,
        } in ingress

    def test_interface_and_gateway_endpoints(self, training_app):
        endpoints = resources(training_app.templates["slurm"], "AWS::EC2::VPCEndpoint").values()
        services = sorted(str(e["Properties"]["ServiceName"]) for e in endpoints)
        for name in (
            "sagemaker.api",
            "ecr.api",
            "ecr.dkr",
            "logs",
            "monitoring",
            "sts",
            "ssm",
            "ssmmessages",
            "ec2messages",
        ):
            assert any(s.endswith(f".{name}") or f".{name}'" in s or f"{name}" in s for s in services), name
        kinds = sorted(e["Properties"].get("VpcEndpointType", "Gateway") for e in endpoints)
        assert kinds.count("Gateway") == 1 and kinds.count("Interface") == 9
        for endpoint in endpoints:
            if endpoint["Properties"].get("VpcEndpointType") == "Interface":
                assert endpoint["Properties"]["PrivateDnsEnabled"] is True
                assert endpoint["Properties"]["SecurityGroupIds"] == [
                    {"Fn::GetAtt": ["NetworkEndpointSecurityGroup6DEF6240", "GroupId"]}
                ]

    def test_subnets_use_the_given_availability_zones(self, training_app):
        subnets = resources(training_app.templates["slurm"], "AWS::EC2::Subnet")
        private = {k: v for k, v in subnets.items() if "Private" in k}
        assert sorted(v["Properties"]["AvailabilityZone"] for v in private.values()) == AZS
        assert all(v["Properties"]["MapPublicIpOnLaunch"] is False for v in subnets.values())
        assert sorted(v["Properties"]["CidrBlock"] for v in private.values()) == [
            "10.0.128.0/18",
            "10.0.64.0/18",
        ]

    def test_flow_logs_go_to_an_encrypted_retained_log_group(self, training_app):
        template = training_app.templates["slurm"]
        flow_log = template["Resources"]["NetworkVpcFlowLog9B71FB8D"]["Properties"]
        assert flow_log["TrafficType"] == "ALL" and flow_log["LogGroupName"] == {
            "Ref": "NetworkFlowLogs2BEC3212"
        }
        group = template["Resources"]["NetworkFlowLogs2BEC3212"]
        assert group["Properties"]["KmsKeyId"] == {"Fn::GetAtt": ["NetworkKey1D162FA0", "Arn"]}
        assert group["DeletionPolicy"] == "Retain"
        policy = template["Resources"]["NetworkFlowLogPolicyC5431858"]["Properties"]
        assert policy["Roles"] == [{"Ref": "NetworkFlowLogRole4C0B2D1D"}]
        assert policy["PolicyDocument"]["Statement"][0]["Resource"] == {
            "Fn::GetAtt": ["NetworkFlowLogs2BEC3212", "Arn"]
        }
        assert "NetworkFlowLogRoleDefaultPolicy" not in " ".join(template["Resources"])

    def test_key_allows_cloudwatch_logs_of_this_account_only(self, training_app):
        key = training_app.templates["slurm"]["Resources"]["NetworkKey1D162FA0"]
        assert key["DeletionPolicy"] == "Retain" and key["Properties"]["EnableKeyRotation"] is True
        logs = [
            s
            for s in key["Properties"]["KeyPolicy"]["Statement"]
            if s.get("Sid") == "AllowCloudWatchLogsOfThisAccount"
        ]
        assert logs[0]["Principal"] == {
            "Service": {"Fn::Join": ["", ["logs.", {"Ref": "AWS::Region"}, ".amazonaws.com"]]}
        }
        assert "kms:EncryptionContext:aws:logs:arn" in logs[0]["Condition"]["ArnLike"]

    def test_exposes_subnets_and_groups(self, training_app):
        network = training_app.network
        assert len(network.private_subnets) == 2 and network.primary_subnet is network.private_subnets[0]
        assert network.internet_egress is True and network.flow_log_group is not None
        assert len(network.interface_endpoints) == 9


def test_isolated_network_without_nat_has_no_public_subnets_or_http_egress():
    from aws_cdk.assertions import Template

    from constructs_lib.training import TrainingNetwork

    stack = new_stack()
    network = TrainingNetwork(
        stack, "Network", availability_zones=["us-west-2a"], nat_gateways=0, interface_endpoints=()
    )
    template = Template.from_stack(stack).to_json()
    assert not resources(template, "AWS::EC2::NatGateway") and not resources(
        template, "AWS::EC2::InternetGateway"
    )
    assert (
        not resources(template, "AWS::EC2::VPCEndpoint")
        or len(resources(template, "AWS::EC2::VPCEndpoint")) == 1
    )
    group = next(iter(resources(template, "AWS::EC2::SecurityGroup").values()))["Properties"]
    assert [rule["FromPort"] for rule in group["SecurityGroupEgress"]] == [443]
    assert network.internet_egress is False


def test_existing_vpc_gets_the_group_and_endpoints_but_no_flow_logs():
    from aws_cdk import aws_ec2 as ec2
    from aws_cdk.assertions import Template

    from constructs_lib.training import TrainingNetwork

    stack = new_stack()
    vpc = ec2.Vpc.from_vpc_attributes(
        stack,
        "Existing",
        vpc_id="vpc-0123456789abcdef0",
        availability_zones=["us-east-1a"],
        private_subnet_ids=["subnet-0123456789abcdef0"],
        vpc_cidr_block="10.1.0.0/16",
    )
    network = TrainingNetwork(stack, "Network", vpc=vpc, interface_endpoints=())
    template = Template.from_stack(stack).to_json()
    assert not resources(template, "AWS::EC2::FlowLog") and not resources(template, "AWS::EC2::VPC")
    assert network.private_subnets[0].subnet_id == "subnet-0123456789abcdef0"


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"availability_zones": []}, r"availability_zones: got \[\]; at least one availability zone"),
        ({"availability_zones": ["us-east-1a", "us-east-1a"]}, r"availability_zones: .*distinct"),
        ({"cidr": "10.0.0.0/8"}, r"cidr: got '10\.0\.0\.0/8'; an IPv4 CIDR block with prefix 16-28"),
        ({"cidr": "ten"}, r"cidr: got 'ten'; an IPv4 CIDR block"),
        ({"nat_gateways": 3, "availability_zones": AZS}, r"nat_gateways: got 3; 0-2"),
        (
            {"private_subnet_mask": 17, "availability_zones": AZS},
            r"private_subnet_mask: got 17; subnets of 2 AZ\(s\) need 98304 addresses",
        ),
    ],
)
def test_bad_network_props_are_refused(props, message):
    from constructs_lib.training import TrainingNetwork

    with pytest.raises(PlatformValidationError, match=message):
        TrainingNetwork(new_stack(), "Network", **props)


def test_availability_zones_with_an_existing_vpc_are_refused():
    from aws_cdk import aws_ec2 as ec2

    from constructs_lib.training import TrainingNetwork

    stack = new_stack()
    vpc = ec2.Vpc.from_vpc_attributes(
        stack, "Existing", vpc_id="vpc-1", availability_zones=["us-east-1a"], private_subnet_ids=["subnet-1"]
    )
    with pytest.raises(
        PlatformValidationError, match=r"availability_zones: got \['us-east-1a'\]; omit when vpc"
    ):
        TrainingNetwork(stack, "Network", vpc=vpc, availability_zones=["us-east-1a"])
