#!/usr/bin/env bash
# packaging/ci-check.sh: the packaging and systemd checks of CI (.ci/run runs it after the tests).
#
#   1. npm run package:deb, then lintian on the .deb (no errors; warnings fail too, except the
#      overrides the package ships with their reasons in packaging/lintian-overrides)
#   2. apt-get install ./lvsd_*.deb; from the installed files: lvsd --version, check-config on
#      every installed sample, lvsd demo, a working pair in network namespaces (the installed
#      binary, unit command line and samples); systemd-analyze verify on the installed unit;
#      the installed unit run by systemd as PID 1 of a container (packaging/nspawn-check.sh)
#   3. systemd-analyze security --offline: lvsd's unit beside Debian's keepalived.service (from
#      the installed keepalived, else from `apt-get download keepalived`); lvsd must score lower
#   4. apt-get purge lvsd: nothing left in /etc/lvsd, /var/lib/lvsd, /usr/bin/lvsd
#   5. npm pack + npm install -g ./lvsd-*.tgz into a temporary prefix: lvsd --version
# Needs root (apt-get). Prints "packaging: N checks, N failed" and exits 1 if any failed.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
work=$(mktemp -d /tmp/lvsd-ci-pkg.XXXXXX)
checks=0
failures=0
ok() { checks=$((checks + 1)); echo "ok   - $*"; }
bad() { checks=$((checks + 1)); failures=$((failures + 1)); echo "FAIL - $*"; }
check() { # check DESCRIPTION COMMAND...: run it, show its output on failure
  local what=$1
  shift
  local out
  if out=$("$@" 2>&1); then ok "$what"; else
    bad "$what"
    printf '%s\n' "$out" | sed 's/^/       /' | tail -30
  fi
}
cleanup() {
  if dpkg -s lvsd >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq lvsd >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

if [ "$(id -u)" != 0 ]; then
  echo "packaging: skipped (not root: apt-get install/purge of the package needs root)"
  exit 0
fi

# Tools: dpkg-deb (dpkg), lintian, systemd-analyze (systemd), systemd-nspawn
# (systemd-container), man-db for the man page check.
need=()
command -v lintian >/dev/null || need+=(lintian)
command -v systemd-analyze >/dev/null || need+=(systemd)
command -v dpkg-deb >/dev/null || need+=(dpkg)
command -v systemd-nspawn >/dev/null || need+=(systemd-container)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null \
    || echo "warning: apt-get install ${need[*]} failed"
fi
# A package left by an earlier, interrupted run would make the install below an upgrade.
cleanup_first() { dpkg -s lvsd >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq lvsd >/dev/null 2>&1; true; }
cleanup_first

# 1. Build and lint.
version=$(node -p 'require("./package.json").version')
deb="$root/packaging/out/lvsd_${version}_all.deb"
check "npm run package:deb builds $(basename "$deb")" npm run -s package:deb
if [ ! -f "$deb" ]; then
  echo "packaging: 1 checks, 1 failed (no package)"
  exit 1
fi
lintian --pedantic --fail-on error,warning "$deb" >"$work/lintian.out" 2>&1
lint_rc=$?
lint_out=$(grep -v 'running with root privileges is not recommended' "$work/lintian.out")
if [ "$lint_rc" = 0 ]; then ok "lintian: no errors or warnings${lint_out:+ (}${lint_out:+$(printf '%s' "$lint_out" | wc -l) pedantic/info tags)}"; else
  bad "lintian"
fi
[ -n "$lint_out" ] && printf '%s\n' "$lint_out" | sed 's/^/       /'

# 2. Install and run from the installed files (from /, far from the repo's node_modules).
check "apt-get install ./$(basename "$deb")" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$deb"
check "lvsd --version is $version" sh -c "cd / && [ \"\$(lvsd --version)\" = 'lvsd $version' ]"
check "the installed lvsd is the package's (/usr/bin/lvsd -> /usr/lib/lvsd)" \
  sh -c '[ "$(readlink -f "$(command -v lvsd)")" = /usr/lib/lvsd/bin/lvsd.js ]'
check "no node_modules tree installed" sh -c '! dpkg -L lvsd | grep -q node_modules'
check "lvsd check-config -f /etc/lvsd/demo.conf: exit 0 on this host" sh -c 'cd / && lvsd check-config -f /etc/lvsd/demo.conf'
# The pair samples name eth0 and eth1; describe a director that has them (this host may not).
cat >"$work/facts.json" <<'JSON'
{ "interfaces": ["lo", "eth0", "eth1"],
  "executables": ["/etc/lvsd/lvs-nat/notify.sh", "/usr/bin/logger", "/bin/sh"],
  "users": ["root"] }
JSON
for f in $(cd / && find /etc/lvsd -name '*.conf' | sort); do
  check "lvsd check-config -f $f: exit 0 on a director with eth0+eth1" \
    sh -c "cd / && lvsd check-config --quiet --host-facts '$work/facts.json' -f '$f'"
done
# Every command's --help loads that command's chunk of the bundle: none may be missing.
for c in $(cd / && lvsd --help | awk '/^Commands:/{on=1; next} on && /^  [a-z]/{print $1} on && /^$/{exit}'); do
  check "lvsd $c --help (its chunk loads from /usr/lib/lvsd)" sh -c "cd / && lvsd $c --help >/dev/null"
done
check "lvsd plan --ipvs memory -f /etc/lvsd/demo.conf" sh -c 'cd / && lvsd plan --ipvs memory -f /etc/lvsd/demo.conf | grep -q "^-A -t 198.18.0.10:80"'
# The daemon from the installed files (in-memory IPVS, sockets in the scratch folder):
# it starts, answers lvsd status, and stops on SIGTERM with exit 0.
daemon_check() {
  local d=$work/run pid i rc
  mkdir -p "$d"
  (cd / && exec lvsd run --ipvs memory -f /etc/lvsd/demo.conf --socket "$d/lvsd.sock" --state-dir "$d/state" >"$d/log" 2>&1) &
  pid=$!
  for i in $(seq 1 100); do [ -S "$d/lvsd-ro.sock" ] && break; sleep 0.1; done
  lvsd status --socket "$d/lvsd-ro.sock" | grep -q '198.18.0.10' || { kill "$pid"; wait "$pid"; cat "$d/log"; return 1; }
  kill -TERM "$pid"
  wait "$pid"
  rc=$?
  grep -q '"daemon.started"' "$d/log" && [ "$rc" = 0 ] || { cat "$d/log"; return 1; }
}
check "lvsd run (installed, --ipvs memory) starts, answers lvsd status, stops on SIGTERM" daemon_check
# A working pair from the installed files (test/integration/packaging/installed-pair.test.ts:
# /usr/bin/lvsd by the unit's ExecStart, the installed LVS-NAT samples fitted to the namespace
# lab, lvsd status, a crash of the master): one check per test case, from vitest's JSON report;
# a case that did not pass (failed, skipped, never run) is a failure, and so is a report with
# fewer cases than the file has.
installed_pair() {
  local report=$work/installed-pair.json out
  out=$(LVSD_INSTALLED=1 timeout 300 npx vitest run --reporter=default --reporter=json --outputFile.json="$report" \
    test/integration/packaging/installed-pair.test.ts 2>&1)
  if [ ! -s "$report" ]; then
    bad "installed pair: vitest gave no report"
    printf '%s\n' "$out" | sed 's/^/       /' | tail -30
    return
  fi
  local line
  while IFS= read -r line; do
    case $line in
      passed\ *) ok "installed pair: ${line#passed }" ;;
      *) bad "installed pair: $line" ;;
    esac
  done < <(node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const cases = r.testResults.flatMap((f) => f.assertionResults);
    for (const f of r.testResults) if (f.status !== "passed" && f.assertionResults.length === 0)
      console.log("file failed: " + f.message.split("\n")[0]);
    for (const c of cases) console.log(c.status + " " + c.title);
    if (cases.length < 4) console.log("only " + cases.length + " cases reported (4 expected)");
  ' "$report")
  printf '%s\n' "$out" | sed 's/\x1b\[[0-9;]*m//g' | grep -E '^installed pair, ' | sed 's/^/       /'
  if grep -q '"status":"failed"' "$report"; then printf '%s\n' "$out" | grep -v '^\s*$' | sed 's/^/       /' | tail -40; fi
}
installed_pair
# The installed unit under a real systemd: PID 1 of a systemd-nspawn container over an overlay
# of this root (packaging/nspawn-check.sh: start, READY=1, VIP, status, reload, the watchdog
# restarting a frozen lvsd, Restart= after kill -9, stop). Its checks count here one by one; a
# host that cannot run the container says why on a "skip" line, which counts as nothing.
nspawn_checks() {
  local line finished=no
  while IFS= read -r line; do
    case $line in
      "ok   - "*) ok "${line#ok   - }" ;;
      "FAIL - "*) bad "${line#FAIL - }" ;;
      "skip - "*) finished=yes; echo "$line" ;;
      "nspawn: "*" checks, "*) finished=yes ;;
      *) printf '%s\n' "$line" ;;
    esac
  done < <(timeout 300 bash packaging/nspawn-check.sh 2>&1)
  [ "$finished" = yes ] || bad "nspawn: packaging/nspawn-check.sh did not finish (300 s)"
}
nspawn_checks
check "lvsd demo --duration 1 runs from the installed files" sh -c 'cd / && timeout 60 lvsd demo --duration 1 >/dev/null'
check "man page installed (man -w lvsd)" sh -c 'man -w lvsd | grep -q /usr/share/man/man8/lvsd.8.gz'
check "ExecStartPre: a missing config cannot run (check-config exit 4 stops the start)" \
  sh -c 'cd / && lvsd check-config -f /etc/lvsd/lvsd.conf >/dev/null 2>&1; [ $? -eq 4 ]'
