// One real server for bench/detection.mjs, in its own process so that "kill a backend" is a real
// process death (SIGKILL: the port refuses connections) or a real hang (SIGSTOP: the kernel
// still completes the TCP handshake into the listen backlog, but nothing ever answers).
//
//   node bench/lib/detection-backend.mjs PORT     PORT 0 = any free port
//
// Serves HTTP on 127.0.0.1:PORT, answering every request `200 ok` with `connection: close`;
// prints one line `{"port": N}` once listening. Exits when its stdin closes (the bench ended).
import { createServer } from 'node:http';

const port = Number(process.argv[2] ?? 0);
const server = createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain', connection: 'close' });
  res.end('ok\n');
});
server.on('clientError', (_err, socket) => socket.destroy());
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen({ host: '127.0.0.1', port, backlog: 511 }, resolve);
});
process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
