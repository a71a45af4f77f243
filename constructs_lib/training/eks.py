"""HyperPod on EKS: the EKS cluster (when the platform creates it), what must run in it before HyperPod
nodes join, and the node permissions and network the VPC CNI needs.

* :class:`HyperPodEksCluster` creates an EKS control plane for HyperPod with the L1
  ``AWS::EKS::Cluster`` (no custom resource, no kubectl needed to create it): authentication mode
  ``API`` (SageMaker Developer Guide, "Getting started with Amazon EKS support in SageMaker HyperPod":
  HyperPod supports ``API`` and ``API_AND_CONFIG_MAP``), no bootstrap admin for the deploying role,
  an access entry with ``AmazonEKSClusterAdminPolicy`` for each named admin, all five control-plane
  log types into a KMS-encrypted log group, Kubernetes secrets encrypted with the given key, and a
  private API endpoint (public only for listed CIDRs).
* :class:`HyperPodEksDependencies` installs what AWS says must be in the cluster: EKS add-ons
  (``AWS::EKS::Addon``) where AWS publishes them (VPC CNI pinned to a version HyperPod supports,
  kube-proxy, CoreDNS, the Pod Identity agent, cert-manager (an EKS community add-on), the FSx for
  Lustre CSI driver, CloudWatch observability), each switchable; and, through aws-cdk-lib's kubectl
  handler (a Lambda function with the pinned kubectl/helm layer, no Docker), AWS's
  ``hyperpod-dependencies`` Helm chart (vendored in ``charts/hyperpod-dependencies``, shipped as a CDK
  asset) and the static PersistentVolume of the stack's FSx file system, with an access entry for the
  handler.
* :func:`add_vpc_cni_policy` gives a HyperPod execution role the ``AmazonEKS_CNI_Policy`` actions
  (the VPC CNI runs with the node's role on HyperPod nodes), scoped where IAM allows.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, TypedDict

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_eks as eks
from aws_cdk import aws_eks_v2 as eks_v2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from constructs_lib.compliance import acknowledge
from constructs_lib.errors import PlatformValidationError, Problem, Problems
from constructs_lib.training._iam import network_interface_arn
from constructs_lib.training._nag import wildcard_resource
from constructs_lib.training._resources import LOG_RETENTION

# Kubernetes versions accepted for a created cluster: those HyperPod supports (SageMaker Developer
# Guide, "Getting started with Amazon EKS support in SageMaker HyperPod": 1.28-1.34) that are within
# kubectl's one-minor-version skew of the pinned kubectl layer (aws-cdk.lambda-layer-kubectl-v33).
KUBERNETES_VERSIONS = ("1.32", "1.33", "1.34")
DEFAULT_KUBERNETES_VERSION = "1.33"
# HyperPod requires the Amazon VPC CNI 1.18.3 or later (same guide, "Networking"); the EKS User Guide
# ("Amazon VPC CNI versions") lists v1.20.1-eksbuild.3 as the add-on version for Kubernetes 1.28-1.33.
VPC_CNI_VERSION = "v1.20.1-eksbuild.3"
# All control-plane log types (EKS User Guide, "Send control plane logs to CloudWatch Logs").
CONTROL_PLANE_LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")
CLUSTER_ADMIN_POLICY = "arn:{partition}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
# AWS's HyperPod Helm chart (aws/sagemaker-hyperpod-cli helm_chart/HyperPodHelmChart), installed as
# the SageMaker guide's "Installing packages on the Amazon EKS cluster using Helm" does.
DEPENDENCIES_RELEASE = "hyperpod-dependencies"
DEPENDENCIES_NAMESPACE = "kube-system"
# The copy of that chart in this package (its NOTICE names the source commits and the changes): AWS
# publishes it in a Git repository only, so it ships as a CDK asset (a zip in the bootstrap bucket) that
# the kubectl handler downloads; `helm upgrade --install` needs no Helm repository for it.
VENDORED_CHART_DIRECTORY = str(Path(__file__).parent / "charts" / "hyperpod-dependencies")
VENDORED_CHART_SOURCE = "aws/sagemaker-hyperpod-cli@011ca927123e02b35a399935bbb3ab1905fe33c7 helm_chart/HyperPodHelmChart"
# Subcharts of the vendored chart that need charts of their own from remote Helm repositories, which
# are not vendored (values key -> what the key enables).
VENDORED_CHART_UNSUPPORTED = {
    "cert-manager": "cert-manager (removed from the vendored chart's dependencies)",
    "inferenceOperators": "the HyperPod inference operator (its subcharts come from remote Helm repositories)",
    "gpu-operator": "the NVIDIA GPU operator (its subchart comes from helm.ngc.nvidia.com)",
}
FSX_CSI_DRIVER = "fsx.csi.aws.com"
EKS_CLUSTER_NAME_PATTERN = re.compile(r"^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$")
IAM_PRINCIPAL_ARN_PATTERN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:(role|user)/[\w+=,.@/-]+$")
SECURITY_GROUP_ID_PATTERN = re.compile(r"^sg-[0-9a-f]{8,17}$")


class EksAddon(str, Enum):
    """EKS add-ons (``AWS::EKS::Addon`` ``AddonName``) the HyperPod dependencies may install."""

    VPC_CNI = "vpc-cni"
    KUBE_PROXY = "kube-proxy"
    COREDNS = "coredns"
    POD_IDENTITY_AGENT = "eks-pod-identity-agent"
    # A community add-on (EKS User Guide, "Community add-ons": add-on name cert-manager, namespace
    # cert-manager, no service account or IAM policy); a prerequisite of AWS's HyperPod training
    # operator (SageMaker Developer Guide, "Installing the training operator") and inference operator.
    CERT_MANAGER = "cert-manager"
    FSX_CSI_DRIVER = "aws-fsx-csi-driver"
    CLOUDWATCH_OBSERVABILITY = "amazon-cloudwatch-observability"


# What a cluster the platform creates gets by default (AWS's eks-template.yaml of
# aws/sagemaker-hyperpod-cluster-setup installs the first four; cert-manager so that AWS's HyperPod
# training operator add-on can follow); the FSx CSI driver is added when the cluster has shared storage.
CREATED_CLUSTER_ADDONS = (EksAddon.VPC_CNI, EksAddon.KUBE_PROXY, EksAddon.COREDNS, EksAddon.POD_IDENTITY_AGENT,
                          EksAddon.CERT_MANAGER)
# An existing cluster already runs the networking add-ons; the Pod Identity agent is a HyperPod
# prerequisite that plain EKS clusters lack. cert-manager is left to the user there: a cluster may run
# its own, and two copies conflict.
EXISTING_CLUSTER_ADDONS = (EksAddon.POD_IDENTITY_AGENT,)
PINNED_ADDON_VERSIONS: Mapping[EksAddon, str] = {EksAddon.VPC_CNI: VPC_CNI_VERSION}


@dataclass(frozen=True, kw_only=True)
class HyperPodDependenciesChart:
    """AWS's ``hyperpod-dependencies`` Helm chart, from a local folder packaged as a CDK asset.

    AWS publishes the chart in the ``aws/sagemaker-hyperpod-cli`` repository only (no Helm repository).
    The default is the copy vendored in this package (:data:`VENDORED_CHART_DIRECTORY`, from
    :data:`VENDORED_CHART_SOURCE`, with its remote subcharts vendored and cert-manager left out). Another
    copy works too: ``git clone`` that repository, run ``helm dependencies update
    helm_chart/HyperPodHelmChart`` and point ``directory`` at that folder. The asset hash pins the exact
    chart content deployed.

    :param directory: folder holding ``Chart.yaml`` and every dependency it lists under ``charts/``.
        Default: the vendored copy.
    :param values: Helm values over the chart's defaults (its defaults install the Kubeflow training
        operator (PyTorchJob and other CRDs, namespace ``kubeflow``), the MPI operator, the NVIDIA, Neuron
        and EFA device plugins, the health-monitoring agent, deep health checks, job auto-restart and
        HyperPod patching). ``global.region`` defaults to the stack's region (the health-monitoring
        agent's image registry is regional). Default: none.
    """

    directory: str = VENDORED_CHART_DIRECTORY
    values: Mapping[str, Any] | None = None

    @property
    def vendored(self) -> bool:
        """Whether this is the copy vendored in this package."""
        return isinstance(self.directory, str) and Path(self.directory).resolve() == Path(VENDORED_CHART_DIRECTORY).resolve()


class HyperPodEksClusterOptions(TypedDict, total=False):
    """The keyword arguments of :class:`HyperPodEksCluster` that a config sets (every one but the name,
    network, key and removal policy), with the constructor's names, types and defaults:
    ``HyperPodEksCluster(scope, id, cluster_name=..., vpc=..., subnets=..., encryption_key=..., **options)``.
    The platform's config builds it from ``eks.create`` (``EksCreateSection.to_spec()``)."""

    version: str
    admins: Sequence[str]
    public_access_cidrs: Sequence[str]


