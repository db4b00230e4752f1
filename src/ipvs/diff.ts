/**
 * The fewest ops that turn the observed table into the desired one, pure.
 *
 * Everything about a service except its key (protocol + VIP + port, or fwmark + family) can be
 * changed in place with `-E`, and everything about a destination except its address and port
 * with `-e` (forwarding method and tunnel type included: measured in the VM), so a change never
 * needs delete + add, which would drop the service's connections for nothing. A different key
 * is a different service.
 *
 * Order, make-before-break and always valid as one `ipvsadm -R` batch:
 *   1. new services, each followed by its destinations;
 *   2. kept services: edit, then new destinations, then edited destinations;
 *   3. destinations that go (of kept services only: deleting a service deletes its
 *      destinations, so those get no ops of their own);
 *   4. services that go.
 * Within each step, ipvsadm's own sort order, so a batch reads like `ipvsadm -Sn`.
 */
import type { Op } from './op.js';
import {
  destinationEquals,
  destinationKey,
  serviceEquals,
  serviceKey,
  sortedEntries,
  type Table,
} from './table.js';

export function diff(observed: Table, desired: Table): Op[] {
  const adds: Op[] = [];
  const changes: Op[] = [];
  const removals: Op[] = [];
  const goneServices: Op[] = [];
  for (const { service, destinations } of sortedEntries(desired)) {
    const serviceId = service.id;
    const current = observed.services.get(serviceKey(serviceId));
    if (current === undefined) {
      adds.push({ kind: 'add-service', service });
      for (const destination of destinations) {
        adds.push({ kind: 'add-destination', serviceId, destination });
      }
      continue;
    }
    if (!serviceEquals(current.service, service)) changes.push({ kind: 'edit-service', service });
    const edits: Op[] = [];
    for (const destination of destinations) {
      const before = current.destinations.get(destinationKey(destination));
      if (before === undefined) changes.push({ kind: 'add-destination', serviceId, destination });
      else if (!destinationEquals(before, destination)) {
        edits.push({ kind: 'edit-destination', serviceId, destination });
      }
    }
    changes.push(...edits);
  }
  for (const { service, destinations } of sortedEntries(observed)) {
    const wanted = desired.services.get(serviceKey(service.id));
    if (wanted === undefined) {
      goneServices.push({ kind: 'delete-service', serviceId: service.id });
      continue;
    }
    for (const d of destinations) {
      if (!wanted.destinations.has(destinationKey(d))) {
        removals.push({
          kind: 'delete-destination',
          serviceId: service.id,
          destination: { address: d.address, port: d.port },
        });
      }
    }
  }
  return [...adds, ...changes, ...removals, ...goneServices];
}
