#!/usr/bin/env bash
# Mount the cluster's FSx for Lustre file system and keep it mounted across reboots.
# Inputs (from node.env): FSX_DNS_NAME, FSX_MOUNT_NAME, FSX_MOUNT_POINT, NODE_ROLE, LIFECYCLE_DIR.
set -euo pipefail

: "${FSX_DNS_NAME:?}" "${FSX_MOUNT_NAME:?}" "${FSX_MOUNT_POINT:?}" "${NODE_ROLE:?}" "${LIFECYCLE_DIR:?}"
FSTAB="${AIPLATFORM_FSTAB:-/etc/fstab}"
ATTEMPTS="${AIPLATFORM_MOUNT_ATTEMPTS:-10}"

log() { printf '%s [mount_fsx] %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*"; }

install_lustre_client() {
  if command -v mount.lustre >/dev/null 2>&1; then
    return 0
  fi
  log "Lustre client missing: installing it"
  if command -v apt-get >/dev/null 2>&1; then
    apt-get update -y
    apt-get install -y "lustre-client-modules-$(uname -r)"
  elif command -v dnf >/dev/null 2>&1; then
    dnf install -y lustre-client
  elif command -v yum >/dev/null 2>&1; then
    amazon-linux-extras install -y lustre || yum install -y lustre-client
  fi
  command -v mount.lustre >/dev/null 2>&1 || {
    log "no Lustre client available for kernel $(uname -r)"
    return 1
  }
}

install_lustre_client
mkdir -p "$FSX_MOUNT_POINT"
entry="$(python3 "$LIFECYCLE_DIR/node_config.py" fstab \
  --dns-name "$FSX_DNS_NAME" --mount-name "$FSX_MOUNT_NAME" --mount-point "$FSX_MOUNT_POINT")"
python3 "$LIFECYCLE_DIR/node_config.py" upsert-block --file "$FSTAB" --name fsx "$entry"
if command -v systemctl >/dev/null 2>&1; then
  systemctl daemon-reload
fi

for attempt in $(seq 1 "$ATTEMPTS"); do
  if mountpoint -q "$FSX_MOUNT_POINT"; then
    break
  fi
  log "mount attempt $attempt of $ATTEMPTS"
  mount "$FSX_MOUNT_POINT" || sleep $((attempt * 6))
done
if ! mountpoint -q "$FSX_MOUNT_POINT"; then
  log "FSx for Lustre is not mounted at $FSX_MOUNT_POINT"
  exit 1
fi

# Shared directories every job can use; sticky like /tmp so users cannot remove each other's files.
if [[ "$NODE_ROLE" == "controller" ]]; then
  for dir in checkpoints datasets; do
    mkdir -p "$FSX_MOUNT_POINT/$dir"
    chmod 1777 "$FSX_MOUNT_POINT/$dir"
  done
fi
log "mounted $FSX_MOUNT_POINT"