class HyperPodEksCluster(Construct):
    """An EKS control plane for HyperPod nodes in the given VPC (``AWS::EKS::Cluster``).

    :param cluster_name: the EKS cluster's name (replaces the cluster when changed).
    :param version: Kubernetes version, one of :data:`KUBERNETES_VERSIONS`.
    :param vpc: the VPC of the control plane's network interfaces.
    :param subnets: private subnets of the control plane (at least two, in two AZs).
    :param encryption_key: encrypts Kubernetes secrets (envelope encryption) and the control-plane log
        group. Its key policy must allow CloudWatch Logs of the account.
    :param admins: IAM role or user ARNs given ``AmazonEKSClusterAdminPolicy`` through access entries.
        Default: none (the deploying role gets no implicit admin access either).
    :param public_access_cidrs: CIDRs allowed to reach the public API endpoint. Default: none, the
        endpoint is private (reachable from the VPC only).
    :param removal_policy: of the EKS cluster. Default ``DESTROY`` (it holds no data of its own).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        cluster_name: str,
        vpc: ec2.IVpc,
        subnets: Sequence[ec2.ISubnet],
        encryption_key: kms.IKey,
        version: str = DEFAULT_KUBERNETES_VERSION,
        admins: Sequence[str] = (),
        public_access_cidrs: Sequence[str] = (),
        removal_policy: RemovalPolicy = RemovalPolicy.DESTROY,
    ) -> None:
        super().__init__(scope, id)
        problems = Problems(f"HyperPodEksCluster {self.node.path}")
        check_eks_cluster_props(
            problems,
            cluster_name=cluster_name,
            version=version,
            admins=list(admins),
            public_access_cidrs=list(public_access_cidrs),
            subnet_count=len(subnets),
        )
        problems.raise_if_any()
        stack = Stack.of(self)
        self.vpc = vpc
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("eks.amazonaws.com"),
            description=f"EKS control plane of {cluster_name}",
            managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name("AmazonEKSClusterPolicy")],
        )
        acknowledge(
            self.role,
            "AmazonEKSClusterPolicy is the policy EKS documents for the cluster service role (EKS User Guide, "
            "'Amazon EKS cluster IAM role'); AWS keeps it in step with what the control plane calls.",
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonEKSClusterPolicy]",
        )
        # EKS writes control-plane logs to /aws/eks/<name>/cluster; created here so it is encrypted,
        # kept a year and retained instead of the never-expiring unencrypted group EKS would create.
        self.log_group = logs.LogGroup(
            self,
            "ControlPlaneLogs",
            log_group_name=f"/aws/eks/{cluster_name}/cluster",
            encryption_key=encryption_key,
            retention=LOG_RETENTION,
            removal_policy=RemovalPolicy.RETAIN,
        )
        public = bool(public_access_cidrs)
        self.resource = eks.CfnCluster(
            self,
            "Resource",
            name=cluster_name,
            version=version,
            role_arn=self.role.role_arn,
            access_config=eks.CfnCluster.AccessConfigProperty(
                authentication_mode="API", bootstrap_cluster_creator_admin_permissions=False
            ),
            resources_vpc_config=eks.CfnCluster.ResourcesVpcConfigProperty(
                subnet_ids=[s.subnet_id for s in subnets],
                endpoint_private_access=True,
                endpoint_public_access=public,
                public_access_cidrs=list(public_access_cidrs) if public else None,
            ),
            encryption_config=[
                eks.CfnCluster.EncryptionConfigProperty(
                    provider=eks.CfnCluster.ProviderProperty(key_arn=encryption_key.key_arn),
                    resources=["secrets"],
                )
            ],
            logging=eks.CfnCluster.LoggingProperty(
                cluster_logging=eks.CfnCluster.ClusterLoggingProperty(
                    enabled_types=[eks.CfnCluster.LoggingTypeConfigProperty(type=t) for t in CONTROL_PLANE_LOG_TYPES]
                )
            ),
        )
        self.resource.apply_removal_policy(removal_policy)
        self.resource.node.add_dependency(self.log_group)
        # EKS checks at creation that its role may use the secrets key (EKS User Guide, "Encrypt
        # Kubernetes secrets with KMS on existing clusters": kms:DescribeKey, CreateGrant).
        self.key_policy = iam.ManagedPolicy(
            self,
            "SecretsKeyPolicy",
            roles=[self.role],
            statements=[
                iam.PolicyStatement(
                    sid="EncryptKubernetesSecrets",
                    actions=["kms:CreateGrant", "kms:DescribeKey", "kms:Encrypt", "kms:Decrypt"],
                    resources=[encryption_key.key_arn],
                )
            ],
        )
        self.resource.node.add_dependency(self.key_policy)
        if public:
            acknowledge(
                self.resource,
                "The public API endpoint is open only to the CIDRs the configuration lists "
                f"({', '.join(public_access_cidrs)}); nodes and the kubectl handler use the private endpoint.",
                "AwsSolutions-EKS1",
            )
        self.cluster_name: str = self.resource.ref
        self.cluster_arn: str = self.resource.attr_arn
        # The security group EKS creates for the cluster: control plane and every member may talk
        # freely (EKS User Guide, "View Amazon EKS security group requirements for clusters").
        self.cluster_security_group_id: str = self.resource.attr_cluster_security_group_id
        self.access_entries: list[eks.CfnAccessEntry] = []
        for index, principal in enumerate(admins):
            entry = eks.CfnAccessEntry(
                self,
                f"Admin{index}",
                cluster_name=self.cluster_name,
                principal_arn=principal,
                type="STANDARD",
                access_policies=[_cluster_admin(stack)],
            )
            self.access_entries.append(entry)

    def orchestration(self):
        """``EksOrchestration`` for a :class:`~constructs_lib.training.HyperPodCluster` joining this cluster."""
        from constructs_lib.training.cluster import EksOrchestration

        return EksOrchestration(
            cluster_arn=self.cluster_arn, cluster_security_group_id=self.cluster_security_group_id
        )


def _cluster_admin(stack: Stack) -> eks.CfnAccessEntry.AccessPolicyProperty:
    return eks.CfnAccessEntry.AccessPolicyProperty(
        access_scope=eks.CfnAccessEntry.AccessScopeProperty(type="cluster"),
        policy_arn=CLUSTER_ADMIN_POLICY.format(partition=stack.partition),
    )


class HyperPodEksDependenciesOptions(TypedDict, total=False):
    """The keyword arguments of :class:`HyperPodEksDependencies` that a config sets: what goes into the
    EKS cluster (add-ons, the HyperPod chart, the kubectl handler), with the constructor's names, types
    and defaults: ``HyperPodEksDependencies(scope, id, cluster_name=..., ..., lustre_volumes=..., **options)``.
    The platform's config builds it from ``eks`` (``EksSection.to_spec(lustre=...)``)."""

    addons: Sequence[EksAddon]
    dependencies_chart: HyperPodDependenciesChart | None
    installer: bool | None


