/** A config with every kind of notify script, and event builders for the hooks tests. */
import { describedHost, loadConfig, type Config } from '../../../src/config/index.js';
import { FakeClock } from '../../../src/lib/clock.js';
import {
  EventBus,
  type AnyEvent,
  type EventName,
  type EventPayloads,
} from '../../../src/lib/events.js';
import { MemorySource } from '../../../src/keepalived-config/index.js';

/** One vrrp_instance block (VIP 198.18.0.N/24 with N = vrid - 41), with extra lines inside. */
export function instanceText(name: string, vrid: number, priority: number, lines: string): string {
  return `vrrp_instance ${name} {
    interface eth0
    state BACKUP
    virtual_router_id ${vrid}
    priority ${priority}
    virtual_ipaddress {
        198.18.0.${vrid - 41}/24
    }
${lines}
}
`;
}

export const HOOKS_CONF = `global_defs {
    router_id test
}
vrrp_sync_group G1 {
    group {
        VI_1
        VI_2
    }
    notify_master "/usr/local/bin/group-master --quiet"
    notify "/usr/local/bin/notify-all"
}
${instanceText(
  'VI_1',
  51,
  100,
  `    notify_master "/usr/local/bin/to-master 'two words' x"
    notify_backup /usr/local/bin/to-backup
    notify_fault /usr/local/bin/to-fault
    notify_stop /usr/local/bin/to-stop
    notify /usr/local/bin/notify-all`,
)}${instanceText('VI_2', 52, 90, '')}virtual_server 198.18.0.10 80 {
    lb_algo rr
    lb_kind NAT
    protocol TCP
    quorum_up "/usr/local/bin/quorum up"
    quorum_down "/usr/local/bin/quorum down"
    real_server 198.18.1.11 80 {
        weight 1
        notify_up "/usr/local/bin/rs-up 198.18.1.11"
        notify_down "/usr/local/bin/rs-down 198.18.1.11"
        TCP_CHECK { connect_timeout 1 }
    }
    real_server 198.18.1.12 80 {
        weight 1
        TCP_CHECK { connect_timeout 1 }
    }
}
virtual_server fwmark 7 {
    lb_algo rr
    lb_kind DR
    real_server 198.18.1.13 0 {
        weight 1
    }
}
`;

const EXECUTABLES = [
  'group-master',
  'notify-all',
  'to-master',
  'to-backup',
  'to-fault',
  'to-stop',
  'quorum',
  'rs-up',
  'rs-down',
].map((n) => `/usr/local/bin/${n}`);

export function hooksConfig(text = HOOKS_CONF): Config {
  const r = loadConfig('/etc/keepalived/keepalived.conf', {
    source: new MemorySource({ '/etc/keepalived/keepalived.conf': text }),
    host: describedHost({ interfaces: ['lo', 'eth0'], executables: EXECUTABLES }),
    configId: 'test',
    hostname: 'test',
  });
  if (!r.config) throw new Error(`fixture does not load: ${JSON.stringify(r.diagnostics)}`);
  return r.config;
}

/** Publishes on a real bus and returns the event, so tests use exactly what consumers get. */
export function eventMaker(): <N extends EventName>(
  name: N,
  subject: string,
  data: EventPayloads[N],
) => AnyEvent {
  const bus = new EventBus(new FakeClock());
  return (name, subject, data) =>
    bus.publish(name, subject, { kind: 'vrrp' }, data) as unknown as AnyEvent;
}
