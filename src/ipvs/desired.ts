/**
 * The desired IPVS table: a pure function of the validated configuration, the health of every
 * real server and the operators' admin state. The reconciler diffs it against what the kernel
 * holds; nothing else decides what goes into the table.
 */
import type {
  Config,
  Forwarding as ConfigForwarding,
  RealServerConfig,
  ServiceKey as ConfigServiceKey,
  VirtualServerConfig,
} from '../config/index.js';
import {
  buildTable,
  IPIP,
  makeDestination,
  makeService,
  MASQ,
  ROUTE,
  serviceKey,
  type Destination,
  type Forwarding,
  type SchedFlag,
  type Scheduler,
  type Service,
  type Table,
} from './table.js';

/** What health says about one real server: in the table at a weight, or not in it. */
export type RealServerPlacement =
  { readonly kind: 'present'; readonly weight: number } | { readonly kind: 'absent' };

export interface DesiredInputs {
  readonly config: Config;
  /** Health's verdict per `vsName/rsName`; missing = the start-up placement. */
  readonly placement: (vs: VirtualServerConfig, rs: RealServerConfig) => RealServerPlacement;
  /** Quorum: false when the virtual server serves its sorry server instead. */
  readonly quorumUp: (vs: VirtualServerConfig) => boolean;
  /** Admin state: a drained real server stays in the table at weight 0, whatever its health. */
  readonly drained: (vs: VirtualServerConfig, rs: RealServerConfig) => boolean;
}

const FLAG_WORDS: Record<string, SchedFlag> = {
  'flag-1': 1,
  'sh-fallback': 1,
  'mh-fallback': 1,
  'flag-2': 2,
  'sh-port': 2,
  'mh-port': 2,
  'flag-3': 3,
};

export function desiredTable(inputs: DesiredInputs): Table {
  const entries: { service: Service; destinations: Destination[] }[] = [];
  for (const vs of inputs.config.virtualServers) {
    const destinations = vsDestinations(vs, inputs);
    for (const key of vs.services) {
      entries.push({ service: serviceFor(vs, key), destinations });
    }
  }
  return buildTable(entries);
}

function vsDestinations(vs: VirtualServerConfig, inputs: DesiredInputs): Destination[] {
  if (!inputs.quorumUp(vs) && vs.sorryServer) {
    const s = vs.sorryServer;
    return [
      makeDestination({
        address: s.address,
        port: s.port,
        forwarding: forwarding(s.forwarding, s.tunnel),
        weight: 1,
      }),
    ];
  }
  const out: Destination[] = [];
  for (const rs of vs.realServers) {
    const drained = inputs.drained(vs, rs);
    const p = inputs.placement(vs, rs);
    if (p.kind === 'absent' && !drained) continue;
    const weight = drained ? 0 : p.kind === 'present' ? p.weight : 0;
    out.push(
      makeDestination({
        address: rs.address,
        port: rs.port,
        forwarding: forwarding(rs.forwarding, rs.tunnel),
        weight,
        upperThreshold: rs.upperThreshold ?? 0,
        lowerThreshold: rs.lowerThreshold ?? 0,
      }),
    );
  }
  return out;
}

function serviceFor(vs: VirtualServerConfig, key: ConfigServiceKey): Service {
  const schedFlags = vs.schedulerFlags.flatMap((f) => (FLAG_WORDS[f] ? [FLAG_WORDS[f]] : []));
  const init = {
    scheduler: vs.scheduler as Scheduler,
    schedFlags,
    ...(vs.persistence
      ? {
          persistence: {
            timeout: vs.persistence.timeoutS,
            ...(vs.persistence.granularity ? { netmask: vs.persistence.granularity } : {}),
          },
        }
      : {}),
    onePacket: vs.onePacketScheduling,
  };
  return makeService(serviceIdInput(key), init);
}

function serviceIdInput(key: ConfigServiceKey): Parameters<typeof makeService>[0] {
  return key.kind === 'fwmark'
    ? { fwmark: key.fwmark, family: key.family === 6 ? 'inet6' : 'inet' }
    : { protocol: key.protocol, address: key.address, port: key.port };
}

/** The IPVS table key (`tcp:ADDR:PORT`, `fwm:N`) of a configured service, address canonicalised. */
export function ipvsServiceKey(key: ConfigServiceKey): string {
  return serviceKey(makeService(serviceIdInput(key)).id);
}

function forwarding(f: ConfigForwarding, tunnel: RealServerConfig['tunnel']): Forwarding {
  if (f === 'nat') return MASQ;
  if (f === 'dr') return ROUTE;
  if (!tunnel || tunnel.type === 'ipip') return IPIP;
  if (tunnel.type === 'gue')
    return {
      method: 'tunnel',
      tunnel: { type: 'gue', port: tunnel.port ?? 0, checksum: tunnel.checksum ?? 'nocsum' },
    };
  return {
    method: 'tunnel',
    tunnel: { type: 'gre', checksum: tunnel.checksum === 'csum' ? 'csum' : 'nocsum' },
  };
}
