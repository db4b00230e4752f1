#!/usr/bin/env bash
# packaging/nspawn-check.sh: the installed unit under a real systemd (PID 1 of a systemd-nspawn
# container), not only `systemd-analyze verify`. packaging/ci-check.sh runs it while the .deb is
# installed; it prints "ok   - ..." / "FAIL - ..." lines for ci-check to count, or one
# "skip - ..." line (and exit 0) when the host cannot run the container.
#
# The container's root is an overlay of this host's root filesystem (lower: /, upper: a tmpfs),
# so it sees the installed package and everything it writes is thrown away; its network is
# private (only lo, plus eth0 198.18.0.1/24, a veth pair made here). It boots to basic.target (no
# host services), then, through nsenter into the container:
#   systemctl start lvsd (Type=notify: returns on READY=1; ExecStartPre ran check-config) →
#   active, the VRRP instance MASTER with its VIP on eth0 (CAP_NET_ADMIN under the hardening),
#   lvsd status through /run/lvsd (RuntimeDirectory=) → systemctl reload (ExecReload, same
#   PID) → SIGSTOP to the main process: the watchdog (WatchdogSec=10s) kills it and
#   Restart=on-failure starts a new one → kill -9: restarted again → systemctl stop: inactive,
#   the VIP removed.
# Needs root and systemd-nspawn (apt-get install systemd-container). Bounded: every wait has a
# limit; the container is powered off (then killed) and the mounts removed on exit.
set -uo pipefail
checks=0
failures=0
ok() { checks=$((checks + 1)); echo "ok   - nspawn: $*"; }
bad() { checks=$((checks + 1)); failures=$((failures + 1)); echo "FAIL - nspawn: $*"; }
skip() { echo "skip - nspawn: $*"; exit 0; }

[ "$(id -u)" = 0 ] || skip "not root"
command -v systemd-nspawn >/dev/null || skip "no systemd-nspawn (apt-get install systemd-container)"
[ -x /usr/bin/lvsd ] && [ -f /lib/systemd/system/lvsd.service ] || skip "the lvsd package is not installed"

work=$(mktemp -d /tmp/lvsd-nspawn.XXXXXX)
root=$work/root
machine=lvsd-check-$$
nspawn_pid=
cleanup() {
  if [ -n "$nspawn_pid" ] && kill -0 "$nspawn_pid" 2>/dev/null; then
    kill -TERM "$nspawn_pid" 2>/dev/null # nspawn asks the container's systemd to power off
    for _ in $(seq 1 100); do kill -0 "$nspawn_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$nspawn_pid" 2>/dev/null
    wait "$nspawn_pid" 2>/dev/null
  fi
  umount "$root" 2>/dev/null
  umount "$work/ovl" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/ovl" "$root"
mount -t tmpfs -o size=256m lvsd-nspawn "$work/ovl" || skip "cannot mount a tmpfs"
mkdir -p "$work/ovl/upper" "$work/ovl/work"
mount -t overlay lvsd-nspawn -o "lowerdir=/,upperdir=$work/ovl/upper,workdir=$work/ovl/work" "$root" \
  || skip "cannot mount an overlay of /"
# Its own machine id (nspawn refuses the host's for the journal), the config and its options.
tr -d - </proc/sys/kernel/random/uuid >"$root/etc/machine-id"
cat >"$root/etc/lvsd/lvsd.conf" <<'EOF'
global_defs {
    router_id nspawn
}
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority 150
    virtual_ipaddress {
        198.18.0.10/24 dev eth0
    }
}
virtual_server 198.18.0.10 80 {
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 198.18.0.11 80 {
        TCP_CHECK {
            connect_timeout 1
        }
    }
}
lvsd {
    timing fast
    ipvs_driver memory
}
EOF
echo 'LVSD_OPTIONS=--ipvs memory' >>"$root/etc/default/lvsd"

systemd-nspawn -D "$root" -M "$machine" -b --private-network --register=no --link-journal=no \
  --keep-unit -q systemd.unit=basic.target </dev/null >"$work/console.log" 2>&1 &
nspawn_pid=$!
# The container's PID 1 (a child of nspawn once it has set the namespaces up; an intermediate
# child comes first and goes away): found again on every try until its systemd answers.
leader=
find_leader() {
  local p
  for p in $(ps -o pid= --ppid "$nspawn_pid" 2>/dev/null); do
    [ "$(cat "/proc/$p/comm" 2>/dev/null)" = systemd ] && { leader=$p; return 0; }
  done
  return 1
}
in_ct() { nsenter -t "$leader" -m -u -i -n -p -- "$@"; }
state=
for _ in $(seq 1 120); do
  kill -0 "$nspawn_pid" 2>/dev/null || break
  if find_leader; then
    state=$(in_ct systemctl is-system-running 2>/dev/null)
    case $state in running | degraded) break ;; esac
  fi
  sleep 0.5
