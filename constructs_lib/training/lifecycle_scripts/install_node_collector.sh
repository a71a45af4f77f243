#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Install the node collector (node_collector.py): idle GPUs, DCGM GPU health, the Slurm queue (controller)
# and EFA error counters, published to CloudWatch once a minute by a systemd timer.
# The collector and its synthesized configuration (node_collector.json: namespace, metric names, DCGM
# field ids, idle-GPU floor) are copied out of the lifecycle folder, which HyperPod may clean up, into
# COLLECTOR_DIR; the timer runs it as root with the node's facts (node.env).
# Safe to run again: the files and units are rewritten, the timer restarted.
# Inputs (from node.env): LIFECYCLE_DIR, AIPLATFORM_STATE_DIR.
set -euo pipefail

: "${LIFECYCLE_DIR:?}" "${AIPLATFORM_STATE_DIR:?}"
export AIPLATFORM_STEP=node_collector
# shellcheck source=common.sh
source "$LIFECYCLE_DIR/common.sh"
COLLECTOR_DIR="${AIPLATFORM_COLLECTOR_DIR:-/opt/aiplatform/collector}"
SYSTEMD_DIR="${AIPLATFORM_SYSTEMD_DIR:-/etc/systemd/system}"
UNIT=aiplatform-node-collector
PYTHON="$(command -v python3)"

if [[ ! -f "$LIFECYCLE_DIR/node_collector.json" ]]; then
  log "no node_collector.json in $LIFECYCLE_DIR: collector not installed"
  exit 0
fi
mkdir -p "$COLLECTOR_DIR" "$SYSTEMD_DIR"
install -m 0755 "$LIFECYCLE_DIR/node_collector.py" "$COLLECTOR_DIR/node_collector.py"
install -m 0644 "$LIFECYCLE_DIR/node_collector.json" "$COLLECTOR_DIR/node_collector.json"

cat >"$SYSTEMD_DIR/$UNIT.service" <<UNIT_EOF
# Written by the HyperPod lifecycle scripts: one collection of the node's health metrics.
[Unit]
Description=AI platform node collector (GPU health, Slurm queue, EFA errors to CloudWatch)
After=network-online.target
Wants=network-online.target

[Service]
Type=oneshot
ExecStart=$PYTHON $COLLECTOR_DIR/node_collector.py --config $COLLECTOR_DIR/node_collector.json --env $AIPLATFORM_STATE_DIR/node.env --state $COLLECTOR_DIR/state.json
Nice=10
TimeoutStartSec=50
UNIT_EOF

cat >"$SYSTEMD_DIR/$UNIT.timer" <<UNIT_EOF
# Written by the HyperPod lifecycle scripts: run the node collector once a minute.
[Unit]
Description=Run the AI platform node collector every minute

[Timer]
OnBootSec=60
OnUnitActiveSec=60
AccuracySec=5
Persistent=false

[Install]
WantedBy=timers.target
UNIT_EOF

systemctl daemon-reload
systemctl enable "$UNIT.timer"
systemctl restart "$UNIT.timer"
log "collector in $COLLECTOR_DIR, timer $UNIT.timer started"