class HyperPodEksDependencies(Construct):
    """What must run in the EKS cluster before HyperPod nodes join and recover.

    :param cluster_name: name of the EKS cluster (created or existing, same account and region).
    :param cluster_security_group_id: the EKS cluster security group; the kubectl handler runs in it.
    :param vpc: the EKS cluster's VPC.
    :param subnets: private subnets of that VPC for the kubectl handler.
    :param addons: EKS add-ons to install (each one an ``AWS::EKS::Addon``). An add-on the cluster
        already has as an EKS add-on must be left out (creating it again fails).
    :param addon_versions: versions per add-on. Default :data:`PINNED_ADDON_VERSIONS` (the VPC CNI);
        other add-ons get EKS's default version for the cluster's Kubernetes version.
    :param dependencies_chart: AWS's ``hyperpod-dependencies`` Helm chart (``HyperPodDependenciesChart()``
        is the vendored copy). Default: not installed.

    :param lustre_volumes: FSx for Lustre file systems exposed as a static PersistentVolume and a
        PersistentVolumeClaim each (``LustreStorage`` objects). Default: none.
    :param installer: create aws-cdk-lib's kubectl handler and its access entry (needed for the chart
        and the volumes). Default: ``True`` when a chart or volume is given.
    :param volume_namespace: namespace of the PersistentVolumeClaims. Default ``kubeflow`` with the chart
        (HyperPod job auto-resume watches jobs in ``kubeflow`` or ``hyperpod*`` namespaces; the chart's
        training operator creates ``kubeflow``), else ``default``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        cluster_name: str,
        cluster_security_group_id: str,
        vpc: ec2.IVpc,
        subnets: Sequence[ec2.ISubnet],
        addons: Sequence[EksAddon] = (),
        addon_versions: Mapping[EksAddon, str] | None = None,
        dependencies_chart: HyperPodDependenciesChart | None = None,
        lustre_volumes: Sequence[Any] = (),
        installer: bool | None = None,
        volume_namespace: str | None = None,
    ) -> None:
        super().__init__(scope, id)
        wants_installer = dependencies_chart is not None or bool(lustre_volumes)
        installer = wants_installer if installer is None else installer
        problems = Problems(f"HyperPodEksDependencies {self.node.path}")
        check_dependencies_props(
            problems,
            addons=list(addons),
            dependencies_chart=dependencies_chart,
            lustre_volume_count=len(lustre_volumes),
            installer=installer,
        )
        problems.raise_if_any()
        versions = dict(PINNED_ADDON_VERSIONS if addon_versions is None else addon_versions)
        self.cluster_name = cluster_name
        self.addons: dict[EksAddon, eks.CfnAddon] = {}
        for addon in addons:
            addon = EksAddon(addon)
            self.addons[addon] = eks.CfnAddon(
                self,
                _construct_id(addon.value),
                addon_name=addon.value,
                cluster_name=cluster_name,
                addon_version=versions.get(addon),
                # Take over a self-managed copy (e.g. the VPC CNI EKS installs at creation), as AWS's
                # templates do; the add-on's own defaults then apply.
                resolve_conflicts="OVERWRITE",
            )
        self.kubectl_role: iam.Role | None = None
        self.installer_access_entry: eks.CfnAccessEntry | None = None
        self.chart: eks_v2.HelmChart | None = None
        self.volume_manifests: list[eks_v2.KubernetesManifest] = []
        self.volume_claims: dict[str, str] = {}
        if not installer:
            return
        stack = Stack.of(self)
        try:
            from aws_cdk.lambda_layer_kubectl_v33 import KubectlV33Layer
        except ImportError as missing:  # the optional dependency of the kubectl handler
            raise PlatformValidationError(
                f"HyperPodEksDependencies {self.node.path}",
                [Problem("installer", installer, "needs the kubectl layer: pip install 'aiplatform-cdk[eks]' "
                         "(aws-cdk.lambda-layer-kubectl-v33)")],
            ) from missing

        # The kubectl handler's execution role, which kubectl and helm run as; the access entry makes it
        # a cluster admin (AWS's helm-chart-template.yaml gives its installer the same access policy).
        self.kubectl_role = iam.Role(
            self,
            "KubectlRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"kubectl/helm installer of EKS cluster {cluster_name}",
        )
        self.installer_access_entry = eks.CfnAccessEntry(
            self,
            "InstallerAccess",
            cluster_name=cluster_name,
            principal_arn=self.kubectl_role.role_arn,
            type="STANDARD",
            access_policies=[_cluster_admin(stack)],
        )
        for addon in self.addons.values():
            # Charts and manifests go in after the networking add-ons.
            self.installer_access_entry.node.add_dependency(addon)
        reference = eks_v2.Cluster.from_cluster_attributes(
            self, "ClusterReference", cluster_name=cluster_name, vpc=vpc
        )
        self.kubectl_provider = eks_v2.KubectlProvider(
            self,
            "Kubectl",
            cluster=reference,
            kubectl_layer=KubectlV33Layer(self, "KubectlLayer"),
            role=self.kubectl_role,
            # The handler runs in the cluster security group, so it reaches the private API endpoint.
            private_subnets=list(subnets),
            security_groups=[
                ec2.SecurityGroup.from_security_group_id(
                    self, "ClusterSecurityGroup", cluster_security_group_id, mutable=False
                )
            ],
        )
        imported = eks_v2.Cluster.from_cluster_attributes(
            self, "Cluster", cluster_name=cluster_name, vpc=vpc, kubectl_provider=self.kubectl_provider
        )
        self.cluster = imported
        if dependencies_chart is not None:
            asset = s3_assets.Asset(self, "DependenciesChartAsset", path=dependencies_chart.directory)
            values = _merged({"global": {"region": stack.region}}, dependencies_chart.values or {})
            self.chart = eks_v2.HelmChart(
                self,
                "DependenciesChart",
                cluster=imported,
                chart_asset=asset,
                release=DEPENDENCIES_RELEASE,
                namespace=DEPENDENCIES_NAMESPACE,
                values=values,
                create_namespace=False,
                timeout=Duration.minutes(15),
            )
            self.chart.node.add_dependency(self.installer_access_entry)
            if EksAddon.CERT_MANAGER in self.addons:
                # cert-manager's CRDs exist before anything of the HyperPod chart could ask for them.
                self.chart.node.add_dependency(self.addons[EksAddon.CERT_MANAGER])
            acknowledge(
                self.kubectl_role,
                "aws-cdk-lib grants its kubectl handler read access (Asset.grantRead) to the chart asset, an "
                "object of the CDK asset bucket.",
                "AwsSolutions-IAM5[Action::s3:GetBucket*]",
                "AwsSolutions-IAM5[Action::s3:GetObject*]",
                "AwsSolutions-IAM5[Action::s3:List*]",
                wildcard_resource(self.kubectl_role, asset.bucket.arn_for_objects("*")),
            )
        if volume_namespace is None:
            volume_namespace = "kubeflow" if self.chart is not None else "default"
        for index, storage in enumerate(lustre_volumes):
            name = "fsx" if index == 0 else f"fsx-{index}"
            manifest = eks_v2.KubernetesManifest(
                self,
                f"LustreVolume{index}",
                cluster=imported,
                manifest=lustre_volume_manifests(
                    name=name,
                    file_system_id=storage.file_system_id,
                    dns_name=storage.dns_name,
                    mount_name=storage.mount_name,
                    storage_gib=storage.storage_capacity_gib,
                    namespace=volume_namespace,
                ),
                overwrite=True,
            )
            manifest.node.add_dependency(self.installer_access_entry)
            if self.chart is not None:
                manifest.node.add_dependency(self.chart)  # the chart creates the claim's namespace
            if EksAddon.FSX_CSI_DRIVER in self.addons:
                manifest.node.add_dependency(self.addons[EksAddon.FSX_CSI_DRIVER])
            self.volume_manifests.append(manifest)
            self.volume_claims[storage.node.path] = f"{volume_namespace}/{name}-claim"
        self._acknowledge_kubectl_handler(cluster_name)

    def _acknowledge_kubectl_handler(self, cluster_name: str) -> None:
        """Acknowledge what aws-cdk-lib's kubectl handler (KubectlProvider) knowingly does.

        The handler is a CloudFormation custom-resource provider (a Lambda function behind the
        custom-resource framework) that runs kubectl and helm at deploy time; its roles and policies
        are generated by aws-cdk-lib.
        """
        provider = self.kubectl_provider
        role = self.kubectl_role
        assert role is not None
        acknowledge(
            role,
            "aws-cdk-lib's kubectl handler runs with this role: aws-cdk-lib attaches the Lambda VPC-access and "
            "ECR read-only managed policies (pulling OCI charts) and eks:DescribeCluster as an inline policy; "
            "its power in the cluster is only the access entry on EKS cluster " + cluster_name + ".",
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]",
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly]",
            "AwsSolutions-IAM4[Policy::" + _ECR_PUBLIC_POLICY_FINDING.format(
                condition=_ecr_public_condition(self)) + "]",
            "HIPAA.Security-IAMNoInlinePolicy",
            "NIST.800.53.R5-IAMNoInlinePolicy",
            "PCI.DSS.321-IAMNoInlinePolicy",
        )
        handler = provider.node.find_child("Handler")
        acknowledge(
            provider,
            "aws-cdk-lib's custom-resource framework function for the kubectl handler: aws-cdk-lib gives it "
            "AWSLambdaBasicExecutionRole, AWSLambdaVPCAccessExecutionRole (it runs in the cluster's private "
            "subnets like the handler) and lambda:InvokeFunction on the handler and its versions.",
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]",
            wildcard_resource(provider, f"{handler.function_arn}:*"),  # type: ignore[attr-defined]
            "HIPAA.Security-IAMNoInlinePolicy",
            "NIST.800.53.R5-IAMNoInlinePolicy",
            "PCI.DSS.321-IAMNoInlinePolicy",
        )
        acknowledge(
            provider,
            "The runtimes of aws-cdk-lib's kubectl handler and custom-resource framework are chosen by the "
            "pinned aws-cdk-lib.",
            "AwsSolutions-L1",
            "Serverless-LambdaLatestVersion",
        )
        acknowledge(
            provider,
            "CloudFormation invokes these custom-resource functions synchronously a few times per deployment: "
            "a failure fails the deployment and shows in the stack events, so there is no asynchronous event "
            "to dead-letter, no concurrency to reserve and nothing to trace across services.",
            "HIPAA.Security-LambdaConcurrency",
            "NIST.800.53.R5-LambdaConcurrency",
            "HIPAA.Security-LambdaDLQ",
            "NIST.800.53.R5-LambdaDLQ",
            "Serverless-LambdaDLQ",
            "Serverless-LambdaTracing",
            "Serverless-LambdaDefaultMemorySize",
        )
        acknowledge(
            provider,
            "aws-cdk-lib creates the log groups of its kubectl handler and custom-resource framework without a "
            "key (KubectlProvider has no log-group or key prop); they hold deploy-time kubectl/helm output.",
            "HIPAA.Security-CloudWatchLogGroupEncrypted",
            "NIST.800.53.R5-CloudWatchLogGroupEncrypted",
            "PCI.DSS.321-CloudWatchLogGroupEncrypted",
        )


def _merged(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """Helm-style merge of values: mappings merge key by key, anything else in ``over`` wins."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merged(out[key], value)
        else:
            out[key] = value
    return out


