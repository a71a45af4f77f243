#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# HyperPod OnCreate entry point of EKS-orchestrated instance groups (LifeCycleConfig.OnCreate).
#
# Slurm groups use on_init_complete.sh instead. On EKS nodes this script learns the node's instance
# group from HyperPod's resource config, moves containerd and kubelet data to /opt/sagemaker
# (setup_container_runtime.sh; a failure fails the node) and installs the CloudWatch agent (GPU and
# host metrics); a failure there only costs metrics. It runs on every new or replacement node and again on
# UpdateClusterSoftware; a changed script prefix does not reach running nodes.
# S3 keeps no file modes, so the script may be started as `sh on_create.sh`: switch to bash first.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export AIPLATFORM_STEP=on_create
# shellcheck source=common.sh
source "$HERE/common.sh"
start_logging

log "resource config: $RESOURCE_CONFIG, node layout: $HERE/aiplatform_cluster.json"
load_node_facts "$HERE"
log "cluster $CLUSTER_NAME ($CLUSTER_REGION): group $INSTANCE_GROUP, role $NODE_ROLE, manager $WORKLOAD_MANAGER"

log "moving the container runtime to the instance group's EBS volume (when it has one)"
bash "$HERE/setup_container_runtime.sh"

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
