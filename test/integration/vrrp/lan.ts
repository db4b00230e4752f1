/**
 * The seed's front segment in namespaces: a client and two directors on one bridge (in a
 * switch namespace), with the lab's fixed MACs so neighbour tables read at a glance.
 *   client eth0 198.18.0.100  02:18:00:00:00:64   2001:db8::64
 *   dir1   eth0 198.18.0.1    02:18:00:00:00:01   2001:db8::1
 *   dir2   eth0 198.18.0.2    02:18:00:00:00:02   2001:db8::2
 */
import { NetnsLab } from '../../helpers/netns.js';

export const MAC = {
  client: '02:18:00:00:00:64',
  dir1: '02:18:00:00:00:01',
  dir2: '02:18:00:00:00:02',
} as const;

export const IP = { client: '198.18.0.100', dir1: '198.18.0.1', dir2: '198.18.0.2' } as const;
export const IP6 = { client: '2001:db8::64', dir1: '2001:db8::1', dir2: '2001:db8::2' } as const;

export interface Lan {
  readonly lab: NetnsLab;
  readonly sw: string;
  readonly client: string;
  readonly dir1: string;
  readonly dir2: string;
  /** Stops (or restores) the bridge flooding multicast to every port: a network without multicast. */
  multicast(on: boolean): Promise<void>;
}

export async function makeLan(tag: string): Promise<Lan> {
  const lab = new NetnsLab(tag);
  const sw = await lab.ns('sw');
  await lab.bridge(sw, 'br0');
  const nodes = { client: '', dir1: '', dir2: '' };
  for (const node of ['client', 'dir1', 'dir2'] as const) {
    const ns = await lab.ns(node);
    nodes[node] = ns;
    await lab.veth(
      { ns, ifname: 'eth0', mac: MAC[node] },
      { ns: sw, ifname: `p-${node}`, master: 'br0' },
    );
    await lab.addr(ns, 'eth0', `${IP[node]}/24`);
    await lab.addr(ns, 'eth0', `${IP6[node]}/64`);
  }
  return {
    lab,
    sw,
    ...nodes,
    multicast: async (on) => {
      for (const node of ['client', 'dir1', 'dir2']) {
        await lab.exec(sw, 'ip', [
          'link',
          'set',
          'dev',
          `p-${node}`,
          'type',
          'bridge_slave',
          'mcast_flood',
          on ? 'on' : 'off',
        ]);
      }
    },
  };
}

/** The client's neighbour entry for `address`: `{ mac, state }`, or undefined. */
export async function neighbour(
  lan: Lan,
  address: string,
): Promise<{ mac: string; state: string } | undefined> {
  const r = await lan.lab.exec(lan.client, 'ip', [
    '-j',
    'neigh',
    'show',
    'to',
    address,
    'dev',
    'eth0',
  ]);
  const rows = JSON.parse(r.stdout || '[]') as { lladdr?: string; state?: string[] }[];
  const row = rows[0];
  if (row?.lladdr === undefined) return undefined;
  return { mac: row.lladdr, state: (row.state ?? []).join(',') };
}

/** Makes the client talk to `address` once (one UDP datagram), so it resolves a neighbour entry. */
export async function touch(lan: Lan, address: string): Promise<void> {
  await lan.lab.exec(lan.client, 'bash', ['-c', `echo x > /dev/udp/${address}/9`], true);
}
