#!/usr/bin/env bash
# Slurm setup that HyperPod's native Slurm configuration (SlurmConfig.NodeType per instance group,
# Orchestrator.Slurm) does not do. HyperPod writes slurm.conf and starts slurmctld/slurmd; this adds:
#   - slurmd and slurmctld wait for the shared file system after every reboot, so a job resumed by
#     `srun --auto-resume=1` never starts on a node whose checkpoint directory is missing;
#   - CHECKPOINT_ROOT / DATASETS_ROOT / TRAINING_SHARED_DIR for every login shell;
#   - enroot (Pyxis containers) keeps image layers on node-local NVMe instead of the root volume.
# Inputs (from node.env): NODE_ROLE, FSX_DNS_NAME, FSX_MOUNT_POINT, LIFECYCLE_DIR.
set -euo pipefail

: "${NODE_ROLE:?}" "${LIFECYCLE_DIR:?}"
FSX_DNS_NAME="${FSX_DNS_NAME:-}"
FSX_MOUNT_POINT="${FSX_MOUNT_POINT:-}"
SYSTEMD_DIR="${AIPLATFORM_SYSTEMD_DIR:-/etc/systemd/system}"
PROFILE_FILE="${AIPLATFORM_PROFILE_FILE:-/etc/profile.d/aiplatform-training.sh}"
ENROOT_CONF="${AIPLATFORM_ENROOT_CONF:-/etc/enroot/enroot.conf}"
NVME_DIR="${AIPLATFORM_NVME_DIR:-/opt/dlami/nvme}"
NODE_CONFIG=(python3 "$LIFECYCLE_DIR/node_config.py")

log() { printf '%s [setup_slurm] %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*"; }

case "$NODE_ROLE" in
  controller) daemon=slurmctld ;;
  compute) daemon=slurmd ;;
  *) daemon="" ;;
esac

if [[ -n "$FSX_DNS_NAME" && -n "$daemon" ]]; then
  dropin_dir="$SYSTEMD_DIR/$daemon.service.d"
  mkdir -p "$dropin_dir"
  "${NODE_CONFIG[@]}" mount-dropin --mount-point "$FSX_MOUNT_POINT" >"$dropin_dir/aiplatform-shared-storage.conf"
  log "$daemon now requires $FSX_MOUNT_POINT"
  if command -v systemctl >/dev/null 2>&1; then
    systemctl daemon-reload
  fi
fi

if [[ -n "$FSX_DNS_NAME" ]]; then
  mkdir -p "$(dirname "$PROFILE_FILE")"
  "${NODE_CONFIG[@]}" user-env --mount-point "$FSX_MOUNT_POINT" >"$PROFILE_FILE"
  chmod 0644 "$PROFILE_FILE"
  log "wrote $PROFILE_FILE"
fi

if [[ -f "$ENROOT_CONF" && -d "$NVME_DIR" && "$NODE_ROLE" == "compute" ]]; then
  mapfile -t settings < <("${NODE_CONFIG[@]}" enroot-settings --scratch-dir "$NVME_DIR")
  "${NODE_CONFIG[@]}" upsert-block --file "$ENROOT_CONF" --name enroot-scratch "${settings[@]}"
  mkdir -p "$NVME_DIR/enroot/tmp"
  chmod 1777 "$NVME_DIR/enroot/tmp"
  log "enroot uses $NVME_DIR/enroot"
fi