_ECR_PUBLIC_POLICY_FINDING = (
    '{{"Fn::If":["{condition}",{{"Fn::Join":["",["arn:",{{"Ref":"AWS::Partition"}},'
    '":iam::aws:policy/AmazonElasticContainerRegistryPublicReadOnly"]]}},{{"Ref":"AWS::NoValue"}}]}}'
)


def _ecr_public_condition(scope: Construct) -> str:
    """Logical id of the ``HasEcrPublic`` condition aws-cdk-lib adds next to the kubectl handler."""
    condition = scope.node.find_child("HasEcrPublic")
    return Stack.of(scope).get_logical_id(condition)  # type: ignore[arg-type]


def lustre_volume_manifests(
    *, name: str, file_system_id: str, dns_name: str, mount_name: str, storage_gib: int, namespace: str
) -> list[dict[str, Any]]:
    """A static PersistentVolume and its claim for an FSx for Lustre file system (FSx CSI driver,
    "static provisioning": ``volumeHandle`` = file system id, ``dnsname`` and ``mountname`` attributes).

    The volume is retained when the claim goes (the file system is retained by the stack too).
    """
    capacity = f"{storage_gib}Gi"
    volume = f"{name}-pv"
    return [
        {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {"name": volume},
            "spec": {
                "capacity": {"storage": capacity},
                "volumeMode": "Filesystem",
                "accessModes": ["ReadWriteMany"],
                "mountOptions": ["flock"],
                "persistentVolumeReclaimPolicy": "Retain",
                "storageClassName": "",
                "claimRef": {"name": f"{name}-claim", "namespace": namespace},
                "csi": {
                    "driver": FSX_CSI_DRIVER,
                    "volumeHandle": file_system_id,
                    "volumeAttributes": {"dnsname": dns_name, "mountname": mount_name},
                },
            },
        },
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": f"{name}-claim", "namespace": namespace},
            "spec": {
                "accessModes": ["ReadWriteMany"],
                "storageClassName": "",
                "volumeName": volume,
                "resources": {"requests": {"storage": capacity}},
            },
        },
    ]


