#!/usr/bin/env bash
# Install the CloudWatch agent and start it with the construct-generated configuration
# (cloudwatch_agent_config.json: nvidia_smi GPU, memory and disk metrics in the AIPlatform/HyperPod
# namespace with ClusterName and InstanceGroup dimensions).
# Inputs (from node.env): INSTANCE_GROUP, CLUSTER_REGION, LIFECYCLE_DIR.
set -euo pipefail

: "${INSTANCE_GROUP:?}" "${CLUSTER_REGION:?}" "${LIFECYCLE_DIR:?}"
AGENT_DIR="${AIPLATFORM_AGENT_DIR:-/opt/aws/amazon-cloudwatch-agent}"
AGENT_CTL="$AGENT_DIR/bin/amazon-cloudwatch-agent-ctl"
CONFIG_OUT="$AGENT_DIR/etc/aiplatform-hyperpod.json"

log() { printf '%s [cloudwatch_agent] %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*"; }

case "$(uname -m)" in
  x86_64) arch=amd64 ;;
  aarch64) arch=arm64 ;;
  *)
    log "unsupported architecture $(uname -m)"
    exit 1
    ;;
esac
base_url="https://amazoncloudwatch-agent-$CLUSTER_REGION.s3.$CLUSTER_REGION.amazonaws.com"

if [[ ! -x "$AGENT_CTL" ]]; then
  package="$(mktemp -d)/amazon-cloudwatch-agent"
  if command -v dpkg >/dev/null 2>&1; then
    curl -fsSL --retry 5 -o "$package.deb" "$base_url/ubuntu/$arch/latest/amazon-cloudwatch-agent.deb"
    dpkg -i -E "$package.deb"
  else
    curl -fsSL --retry 5 -o "$package.rpm" "$base_url/amazon_linux/$arch/latest/amazon-cloudwatch-agent.rpm"
    rpm -U --replacepkgs "$package.rpm"
  fi
fi

gpu_flag=()
if ! command -v nvidia-smi >/dev/null 2>&1; then
  gpu_flag=(--no-gpu)
  log "no nvidia-smi: GPU metrics off on this node"
fi
mkdir -p "$(dirname "$CONFIG_OUT")"
python3 "$LIFECYCLE_DIR/node_config.py" agent-config --template "$LIFECYCLE_DIR/cloudwatch_agent_config.json" \
  --instance-group "$INSTANCE_GROUP" --out "$CONFIG_OUT" "${gpu_flag[@]}"
"$AGENT_CTL" -a fetch-config -m ec2 -s -c "file:$CONFIG_OUT"
log "agent running with $CONFIG_OUT"
