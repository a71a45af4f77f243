#!/usr/bin/env bash
# Shared by the entry scripts (on_init_complete.sh, on_create.sh); sourced, never run on its own.
# Logging to the provisioning log, failure handling that lets the log reach CloudWatch, the node's
# facts (node.env), and the waits a freshly booted node needs (DNS, retries).
# shellcheck shell=bash

LOG_DIR="${AIPLATFORM_LOG_DIR:-/var/log/provision}"
STATE_DIR="${AIPLATFORM_STATE_DIR:-/etc/aiplatform}"
RESOURCE_CONFIG="${SAGEMAKER_RESOURCE_CONFIG_PATH:-/opt/ml/config/resource_config.json}"
# Seconds a failing script waits before it exits, so HyperPod ships the provisioning log to
# CloudWatch Logs before it tears the node down (the AWS reference run_extensions.sh waits 60 s).
FAILURE_FLUSH_SECONDS="${AIPLATFORM_FAILURE_FLUSH_SECONDS:-60}"
DNS_WAIT_SECONDS="${AIPLATFORM_DNS_WAIT_SECONDS:-300}"
IMDS="${AIPLATFORM_IMDS_ENDPOINT:-http://169.254.169.254}"

log() { printf '%s [%s] %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "${AIPLATFORM_STEP:-lifecycle}" "$*" >&2; }

# Send everything to the provisioning log (HyperPod uploads it) and, on any failure, say where it
# failed, flush and wait before exiting non-zero (HyperPod then reports the node as failed).
start_logging() {
  mkdir -p "$LOG_DIR" "$STATE_DIR"
  exec > >(tee -a "$LOG_DIR/provisioning.log") 2>&1
  trap 'on_exit $?' EXIT
  trap 'log "FAILED at line $LINENO: $BASH_COMMAND"' ERR
}

on_exit() {
  local code="$1"
  if [[ "$code" -ne 0 ]]; then
    log "FAILED (exit $code); waiting ${FAILURE_FLUSH_SECONDS}s so the log reaches CloudWatch"
    sync || true
    sleep "$FAILURE_FLUSH_SECONDS"
  fi
}

# retry ATTEMPTS DELAY_SECONDS COMMAND...: run COMMAND until it succeeds, waiting DELAY*attempt between tries.
retry() {
  local attempts="$1" delay="$2" attempt
  shift 2
  for ((attempt = 1; attempt <= attempts; attempt++)); do
    if "$@"; then
      return 0
    fi
    if ((attempt < attempts)); then
      log "attempt $attempt of $attempts failed: $*; retrying in $((delay * attempt))s"
      sleep $((delay * attempt))
    fi
  done
  log "gave up after $attempts attempts: $*"
  return 1
}

# wait_for_dns HOST: name resolution comes up late on a fresh node (systemd-resolved restarts while
# HyperPod's agent configures the node; the AWS reference on_create.sh sleeps 30 s for it).
wait_for_dns() {
  local host="$1" waited=0
  until getent hosts "$host" >/dev/null 2>&1; do
    if ((waited >= DNS_WAIT_SECONDS)); then
      log "DNS: $host does not resolve after ${DNS_WAIT_SECONDS}s"
      return 1
    fi
    sleep 5
    waited=$((waited + 5))
  done
}

# The region from the instance metadata service (IMDSv2), for resource configs without a cluster ARN.
imds_region() {
  local token
  token="$(curl -fsS -X PUT "$IMDS/latest/api/token" -H 'X-aws-ec2-metadata-token-ttl-seconds: 300' \
    --connect-timeout 2 --max-time 5)" || return 1
  curl -fsS -H "X-aws-ec2-metadata-token: $token" --connect-timeout 2 --max-time 5 \
    "$IMDS/latest/meta-data/placement/region"
}

# Write this node's facts to $STATE_DIR/node.env and export them (INSTANCE_GROUP, NODE_ROLE, ...).
load_node_facts() {
  local here="$1" ip
  local ip_args=()
  for ip in $(hostname -I); do
    ip_args+=(--ip "$ip")
  done
  python3 "$here/node_config.py" env --layout "$here/aiplatform_cluster.json" \
    --resource-config "$RESOURCE_CONFIG" "${ip_args[@]}" >"$STATE_DIR/node.env"
  set -a
  # shellcheck source=/dev/null
  source "$STATE_DIR/node.env"
  set +a
  if [[ -z "$CLUSTER_REGION" ]]; then
    CLUSTER_REGION="$(retry 5 2 imds_region)" || {
      log "no cluster ARN in $RESOURCE_CONFIG and no region from instance metadata"
      return 1
    }
    printf 'CLUSTER_REGION=%s\n' "$CLUSTER_REGION" >>"$STATE_DIR/node.env"
    export CLUSTER_REGION
  fi
  export AIPLATFORM_STATE_DIR="$STATE_DIR" LIFECYCLE_DIR="$here"
}
