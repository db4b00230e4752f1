// The "checker only" row of bench/probe-cpu.mjs (--checker-only): lvsd's HTTP checker in a
// hand-written loop, NOT the daemon (no scheduler, health machines, events or IPVS driver).
// Checks every backend once per interval, started in batches from one coarse tick.
// argv: checker-module ports-json interval-ms tick-ms. Exits on SIGTERM.
const [modulePath, portsJson, intervalArg, tickArg] = process.argv.slice(2);
const { probeHttp } = await import(modulePath);
const ports = JSON.parse(portsJson);
const interval = Number(intervalArg);
const tick = Number(tickArg);

const targets = ports.map((port) => ({
  kind: 'http',
  address: '127.0.0.1',
  port,
  connectTimeoutMs: 2000,
  urls: [{ path: '/health' }],
}));

let failed = 0;
// One shared callback: no closure allocated per check.
function onResult(r) {
  if (!r.ok) failed++;
}

// Each target is due once per interval; a tick starts the slice of targets due in it.
const perTick = (targets.length * tick) / interval;
let owed = 0;
let cursor = 0;
setInterval(() => {
  owed += perTick;
  for (; owed >= 1; owed--) {
    probeHttp(targets[cursor]).then(onResult);
    cursor = cursor + 1 === targets.length ? 0 : cursor + 1;
  }
}, tick);

process.on('SIGTERM', () => {
  if (failed > 0) process.stderr.write(`probe-cpu-lvsd: ${failed} checks failed\n`);
  process.exit(0);
});
process.stdout.write('ready\n');
