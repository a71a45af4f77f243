#!/usr/bin/env bash
# HyperPod OnCreate entry point (LifeCycleConfig.OnCreate of every instance group).
#
# HyperPod downloads this folder from LifeCycleConfig.SourceS3Uri and runs this script as root once
# per node. It learns the node's instance group and role from the HyperPod resource config and the
# construct-generated provisioning_parameters.json, then:
#   1. mounts the shared FSx for Lustre file system (when the cluster has one)   mount_fsx.sh
#   2. completes the Slurm setup the native Slurm configuration leaves out        setup_slurm.sh
#   3. installs the CloudWatch agent publishing GPU (nvidia_smi) and host metrics install_cloudwatch_agent.sh
# A failure in 1 or 2 fails the node (HyperPod reports it and replaces or retries the node); a
# failure in 3 only costs metrics and is logged as a warning.
# S3 keeps no file modes, so the script may be started as `sh on_create.sh`: switch to bash first.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LOG_DIR="${AIPLATFORM_LOG_DIR:-/var/log/provision}"
STATE_DIR="${AIPLATFORM_STATE_DIR:-/etc/aiplatform}"
RESOURCE_CONFIG="${SAGEMAKER_RESOURCE_CONFIG_PATH:-/opt/ml/config/resource_config.json}"
PARAMS="$HERE/provisioning_parameters.json"

mkdir -p "$LOG_DIR" "$STATE_DIR"
exec > >(tee -a "$LOG_DIR/provisioning.log") 2>&1

log() { printf '%s [on_create] %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*"; }
trap 'log "FAILED at line $LINENO (exit $?)"' ERR

log "resource config: $RESOURCE_CONFIG, provisioning parameters: $PARAMS"
ip_args=()
for ip in $(hostname -I); do
  ip_args+=(--ip "$ip")
done
python3 "$HERE/node_config.py" env --params "$PARAMS" --resource-config "$RESOURCE_CONFIG" "${ip_args[@]}" \
  >"$STATE_DIR/node.env"
set -a
# shellcheck source=/dev/null
source "$STATE_DIR/node.env"
set +a
export AIPLATFORM_STATE_DIR="$STATE_DIR" LIFECYCLE_DIR="$HERE"
log "cluster $CLUSTER_NAME ($CLUSTER_REGION): group $INSTANCE_GROUP, role $NODE_ROLE, manager $WORKLOAD_MANAGER"

if [[ -n "$FSX_DNS_NAME" && "$WORKLOAD_MANAGER" == "slurm" ]]; then
  log "mounting FSx for Lustre $FSX_DNS_NAME@tcp:/$FSX_MOUNT_NAME at $FSX_MOUNT_POINT"
  bash "$HERE/mount_fsx.sh"
fi

if [[ "$WORKLOAD_MANAGER" == "slurm" ]]; then
  log "completing Slurm setup for the $NODE_ROLE role"
  bash "$HERE/setup_slurm.sh"
fi

if ! bash "$HERE/install_cloudwatch_agent.sh"; then
  log "WARNING: CloudWatch agent not installed; node metrics will be missing"
fi

log "done"
