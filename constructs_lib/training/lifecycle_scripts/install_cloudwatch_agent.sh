#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Install the CloudWatch agent and start it with the construct-generated configuration
# (cloudwatch_agent_config.json: nvidia_smi GPU, memory and disk metrics in the AIPlatform/HyperPod
# namespace with ClusterName and InstanceGroup dimensions).
# A fresh node may not resolve names yet and may have apt/dpkg busy (unattended upgrades, HyperPod's
# own set-up): wait for DNS, retry the download, and let apt wait for the dpkg lock
# (DPkg::Lock::Timeout) instead of failing on it.
# Inputs (from node.env): INSTANCE_GROUP, CLUSTER_REGION, LIFECYCLE_DIR.
set -euo pipefail

: "${INSTANCE_GROUP:?}" "${CLUSTER_REGION:?}" "${LIFECYCLE_DIR:?}"
AGENT_DIR="${AIPLATFORM_AGENT_DIR:-/opt/aws/amazon-cloudwatch-agent}"
DPKG_LOCK_TIMEOUT="${AIPLATFORM_DPKG_LOCK_TIMEOUT:-600}"
export AIPLATFORM_STEP=cloudwatch_agent
# shellcheck source=common.sh
source "$LIFECYCLE_DIR/common.sh"
AGENT_CTL="$AGENT_DIR/bin/amazon-cloudwatch-agent-ctl"
CONFIG_OUT="$AGENT_DIR/etc/aiplatform-hyperpod.json"

case "$(uname -m)" in
  x86_64) arch=amd64 ;;
  aarch64) arch=arm64 ;;
  *)
    log "unsupported architecture $(uname -m)"
    exit 1
    ;;
esac
host="amazoncloudwatch-agent-$CLUSTER_REGION.s3.$CLUSTER_REGION.amazonaws.com"
base_url="https://$host"

if [[ ! -x "$AGENT_CTL" ]]; then
  wait_for_dns "$host"
  package="$(mktemp -d)/amazon-cloudwatch-agent"
  if command -v dpkg >/dev/null 2>&1; then
    retry 5 5 curl -fsSL --connect-timeout 10 -o "$package.deb" \
      "$base_url/ubuntu/$arch/latest/amazon-cloudwatch-agent.deb"
    apt-get -o "DPkg::Lock::Timeout=$DPKG_LOCK_TIMEOUT" install -y "$package.deb"
  else
    retry 5 5 curl -fsSL --connect-timeout 10 -o "$package.rpm" \
      "$base_url/amazon_linux/$arch/latest/amazon-cloudwatch-agent.rpm"
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
