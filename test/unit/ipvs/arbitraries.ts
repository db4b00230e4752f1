/**
 * fast-check generators of valid IPVS tables. Small address and port pools make two random
 * tables share keys often, so diffs exercise edits as well as adds and deletes.
 */
import fc from 'fast-check';
import { checkDestination, checkService } from '../../../src/ipvs/rules.js';
import {
  SCHEDULERS,
  buildTable,
  destinationKey,
  serviceFamily,
  serviceKey,
  type Destination,
  type Forwarding,
  type SchedFlag,
  type Service,
  type ServiceId,
  type Table,
} from '../../../src/ipvs/table.js';

const V4 = ['198.18.0.10', '198.18.0.11', '198.18.0.12'];
const V6 = ['2001:db8::10', '2001:db8::1:0:0:11'];
const RS4 = ['198.18.1.11', '198.18.1.12', '198.18.1.13'];
const RS6 = ['2001:db8::101', '2001:db8::102'];

export const serviceIdArb: fc.Arbitrary<ServiceId> = fc.oneof(
  fc.record({
    kind: fc.constant('address' as const),
    protocol: fc.constantFrom('tcp' as const, 'udp' as const, 'sctp' as const),
    address: fc.constantFrom(...V4, ...V6),
    port: fc.constantFrom(0, 80, 443),
  }),
  fc.record({
    kind: fc.constant('fwmark' as const),
    fwmark: fc.constantFrom(1, 2, 4294967295),
    family: fc.constantFrom('inet' as const, 'inet6' as const),
  }),
);

export const forwardingArb: fc.Arbitrary<Forwarding> = fc.oneof(
  fc.constant({ method: 'masq' as const }),
  fc.constant({ method: 'route' as const }),
  fc.constant({ method: 'tunnel' as const, tunnel: { type: 'ipip' as const } }),
  fc.record({
    method: fc.constant('tunnel' as const),
    tunnel: fc.record({
      type: fc.constant('gue' as const),
      port: fc.constantFrom(6080, 6081),
      checksum: fc.constantFrom('nocsum' as const, 'csum' as const, 'remcsum' as const),
    }),
  }),
  fc.record({
    method: fc.constant('tunnel' as const),
    tunnel: fc.record({
      type: fc.constant('gre' as const),
      checksum: fc.constantFrom('nocsum' as const, 'csum' as const),
    }),
  }),
);

export const serviceArb: fc.Arbitrary<Service> = fc
  .record({
    id: serviceIdArb,
    scheduler: fc.constantFrom(...SCHEDULERS),
    schedFlags: fc.subarray([1, 2, 3] as SchedFlag[]),
    timeout: fc.option(fc.constantFrom(1, 300, 2678400), { nil: undefined }),
    mask: fc.boolean(),
    engine: fc.boolean(),
    onePacket: fc.boolean(),
  })
  .map(({ id, scheduler, schedFlags, timeout, mask, engine, onePacket }): Service => {
    const v6 = serviceFamily(id) === 'inet6';
    const needsPersistence = id.kind === 'address' && id.port === 0;
    const t = timeout ?? (needsPersistence ? 60 : undefined);
    return {
      id,
      scheduler,
      schedFlags:
        scheduler === 'sh' || scheduler === 'mh' ? schedFlags.filter((f) => f !== 3) : schedFlags,
      ...(t === undefined
        ? {}
        : {
            persistence: { timeout: t, ...(mask ? { netmask: v6 ? '64' : '255.255.255.0' } : {}) },
          }),
      ...(engine ? { persistenceEngine: 'sip' } : {}),
      onePacket,
    };
  })
  .filter((s) => checkService(s) === undefined);

function destinationArb(id: ServiceId): fc.Arbitrary<Destination> {
  const family = serviceFamily(id);
  return fc
    .record({
      address: fc.constantFrom(
        ...(family === 'inet' ? RS4 : RS6),
        ...(family === 'inet' ? RS6 : RS4),
      ),
      masqPort: fc.constantFrom(80, 8080),
      forwarding: forwardingArb,
      weight: fc.constantFrom(0, 1, 5, 2147483647),
      upper: fc.constantFrom(0, 100),
      lower: fc.constantFrom(0, 10),
    })
    .map(({ address, masqPort, forwarding, weight, upper, lower }): Destination => {
      // Valid ports: DR/TUN keep the service port; fwmark services take any port.
      const port =
        id.kind === 'fwmark'
          ? masqPort
          : forwarding.method === 'masq' && id.port !== 0
            ? masqPort
            : id.port;
      return {
        address,
        port,
        forwarding,
        weight,
        upperThreshold: upper,
        lowerThreshold: Math.min(lower, upper),
      };
    })
    .filter((d) => checkDestination(id, d) === undefined);
}

export const tableArb: fc.Arbitrary<Table> = fc
  .uniqueArray(serviceArb, { selector: (s) => serviceKey(s.id), maxLength: 5 })
  .chain((services) =>
    fc.tuple(
      ...services.map((service) =>
        fc
          .uniqueArray(destinationArb(service.id), { selector: destinationKey, maxLength: 4 })
          .map((destinations) => ({ service, destinations })),
      ),
    ),
  )
  .map((entries) => buildTable(entries));

/** A table derived from `base` by small changes, so most keys are shared. */
export function nearbyTableArb(base: Table): fc.Arbitrary<Table> {
  return fc.tuple(tableArb, fc.infiniteStream(fc.nat(3))).map(([other, picks]) => {
    const entries = [...base.services.values()].map((e) => ({
      service: e.service,
      destinations: [...e.destinations.values()],
    }));
    const seen = new Set(entries.map((e) => serviceKey(e.service.id)));
    const out = [];
    for (const e of entries) {
      const pick = picks.next().value as number;
      if (pick === 0) continue; // deleted
      if (pick === 1) {
        out.push({
          ...e,
          destinations: e.destinations.map((d) => ({ ...d, weight: d.weight === 0 ? 3 : 0 })),
        });
      } else out.push(e);
    }
    for (const e of other.services.values()) {
      if (!seen.has(serviceKey(e.service.id))) {
        out.push({ service: e.service, destinations: [...e.destinations.values()] });
      }
    }
    return buildTable(out);
  });
}
