#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# EKS nodes: keep container images and pod volumes off the root disk. Like AWS's EKS lifecycle script
# (awsome-distributed-training, 1.architectures/7.sagemaker-hyperpod-eks/LifecycleScripts/base-config/
# on_create_main.sh), this moves containerd's data root and kubelet's directory to the instance
# group's extra EBS volume, which HyperPod mounts at /opt/sagemaker (InstanceStorageConfigs,
# ebs_volume_gb). Without that volume the node keeps the defaults.
#   Amazon Linux 2:    `root` in /etc/eks/containerd/containerd-config.toml (what the EKS bootstrap uses)
#   Amazon Linux 2023: a copy of /etc/containerd/config.toml with `root` set, on the volume, started
#                      through a systemd drop-in (nodeadm rewrites /etc/containerd/config.toml)
# Safe to run again: a second run finds everything in place.
# Inputs (from node.env): LIFECYCLE_DIR.
set -euo pipefail

: "${LIFECYCLE_DIR:?}"
export AIPLATFORM_STEP=container_runtime
# shellcheck source=common.sh
source "$LIFECYCLE_DIR/common.sh"
VOLUME="${AIPLATFORM_SAGEMAKER_VOLUME:-/opt/sagemaker}"
OS_RELEASE="${AIPLATFORM_OS_RELEASE:-/etc/os-release}"
AL2_CONFIG="${AIPLATFORM_EKS_CONTAINERD_CONFIG:-/etc/eks/containerd/containerd-config.toml}"
AL2023_CONFIG="${AIPLATFORM_CONTAINERD_CONFIG:-/etc/containerd/config.toml}"
SYSTEMD_DIR="${AIPLATFORM_SYSTEMD_DIR:-/etc/systemd/system}"
CONTAINERD_DIR="${AIPLATFORM_CONTAINERD_DIR:-/var/lib/containerd}"
KUBELET_DIR="${AIPLATFORM_KUBELET_DIR:-/var/lib/kubelet}"
MOUNT_WAIT_SECONDS="${AIPLATFORM_MOUNT_WAIT_SECONDS:-60}"

DATA_ROOT="$VOLUME/containerd/data-root"

# Sets the top-level `root = "..."` of a containerd TOML file (replacing a commented or existing one,
# or adding it before the first table).
set_containerd_root() {
  local file="$1" root="$2"
  if grep -Eq '^[# ]*root[[:space:]]*=' "$file"; then
    sed -i -E "0,/^[# ]*root[[:space:]]*=.*/s||root = \"$root\"|" "$file"
  else
    sed -i "1i root = \"$root\"" "$file"
  fi
}

relocate_containerd() {
  # shellcheck source=/dev/null
  source "$OS_RELEASE"
  case "${VERSION_ID:-}" in
    2)
      if [[ ! -f "$AL2_CONFIG" ]]; then
        log "WARNING: Amazon Linux 2 without $AL2_CONFIG; containerd keeps its data root"
        return 0
      fi
      set_containerd_root "$AL2_CONFIG" "$DATA_ROOT"
      log "containerd data root set to $DATA_ROOT in $AL2_CONFIG"
      ;;
    2023)
      if [[ ! -f "$AL2023_CONFIG" ]]; then
        log "WARNING: Amazon Linux 2023 without $AL2023_CONFIG; containerd keeps its data root"
        return 0
      fi
      local config="$VOLUME/containerd/config.toml"
      cp "$AL2023_CONFIG" "$config"
      set_containerd_root "$config" "$DATA_ROOT"
      mkdir -p "$SYSTEMD_DIR/containerd.service.d"
      cat >"$SYSTEMD_DIR/containerd.service.d/aiplatform-data-root.conf" <<EOF
# Written by the HyperPod lifecycle scripts: containerd keeps images on $VOLUME.
[Unit]
RequiresMountsFor=$VOLUME
[Service]
ExecStart=
ExecStart=/usr/bin/containerd --config $config
EOF
      log "containerd data root set to $DATA_ROOT through $config"
      ;;
    *)
      log "WARNING: OS version '${VERSION_ID:-unknown}' not handled; containerd keeps its data root"
      return 0
      ;;
  esac
  if [[ -d "$CONTAINERD_DIR" && ! -e "$DATA_ROOT/.aiplatform-copied" ]]; then
    cp -a "$CONTAINERD_DIR/." "$DATA_ROOT/"
  fi
  touch "$DATA_ROOT/.aiplatform-copied"
  systemctl daemon-reload
  # Only a running containerd needs a restart to use the new root; one that starts later reads it.
  systemctl try-restart containerd.service
}

relocate_kubelet() {
  local target="$VOLUME/kubelet"
  if [[ -L "$KUBELET_DIR" ]]; then
    log "kubelet directory already on $target"
    return 0
  fi
  mkdir -p "$target"
  if [[ -d "$KUBELET_DIR" ]]; then
    cp -a "$KUBELET_DIR/." "$target/"
    rm -rf "$KUBELET_DIR"
  fi
  ln -s "$target" "$KUBELET_DIR"
  log "kubelet directory $KUBELET_DIR -> $target"
}

waited=0
until mountpoint -q "$VOLUME" || ((waited >= MOUNT_WAIT_SECONDS)); do
  sleep 5
  waited=$((waited + 5))
done
if mountpoint -q "$VOLUME"; then
  mkdir -p "$DATA_ROOT"
  relocate_containerd
  relocate_kubelet
else
  log "$VOLUME is not a mounted volume (no ebs_volume_gb on this group): container runtime left on the root disk"
fi
