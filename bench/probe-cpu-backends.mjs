// Backends for bench/probe-cpu.mjs, in their own process so their CPU is not charged to the
// checker being measured. N raw-TCP HTTP servers on 127.0.0.1:0; each answers any request with
// a tiny 200 and closes. Prints the ports as one JSON line, then serves until killed.
//
// Counting: every request (first data on a connection) is counted, and separately those whose
// request carries lvsd's `User-Agent: lvsd` (HAProxy's `option httpchk GET /health` sends none).
// A line `count` on stdin is answered with one JSON line {requests, lvsd, connections}.
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';

const n = Number(process.argv[2] ?? 1000);
const RESPONSE = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok');
const LVSD_UA = Buffer.from('User-Agent: lvsd', 'latin1');

let requests = 0;
let lvsd = 0;
let connections = 0;

function onData(chunk) {
  requests++;
  if (chunk.includes(LVSD_UA)) lvsd++;
  this.end(RESPONSE);
}

function onConnection(socket) {
  connections++;
  socket.on('error', () => {}); // checkers close with RST: ECONNRESET is normal here
  socket.once('data', onData);
}

const ports = [];
for (let i = 0; i < n; i++) {
  const server = createServer(onConnection);
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, backlog: 511 }, resolve);
  });
  ports.push(server.address().port);
}
process.stdout.write(`${JSON.stringify(ports)}\n`);

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() === 'count') {
    process.stdout.write(`${JSON.stringify({ requests, lvsd, connections })}\n`);
  }
});
process.stdin.on('end', () => process.exit(0));