# The AmazonEKS_CNI_Policy actions (AWS managed policy reference, "AmazonEKS_CNI_Policy", version 5).
CNI_DESCRIBE_ACTIONS = (
    "ec2:DescribeInstances",
    "ec2:DescribeInstanceTypes",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DescribeTags",
)
CNI_INTERFACE_ACTIONS = (
    "ec2:AssignPrivateIpAddresses",
    "ec2:DeleteNetworkInterface",
    "ec2:UnassignPrivateIpAddresses",
)
CNI_ATTACH_ACTIONS = (
    "ec2:AttachNetworkInterface",
    "ec2:DetachNetworkInterface",
    "ec2:ModifyNetworkInterfaceAttribute",
)


def add_vpc_cni_policy(
    scope: Construct,
    id: str,
    *,
    role: iam.IRole,
    subnets: Sequence[ec2.ISubnet],
    security_groups: Sequence[ec2.ISecurityGroup],
) -> iam.ManagedPolicy:
    """The ``AmazonEKS_CNI_Policy`` actions for a HyperPod node role, scoped where IAM allows.

    The resource types per action come from the IAM action table bundled with the pinned cfn-lint:
    the describe calls take none; the network-interface actions take the interface (this account and
    region), attach/detach/modify also the instance (HyperPod instances' ids, and the account that
    owns them, are known only at run time), creation the subnet and security group.
    """
    stack = Stack.of(scope)
    eni = network_interface_arn(scope)
    instance = stack.format_arn(service="ec2", resource="instance", resource_name="*", account="*")
    subnet_arns = [stack.format_arn(service="ec2", resource="subnet", resource_name=s.subnet_id) for s in subnets]
    group_arns = [
        stack.format_arn(service="ec2", resource="security-group", resource_name=g.security_group_id)
        for g in security_groups
    ]
    policy = iam.ManagedPolicy(
        scope,
        id,
        roles=[role],
        statements=[
            iam.PolicyStatement(sid="CniDescribe", actions=list(CNI_DESCRIBE_ACTIONS), resources=["*"]),
            iam.PolicyStatement(sid="CniCreateInterfaces", actions=["ec2:CreateNetworkInterface"],
                                resources=[eni, *subnet_arns, *group_arns]),
            iam.PolicyStatement(sid="CniManageInterfaces", actions=list(CNI_INTERFACE_ACTIONS), resources=[eni]),
            iam.PolicyStatement(sid="CniAttachInterfaces", actions=list(CNI_ATTACH_ACTIONS),
                                resources=[eni, instance, *subnet_arns, *group_arns]),
            iam.PolicyStatement(sid="CniTagInterfaces", actions=["ec2:CreateTags"], resources=[eni]),
        ],
    )
    acknowledge(
        policy,
        "The VPC CNI (AmazonEKS_CNI_Policy actions) describes instances, types, interfaces, subnets and tags, "
        "which support no resource-level permissions; the interfaces it creates and the HyperPod instances "
        "it attaches them to get their ids at run time, so those actions name this account's "
        "network-interface/* and the region's instance/*; creation is limited to the cluster's subnets and "
        "security groups.",
        wildcard_resource(policy, "*"),
        wildcard_resource(policy, eni),
        wildcard_resource(policy, instance),
    )
    return policy


