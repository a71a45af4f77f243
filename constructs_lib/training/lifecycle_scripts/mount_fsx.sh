#!/usr/bin/env bash
# Make sure the cluster's FSx for Lustre file system is mounted AND writable before Slurm work starts.
#
# HyperPod mounts it itself (InstanceStorageConfigs[].FsxLustreConfig of the instance group). A mount
# that shows up in `mountpoint` can still refuse writes for a while after boot (the known race of the
# AWS reference scripts: awsome-distributed-training issue #632, PRs #633 and #782), so every attempt
# probes with a real file write. If the file system is still not mounted after a grace period, this
# script mounts it itself: it needs the Lustre client kernel module (`modinfo lustre`, present on the
# HyperPod DLAMI) and fails clearly without it, writes the /etc/fstab entry atomically and retries.
# Inputs (from node.env): FSX_DNS_NAME, FSX_MOUNT_NAME, FSX_MOUNT_POINT, NODE_ROLE, LIFECYCLE_DIR.
set -euo pipefail

: "${FSX_DNS_NAME:?}" "${FSX_MOUNT_NAME:?}" "${FSX_MOUNT_POINT:?}" "${NODE_ROLE:?}" "${LIFECYCLE_DIR:?}"
FSTAB="${AIPLATFORM_FSTAB:-/etc/fstab}"
ATTEMPTS="${AIPLATFORM_MOUNT_ATTEMPTS:-20}"
# Attempts left to HyperPod's own (API-driven) mount before this script mounts the file system itself.
GRACE="${AIPLATFORM_MOUNT_GRACE:-6}"
DELAY="${AIPLATFORM_MOUNT_DELAY_SECONDS:-10}"
PROBE="$FSX_MOUNT_POINT/.aiplatform-write-probe-$(hostname -s 2>/dev/null || echo node)-$$"

log() { printf '%s [mount_fsx] %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }

writable() {
  mountpoint -q "$FSX_MOUNT_POINT" && touch "$PROBE" 2>/dev/null && rm -f "$PROBE"
}

mount_ourselves() {
  if ! modinfo lustre >/dev/null 2>&1; then
    log "no Lustre client kernel module for kernel $(uname -r) (modinfo lustre failed); use a HyperPod" \
      "DLAMI, which ships it, or a custom AMI with the FSx for Lustre client installed"
    exit 1
  fi
  mkdir -p "$FSX_MOUNT_POINT"
  local entry
  entry="$(python3 "$LIFECYCLE_DIR/node_config.py" fstab \
    --dns-name "$FSX_DNS_NAME" --mount-name "$FSX_MOUNT_NAME" --mount-point "$FSX_MOUNT_POINT")"
  python3 "$LIFECYCLE_DIR/node_config.py" upsert-block --file "$FSTAB" --name fsx "$entry"
  if command -v systemctl >/dev/null 2>&1; then
    systemctl daemon-reload
  fi
  mount "$FSX_MOUNT_POINT" || log "mount $FSX_MOUNT_POINT failed"
}

ok=""
for ((attempt = 1; attempt <= ATTEMPTS; attempt++)); do
  if writable; then
    ok=1
    break
  fi
  if ((attempt > GRACE)) && ! mountpoint -q "$FSX_MOUNT_POINT"; then
    log "not mounted after $GRACE attempts: mounting $FSX_DNS_NAME@tcp:/$FSX_MOUNT_NAME ourselves"
    mount_ourselves
    if writable; then
      ok=1
      break
    fi
  fi
  log "attempt $attempt of $ATTEMPTS: $FSX_MOUNT_POINT not writable yet"
  sleep $((DELAY))
done
if [[ -z "$ok" ]]; then
  log "FSx for Lustre is not writable at $FSX_MOUNT_POINT after $ATTEMPTS attempts"
  exit 1
fi

# Shared directories every job can use; sticky like /tmp so users cannot remove each other's files.
if [[ "$NODE_ROLE" == "controller" ]]; then
  for dir in checkpoints datasets; do
    mkdir -p "$FSX_MOUNT_POINT/$dir"
    chmod 1777 "$FSX_MOUNT_POINT/$dir"
  done
fi
log "$FSX_MOUNT_POINT is mounted and writable"
