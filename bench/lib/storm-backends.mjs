// Storm backends (bench/hooks-storm.mjs, test/integration/storm): N HTTP servers on 127.0.0.1
// (ephemeral ports) in their own process, each answering 200 while up and 503 while down, and a
// timer that flips random servers at a steady rate, so every server flaps.
//
// argv: JSON {"servers": N, "flipsPerSec": F, "seed": S}
// stdout: one JSON line {"ports": [...]} once every server listens, then nothing.
// stdin lines: "stop" (flipping stops, every server up; answers {"stopped": FLIPS}),
//              "stats" (answers {"requests": R, "flips": FLIPS}).
// Exits on SIGTERM or when stdin closes.
import { createServer } from 'node:http';
import { createInterface } from 'node:readline';

const { servers = 1000, flipsPerSec = 100, seed = 1 } = JSON.parse(process.argv[2] ?? '{}');
const up = new Uint8Array(servers).fill(1);
const byPort = new Map();
let requests = 0;
let flips = 0;

// A small deterministic PRNG (mulberry32): the same seed flips the same servers.
let state = seed >>> 0;
function random() {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

function handle(req, res) {
  requests++;
  const i = byPort.get(req.socket.localPort);
  const ok = i !== undefined && up[i] === 1;
  req.resume();
  res.writeHead(ok ? 200 : 503, { 'content-length': '2', connection: 'close' });
  res.end(ok ? 'ok' : 'no');
}

const list = [];
for (let i = 0; i < servers; i++) {
  const s = createServer(handle);
  s.on('clientError', (_err, socket) => socket.destroy());
  list.push(
    new Promise((resolve, reject) => {
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => {
        byPort.set(s.address().port, i);
        resolve(s.address().port);
      });
    }),
  );
}
const ports = await Promise.all(list);
process.stdout.write(`${JSON.stringify({ ports })}\n`);

// Flips in 20 ms slices; fractions carry over so the rate holds.
const SLICE_MS = 20;
let owed = 0;
const timer = setInterval(() => {
  owed += (flipsPerSec * SLICE_MS) / 1000;
  for (; owed >= 1; owed--) {
    const i = Math.floor(random() * servers);
    up[i] ^= 1;
    flips++;
  }
}, SLICE_MS);

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  if (line === 'stop') {
    clearInterval(timer);
    up.fill(1);
    process.stdout.write(`${JSON.stringify({ stopped: flips })}\n`);
  } else if (line === 'stats') process.stdout.write(`${JSON.stringify({ requests, flips })}\n`);
});
rl.on('close', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