# -- rules (one copy: the constructs and the platform config run them) ---------------------------------
def check_eks_cluster_props(
    problems: Problems,
    *,
    cluster_name: str,
    version: str,
    admins: list[str],
    public_access_cidrs: list[str],
    subnet_count: int | None = None,
) -> None:
    """Rules of :class:`HyperPodEksCluster`, recorded under its prop names."""
    problems.check(
        isinstance(cluster_name, str) and bool(EKS_CLUSTER_NAME_PATTERN.match(cluster_name)),
        "cluster_name",
        cluster_name,
        "1-100 letters, digits, hyphens and underscores, starting with a letter or digit",
    )
    problems.check(
        version in KUBERNETES_VERSIONS,
        "version",
        version,
        "one of " + ", ".join(KUBERNETES_VERSIONS)
        + " (HyperPod-supported and within one minor version of the pinned kubectl 1.33)",
    )
    for index, admin in enumerate(admins):
        problems.check(
            isinstance(admin, str) and bool(IAM_PRINCIPAL_ARN_PATTERN.match(admin)),
            f"admins[{index}]",
            admin,
            "an IAM role or user ARN, arn:aws:iam::<account>:role/<name>",
        )
    for index, cidr in enumerate(public_access_cidrs):
        ok = False
        if isinstance(cidr, str):
            try:
                ipaddress.IPv4Network(cidr)
                ok = "/" in cidr
            except ValueError:
                ok = False
        problems.check(ok, f"public_access_cidrs[{index}]", cidr, "an IPv4 CIDR block such as 203.0.113.0/24")
    if subnet_count is not None:
        problems.check(subnet_count >= 2, "subnets", f"{subnet_count} subnets",
                       "at least 2 subnets in different availability zones (EKS requirement)")


