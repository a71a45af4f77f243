#!/usr/bin/env bash
# Slurm setup that HyperPod's API-driven Slurm configuration (SlurmConfig.NodeType per instance group,
# Orchestrator.Slurm) does not do. HyperPod writes slurm.conf and starts slurmctld/slurmd before
# OnInitComplete runs; this adds:
#   - slurmctld (controller) and slurmd (compute and login nodes: login nodes run slurmd too, to fetch
#     slurm.conf from the controller) are ordered after the shared file system on every reboot, so a
#     job resumed by `srun --auto-resume=1` does not start before its checkpoint directory is there.
#     Wants=/After=, not Requires=: an FSx outage at boot must not keep the scheduler down;
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
  compute | login) daemon=slurmd ;;
  *) daemon="" ;;
esac

if [[ -n "$FSX_DNS_NAME" && -n "$daemon" ]]; then
  dropin_dir="$SYSTEMD_DIR/$daemon.service.d"
  mkdir -p "$dropin_dir"
  "${NODE_CONFIG[@]}" mount-dropin --mount-point "$FSX_MOUNT_POINT" >"$dropin_dir/aiplatform-shared-storage.conf"
  log "$daemon is ordered after $FSX_MOUNT_POINT"
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
