/** A tiny HTTP real server on loopback whose health can be switched: the demo's and the tests'. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SwitchableBackend {
  readonly port: number;
  readonly host: string;
  /** 200 when healthy; otherwise the status set here (503 by default). */
  setStatus(status: number): void;
  status(): number;
  requests(): number;
  close(): Promise<void>;
}

export async function startSwitchableBackend(
  host = '127.0.0.1',
  port = 0,
): Promise<SwitchableBackend> {
  let status = 200;
  let count = 0;
  const server: Server = createServer((req, res) => {
    count++;
    res.writeHead(status, { 'content-type': 'text/plain', connection: 'close' });
    res.end(status === 200 ? 'ok\n' : 'unavailable\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    port: bound,
    host,
    setStatus: (s) => {
      status = s;
    },
    status: () => status,
    requests: () => count,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}
