#!/bin/sh
# in-env.sh ENV ETC_DIR FOLDER COMMAND...
#
# Runs COMMAND from FOLDER the way the keepalived corpus oracle runs keepalived -t
# (../shared/corpus/keepalived/README.md), so that the verdict does not depend on this machine:
# a private network namespace with lo, eth0 and eth1 (veth; the samples use these two), and a
# private UTS namespace. ENV is
#   main     scripts only if this machine has them (the repo's samples are not installed)
#   scripts  as main, plus ETC_DIR copied to /etc/lvsd as the package installs it (root-owned,
#            not writable by others), on an overlay of /etc in a private mount namespace:
#            the samples' notify scripts then exist and pass script security; nothing on this
#            machine changes.
# Needs root and unshare (util-linux); the test skips it otherwise.
set -eu
env=$1 etc_dir=$2 dir=$3
shift 3
scratch=$(mktemp -d /tmp/lvsd-samples.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
rc=0
SCR=$scratch ENV_KIND=$env ETC_DIR=$etc_dir DIR=$dir \
  unshare --net --uts --mount --propagation private sh -c '
  set -e
  hostname samples
  ip link set lo up
  for i in eth0 eth1; do
    ip link add "$i" type veth peer name "p$i"
    ip link set "$i" up
    ip link set "p$i" up
  done
  if [ "$ENV_KIND" = scripts ]; then
    mkdir -p "$SCR/u" "$SCR/w"
    mount -t overlay overlay -o "lowerdir=/etc,upperdir=$SCR/u,workdir=$SCR/w" /etc
    rm -rf /etc/lvsd
    mkdir -p /etc/lvsd
    cp -R "$ETC_DIR"/. /etc/lvsd/
    chown -R root:root /etc/lvsd
    chmod -R go-w /etc/lvsd
  fi
  cd "$DIR"
  set +e
  "$@"
' sh "$@" || rc=$?
exit "$rc"
