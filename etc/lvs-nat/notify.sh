#!/bin/sh
# Notify script of the LVS-NAT sample: logs every transition to syslog (journalctl -t lvsd-notify).
#
# lvsd (like keepalived) runs it directly, without a shell, as script_user (root here):
#   vrrp_sync_group notify:  notify.sh GROUP VG_NAT MASTER|BACKUP|FAULT|STOP 0
#   real_server notify_up:   notify.sh rs-up 198.18.1.11
#   real_server notify_down: notify.sh rs-down 198.18.1.11
# It must finish within 10 s (lvsd kills it after that) and must not be writable by anyone
# but root (enable_script_security). Put site actions (a page, a route change) in the case arms.
set -u
case "${1:-}" in
  GROUP)
    logger -t lvsd-notify -p daemon.notice "sync group ${2:-?} is now ${3:-?}"
    ;;
  rs-up | rs-down)
    logger -t lvsd-notify -p daemon.notice "real server ${2:-?}: ${1#rs-}"
    ;;
  *)
    logger -t lvsd-notify -p daemon.warning "unexpected notify: $*"
    ;;
esac
exit 0