done
case $state in
  running | degraded) ok "systemd boots as PID 1 of the container ($state)" ;;
  *)
    # The host could start it (root, nspawn, overlay): not booting is a failure, not a skip.
    bad "the container's systemd did not finish booting in 60 s (state: ${state:-none})"
    sed 's/^/       /' "$work/console.log" | tail -20
    echo "nspawn: $checks checks, $failures failed"
    exit 1
    ;;
esac

# eth0: one end of a veth pair inside the container (the dummy module may be missing here).
if in_ct ip link add eth0 type veth peer name eth0-peer && in_ct ip addr add 198.18.0.1/24 dev eth0 \
  && in_ct ip link set eth0-peer up && in_ct ip link set eth0 up; then :; else
  bad "eth0 (a veth pair) in the container"
fi

main_pid() { in_ct systemctl show -p MainPID --value lvsd; }
restarts() { in_ct systemctl show -p NRestarts --value lvsd; }
journal() { in_ct journalctl -u lvsd -n 15 --no-pager -o cat 2>&1 | sed 's/^/       /'; }
wait_for() { # wait_for SECONDS COMMAND...: until it succeeds
  local n=$(($1 * 10))
  shift
  for _ in $(seq 1 "$n"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  return 1
}
vip_held() { in_ct ip -4 -o addr show dev eth0 | grep -q ' 198.18.0.10/'; }
is_master() { in_ct lvsd status --socket /run/lvsd/lvsd-ro.sock | grep -Eq '^VI_1 +MASTER'; }
restarted() { # restarted OLD_PID OLD_NRESTARTS: active again, with a new main process, counted
  # One systemctl call, so the three values are one snapshot, and each must be there: separate
  # calls once passed this check while systemd was still killing the old process (an empty
  # MainPID answer is not a new PID).
  local show p n
  show=$(in_ct systemctl show -p ActiveState -p MainPID -p NRestarts lvsd) || return 1
  p=$(sed -n 's/^MainPID=//p' <<<"$show")
  n=$(sed -n 's/^NRestarts=//p' <<<"$show")
  case $p in '' | 0 | *[!0-9]*) return 1 ;; esac
  case $n in '' | *[!0-9]*) return 1 ;; esac
  [ "$p" != "$1" ] && [ "$n" -gt "$2" ] && grep -qx 'ActiveState=active' <<<"$show"
}

if timeout 60 nsenter -t "$leader" -m -u -i -n -p -- systemctl start lvsd; then
  ok "systemctl start lvsd: active after READY=1 (Type=notify), ExecStartPre passed"
else
  bad "systemctl start lvsd"
  journal
fi
if wait_for 10 is_master && vip_held; then
  ok "VI_1 MASTER with 198.18.0.10 on eth0; lvsd status answers on /run/lvsd/lvsd-ro.sock"
else
  bad "VI_1 MASTER with its VIP"
  journal
fi
pid=$(main_pid)
if timeout 30 nsenter -t "$leader" -m -u -i -n -p -- systemctl reload lvsd && [ "$(main_pid)" = "$pid" ] \
  && [ "$(in_ct systemctl is-active lvsd)" = active ]; then
  ok "systemctl reload lvsd (ExecReload): same process $pid, still active"
else
  bad "systemctl reload lvsd"
  journal
fi
before=$(restarts)
pid=$(main_pid)
in_ct kill -STOP "$pid"
t0=$(date +%s)
if wait_for 40 restarted "$pid" "$before"; then
  ok "a frozen lvsd (SIGSTOP) is killed by the watchdog and restarted in $(($(date +%s) - t0)) s (WatchdogSec=10s)"
else
  bad "watchdog restart of a frozen lvsd"
  journal
  in_ct systemctl show -p ActiveState,SubState,Result,NRestarts,MainPID lvsd 2>&1 | sed 's/^/       /'
  in_ct systemd-cgls --no-pager -u lvsd.service 2>&1 | sed 's/^/       /'
  in_ct ps -eo pid,ppid,stat,wchan:20,args 2>&1 | sed 's/^/       /'
fi
in_ct journalctl -u lvsd --no-pager -o cat 2>/dev/null | grep -i 'watchdog' | head -2 | sed 's/^/       /'
pid=$(main_pid)
before=$(restarts)
# MainPID 0 (no process: the restart above did not happen) must not become `kill -KILL 0`,
# which would kill this check's own process group inside the container.
if [ "${pid:-0}" != 0 ] && in_ct kill -KILL "$pid" && wait_for 20 restarted "$pid" "$before" \
  && wait_for 10 is_master; then
  ok "kill -9 of lvsd: Restart=on-failure starts it again, MASTER again"
else
  bad "restart after kill -9"
  journal
fi
if timeout 40 nsenter -t "$leader" -m -u -i -n -p -- systemctl stop lvsd \
  && [ "$(in_ct systemctl is-active lvsd)" = inactive ] && in_ct ip link show eth0 >/dev/null && ! vip_held; then
  ok "systemctl stop lvsd: inactive, the VIP removed"
else
  bad "systemctl stop lvsd"
  journal
fi
echo "nspawn: $checks checks, $failures failed"
[ "$failures" = 0 ]
