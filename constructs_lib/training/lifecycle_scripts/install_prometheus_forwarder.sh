#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# observability.prometheus: GPU nodes remote-write DCGM metrics to Amazon Managed Service for Prometheus.
# As AWS's reference set-up does (awsome-distributed-training, 1.architectures/5.sagemaker-hyperpod/
# LifecycleScripts/base-config/observability: install_dcgm_exporter.sh, install_otel_collector.sh), it runs
# two containers from AWS's HyperPod registry with --restart always:
#   dcgm-exporter   (:9400) with dcgm_exporter_metrics.csv (synthesized from constructs_lib.training.collector)
#   otel-collector  scraping it and remote-writing with SigV4 (config from node_config.py otel-config)
# Nodes without a GPU or without docker are skipped (a warning); a failure only costs these metrics.
# Inputs (from node.env): PROMETHEUS_REMOTE_WRITE_URL, CLUSTER_REGION, CLUSTER_NAME, INSTANCE_GROUP, LIFECYCLE_DIR.
set -euo pipefail

: "${CLUSTER_REGION:?}" "${CLUSTER_NAME:?}" "${INSTANCE_GROUP:?}" "${LIFECYCLE_DIR:?}"
PROMETHEUS_REMOTE_WRITE_URL="${PROMETHEUS_REMOTE_WRITE_URL:-}"
export AIPLATFORM_STEP=prometheus
# shellcheck source=common.sh
source "$LIFECYCLE_DIR/common.sh"
CONFIG_DIR="${AIPLATFORM_PROMETHEUS_DIR:-/etc/aiplatform/prometheus}"
# AWS's HyperPod images and tags of the reference set-up (same account in its scripts for every region).
REGISTRY="602401143452.dkr.ecr.$CLUSTER_REGION.amazonaws.com"
DCGM_EXPORTER_IMAGE="$REGISTRY/hyperpod/dcgm_exporter:4.1.1-4.0.4-ubi9"
OTEL_COLLECTOR_IMAGE="$REGISTRY/hyperpod/otel_collector:v1754424030352"

if [[ -z "$PROMETHEUS_REMOTE_WRITE_URL" ]]; then
  log "no Prometheus workspace configured"
  exit 0
fi
if ! command -v nvidia-smi >/dev/null 2>&1; then
  log "no GPU: nothing to forward to Prometheus from this node"
  exit 0
fi
if ! command -v docker >/dev/null 2>&1; then
  log "WARNING: no docker on this node: DCGM metrics are not forwarded to Prometheus"
  exit 0
fi

mkdir -p "$CONFIG_DIR"
install -m 0644 "$LIFECYCLE_DIR/dcgm_exporter_metrics.csv" "$CONFIG_DIR/dcgm-metrics.csv"
python3 "$LIFECYCLE_DIR/node_config.py" otel-config --remote-write-url "$PROMETHEUS_REMOTE_WRITE_URL" \
  --region "$CLUSTER_REGION" --cluster "$CLUSTER_NAME" --instance-group "$INSTANCE_GROUP" \
  --host "$(hostname -s)" >"$CONFIG_DIR/otel-config.yaml"

login() { aws ecr get-login-password --region "$CLUSTER_REGION" | docker login --username AWS --password-stdin "$REGISTRY"; }
retry 5 5 login
retry 5 5 docker pull "$DCGM_EXPORTER_IMAGE"
retry 5 5 docker pull "$OTEL_COLLECTOR_IMAGE"

docker rm -f dcgm-exporter otel-collector >/dev/null 2>&1 || true
docker run -d --restart always --name dcgm-exporter --gpus all --net host --cap-add SYS_ADMIN \
  -v "$CONFIG_DIR:/etc/dcgm-exporter:ro" "$DCGM_EXPORTER_IMAGE" -f /etc/dcgm-exporter/dcgm-metrics.csv
docker run -d --restart always --name otel-collector --net host \
  -v "$CONFIG_DIR:/etc/otel:ro" "$OTEL_COLLECTOR_IMAGE" --config=/etc/otel/otel-config.yaml
log "dcgm-exporter and otel-collector remote-write to $PROMETHEUS_REMOTE_WRITE_URL"
