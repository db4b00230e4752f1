# failover-bench adapter for lvsd (contract: ../shared/lab/adapters/keepalived.sh; sourced by
# /work/shared/lab/failover-bench under set -euo pipefail, driven by bench/failover.mjs).
#
# The configs are the lab's keepalived templates (../shared/lab/keepalived/dirN.conf) filled in
# exactly as the keepalived adapter fills them, so both daemons run the same VRRP settings
# (sync group LAB = FRONT on eth0 + BACK on eth1, priorities 150/100, state MASTER/BACKUP,
# VRRPv3 below 1 s), plus the lvsd block that lvsd needs to run beside another director in the
# same host: its own control sockets and state dir, the memory IPVS driver, no metrics port, and
# (unless LVSD_BENCH_KEY=0) an HMAC key file.
# LVSD_DEFAULTS=1: lvsd's own defaults instead of the same interval: advert_int removed and
# `timing fast` set (an omitted advert_int is then 80 ms); run it with --advert 0.08 so that the
# bench's phase jitter and bounds follow.
# LVSD_ROOT: the lvsd checkout (default: two levels above this file).

LVSD_ROOT=${LVSD_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}

adapter_version() {
  local v
  v=$(node -p "require('$LVSD_ROOT/package.json').version" 2>/dev/null || echo '?')
  if [[ ${LVSD_DEFAULTS:-0} == 1 ]]; then echo "lvsd $v (timing fast)"; else echo "lvsd $v"; fi
}

adapter_setup() {
  local version=${VRRP_VERSION:-} state1=MASTER state2=BACKUP preempt='' node state
  if [[ -z $version ]]; then
    if awk -v a="$ADVERT_INT" 'BEGIN { exit !(a < 1) }'; then version=3; else version=2; fi
  fi
  case $PREEMPT in
    preempt) ;;
    nopreempt) state1=BACKUP; preempt=nopreempt ;;
    delay:*) state1=BACKUP; preempt="preempt_delay ${PREEMPT#delay:}" ;;
    *) echo "lvsd adapter: PREEMPT must be preempt, nopreempt or delay:N" >&2; return 2 ;;
  esac
  # A private copy of the built CLI: a rebuild in the checkout during the bench cannot break it.
  mkdir -p "$RUN_DIR/lvsd/bin"
  cp -r "$LVSD_ROOT/dist" "$RUN_DIR/lvsd/dist"
  cp "$LVSD_ROOT/bin/lvsd.js" "$RUN_DIR/lvsd/bin/lvsd.js"
  local keyline=''
  if [[ ${LVSD_BENCH_KEY:-1} != 0 ]]; then
    (umask 077 && openssl rand -hex 32 >"$RUN_DIR/vrrp.key")
    keyline="  key_file $RUN_DIR/vrrp.key"
  fi
  for node in dir1 dir2; do
    state=$state1; [[ $node == dir2 ]] && state=$state2
    sed -e "s|@STATE@|$state|g" -e "s|@ADVERT_INT@|$ADVERT_INT|g" \
        -e "s|@VRRP_VERSION@|$version|g" -e "s|@PREEMPT@|$preempt|g" \
        -e "s|@NOTIFY@|$LAB_DIR/keepalived/notify.sh|g" \
        "$LAB_DIR/keepalived/$node.conf" >"$RUN_DIR/$node.conf"
    if [[ ${LVSD_DEFAULTS:-0} == 1 ]]; then sed -i '/^ *advert_int /d' "$RUN_DIR/$node.conf"; fi
    mkdir -p "$RUN_DIR/state-$node"
    {
      echo 'lvsd {'
      if [[ ${LVSD_DEFAULTS:-0} == 1 ]]; then echo '  timing fast'; fi
      echo '  ipvs_driver memory'
      echo '  metrics_address off'
      [[ -z $keyline ]] || echo "$keyline"
      echo "  control_socket $RUN_DIR/$node.sock"
      echo "  control_socket_ro $RUN_DIR/$node-ro.sock"
      echo "  state_dir $RUN_DIR/state-$node"
      echo '}'
    } >>"$RUN_DIR/$node.conf"
    ip netns exec "$LAB_PREFIX-$node" node "$RUN_DIR/lvsd/bin/lvsd.js" check-config -f "$RUN_DIR/$node.conf" 2>&1 |
      sed "s/^/lvsd check-config $node: /" >&2 || true
  done
}

adapter_cmd() {
  local node=$1
  rm -f "$RUN_DIR/$node.sock" "$RUN_DIR/$node-ro.sock"
  CMD=(node "$RUN_DIR/lvsd/bin/lvsd.js" run -f "$RUN_DIR/$node.conf")
}