check "systemd-analyze verify /lib/systemd/system/lvsd.service" \
  sh -c 'out=$(systemd-analyze verify /lib/systemd/system/lvsd.service 2>&1); rc=$?; printf "%s" "$out"; [ $rc -eq 0 ] && [ -z "$out" ]'

# 3. Exposure scores, side by side.
ka_unit=/lib/systemd/system/keepalived.service
if [ ! -f "$ka_unit" ]; then
  (cd "$work" && apt-get download -qq keepalived >/dev/null 2>&1 && dpkg-deb -x keepalived_*.deb ka) || true
  ka_unit=$(find "$work/ka" -name keepalived.service 2>/dev/null | head -1)
fi
score() { systemd-analyze security --offline=yes "$1" 2>/dev/null | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p'; }
lvsd_score=$(score /lib/systemd/system/lvsd.service)
ka_score=$([ -n "$ka_unit" ] && score "$ka_unit")
echo "       systemd-analyze security --offline=yes (0 = most confined, 10 = not at all):"
echo "         lvsd.service        ${lvsd_score:-?}"
echo "         keepalived.service  ${ka_score:-?}  (Debian's, $ka_unit)"
if [ -n "$lvsd_score" ] && [ -n "$ka_score" ] && awk "BEGIN{exit !($lvsd_score < $ka_score)}"; then
  ok "lvsd's unit exposure ${lvsd_score} is lower than keepalived's ${ka_score}"
else
  bad "exposure: lvsd ${lvsd_score:-?} vs keepalived ${ka_score:-?}"
fi

# 4. Purge.
check "apt-get purge lvsd" env DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq lvsd
check "purge leaves nothing behind" sh -c '[ ! -e /etc/lvsd ] && [ ! -e /var/lib/lvsd ] && [ ! -e /usr/bin/lvsd ] && [ ! -e /usr/lib/lvsd ]'

# 5. npm install -g from the packed tarball, into a temporary prefix.
if (npm pack --silent --pack-destination "$work" >/dev/null 2>"$work/pack.err"); then
  check "npm install -g ./lvsd-$version.tgz (temporary prefix)" \
    npm install -g --no-audit --no-fund --prefix "$work/prefix" "$work/lvsd-$version.tgz"
  check "npm-installed lvsd --version is $version" sh -c "cd / && [ \"\$('$work/prefix/bin/lvsd' --version)\" = 'lvsd $version' ]"
  check "npm-installed package has the unit and the man page" \
    sh -c "[ -f '$work/prefix/lib/node_modules/lvsd/systemd/lvsd.service' ] && [ -f '$work/prefix/lib/node_modules/lvsd/man/lvsd.8' ]"
else
  bad "npm pack"
  sed 's/^/       /' "$work/pack.err"
fi

echo "packaging: $checks checks, $failures failed"
[ "$failures" = 0 ]
