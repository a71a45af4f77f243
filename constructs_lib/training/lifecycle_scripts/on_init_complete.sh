#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# HyperPod OnInitComplete entry point of every Slurm instance group (LifeCycleConfig.OnInitComplete).
#
# The cluster uses the API-driven Slurm configuration: node types and partitions come from each
# group's SlurmConfig, FSx for Lustre from its InstanceStorageConfigs, and HyperPod's AMI-based
# initialization writes slurm.conf and starts the daemons. This script runs AFTER that initialization
# (API reference ClusterLifeCycleConfig.OnInitComplete), as root, once per node, and adds our work:
#   1. waits until the shared FSx for Lustre file system is writable (when the cluster has one)  mount_fsx.sh
#   2. orders the Slurm daemons after the file system on reboots; user environment; enroot      setup_slurm.sh
#   3. installs the CloudWatch agent publishing GPU (nvidia_smi) and host metrics                install_cloudwatch_agent.sh
#   4. with node monitoring: the node collector (idle GPUs, DCGM health, Slurm, EFA)          install_node_collector.sh
#   5. with a Prometheus workspace: dcgm-exporter + OpenTelemetry remote write (GPU nodes)     install_prometheus_forwarder.sh
# A failure in 1 or 2 fails the node (HyperPod reports it and replaces or retries the node); a
# failure in 3, 4 or 5 only costs metrics and is logged as a warning.
#
# When it runs again: on every new or replacement node, and on every node of a group when
# UpdateClusterSoftware patches it. Every step is idempotent. A changed script prefix (new content,
# new SourceS3Uri) does NOT reach running nodes: they keep what they ran at boot until replaced or
# patched (SageMaker Developer Guide, "Updating a cluster with new or updated lifecycle scripts").
# S3 keeps no file modes, so the script may be started as `sh on_init_complete.sh`: switch to bash first.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export AIPLATFORM_STEP=on_init_complete
# shellcheck source=common.sh
source "$HERE/common.sh"
start_logging

log "resource config: $RESOURCE_CONFIG, node layout: $HERE/aiplatform_cluster.json"
load_node_facts "$HERE"
log "cluster $CLUSTER_NAME ($CLUSTER_REGION): group $INSTANCE_GROUP, role $NODE_ROLE, manager $WORKLOAD_MANAGER"

if [[ -n "$FSX_MOUNT_POINT" ]]; then
  log "waiting for FSx for Lustre at $FSX_MOUNT_POINT"
  bash "$HERE/mount_fsx.sh"
fi

log "completing Slurm setup for the $NODE_ROLE role"
bash "$HERE/setup_slurm.sh"

if ! bash "$HERE/install_cloudwatch_agent.sh"; then
  log "WARNING: CloudWatch agent not installed; node metrics will be missing"
fi

if ! bash "$HERE/install_node_collector.sh"; then
  log "WARNING: node collector not installed; idle-GPU, GPU health, Slurm and EFA metrics will be missing"
fi

if ! bash "$HERE/install_prometheus_forwarder.sh"; then
  log "WARNING: Prometheus forwarder not started; DCGM metrics will be missing from the workspace"
fi

log "done"