def check_dependencies_props(
    problems: Problems,
    *,
    addons: list[Any],
    dependencies_chart: HyperPodDependenciesChart | None,
    lustre_volume_count: int,
    installer: bool,
) -> None:
    """Rules of :class:`HyperPodEksDependencies`, recorded under its prop names."""
    for index, addon in enumerate(addons):
        problems.check(addon in tuple(EksAddon), f"addons[{index}]", addon,
                       "one of " + ", ".join(a.value for a in EksAddon))
    if len(set(addons)) != len(addons):
        problems.add("addons", list(addons), "each add-on at most once")
    if dependencies_chart is not None:
        directory = dependencies_chart.directory
        problems.check(
            isinstance(directory, str) and (Path(directory) / "Chart.yaml").is_file(),
            "dependencies_chart.directory",
            directory,
            "a folder with Chart.yaml: AWS's helm_chart/HyperPodHelmChart after `helm dependencies update`",
        )
        if not installer:
            problems.add("installer", installer, "true with dependencies_chart (the chart is installed by it)")
        if dependencies_chart.vendored:
            values = dependencies_chart.values or {}
            for key, what in VENDORED_CHART_UNSUPPORTED.items():
                section = values.get(key) if isinstance(values, Mapping) else None
                enabled = section.get("enabled") if isinstance(section, Mapping) else None
                if enabled not in (None, False):
                    fix = ("use the cert-manager EKS add-on in addons instead" if key == "cert-manager"
                           else "install it yourself, or point dependencies_chart at your own copy")
                    problems.add(f"dependencies_chart.values.{key}.enabled", enabled,
                                 f"false with the vendored chart, which cannot install {what}: {fix}")
    if lustre_volume_count and not installer:
        problems.add(
            "installer", installer,
            "true with lustre_volumes (the PersistentVolume is applied by it), or no lustre_volumes",
        )


def check_existing_cluster_security_group(problems: Problems, key: str, value: Any) -> None:
    problems.check(
        isinstance(value, str) and bool(SECURITY_GROUP_ID_PATTERN.match(value)),
        key,
        value,
        "the EKS cluster security group id (sg-..., `aws eks describe-cluster --query "
        "cluster.resourcesVpcConfig.clusterSecurityGroupId`)",
    )


def _construct_id(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("-")) + "Addon"

