// Backends for bench/probe-cpu.mjs, in their own process so their CPU is not charged to the
// checker being measured. N raw-TCP HTTP servers on 127.0.0.1:0; each answers any request with
// a tiny 200 and closes. Prints the ports as one JSON line, then serves until killed.
import { createServer } from 'node:net';

const n = Number(process.argv[2] ?? 1000);
const RESPONSE = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok');

function onConnection(socket) {
  socket.on('error', () => {}); // checkers close with RST: ECONNRESET is normal here
  socket.once('data', () => socket.end(RESPONSE));
}

const ports = [];
for (let i = 0; i < n; i++) {
  const server = createServer(onConnection);
  await new Promise((resolve) =>
    server.listen({ host: '127.0.0.1', port: 0, backlog: 511 }, resolve),
  );
  ports.push(server.address().port);
}
process.stdout.write(`${JSON.stringify(ports)}\n`);
