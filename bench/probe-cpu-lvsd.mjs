// lvsd's side of bench/probe-cpu.mjs: check every backend once per interval with lvsd's HTTP
// checker, started in batches from one coarse tick (performance.md: one wake-up per batch, not
// one timer per check). argv: checker-module ports-json interval-ms tick-ms.
// Reports on SIGUSR2 (counts since the last report) and exits on SIGTERM.
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

let ok = 0;
let failed = 0;
const codes = new Map();
// One shared callback: no closure allocated per check.
function onResult(r) {
  if (r.ok) ok++;
  else {
    failed++;
    codes.set(r.code, (codes.get(r.code) ?? 0) + 1);
  }
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

process.on('SIGUSR2', () => {
  process.stdout.write(
    `${JSON.stringify({ ok, failed, codes: Object.fromEntries(codes), rss: process.memoryUsage().rss })}\n`,
  );
  ok = 0;
  failed = 0;
  codes.clear();
});
process.on('SIGTERM', () => process.exit(0));
process.stdout.write('ready\n');
