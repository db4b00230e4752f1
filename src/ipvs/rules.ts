/**
 * What ipvsadm and the kernel accept, pure. A line ipvsadm refuses while parsing stops an
 * `ipvsadm -R` batch at that line (README: "a line ipvsadm cannot parse ... stops the restore
 * there"), so drivers check every op here first and never send one that would cut a batch short.
 * Messages are ipvsadm's own where it has one (measured in the VM); `lvsd:` marks lvsd's own
 * refusals of things ipvsadm would silently change (and the table would then never converge).
 */
import { canonicalAddress, canonicalIpv4Mask, addressFamily } from './address.js';
import type { Op } from './op.js';
import {
  SCHEDULERS,
  destinationKey,
  serviceFamily,
  serviceKey,
  type Destination,
  type Service,
  type ServiceId,
  type Table,
} from './table.js';

export const MAX_WEIGHT = 2147483647;
export const MAX_THRESHOLD = 2147483647;
export const MAX_PERSISTENCE_TIMEOUT = 2678400;
export const MAX_FWMARK = 4294967295;

const PE_NAME = /^[a-z][a-z0-9_]{0,14}$/;

function isInt(value: number, min: number, max: number): boolean {
  return Number.isInteger(value) && value >= min && value <= max;
}

function checkServiceId(id: ServiceId): string | undefined {
  if (id.kind === 'fwmark') {
    return isInt(id.fwmark, 1, MAX_FWMARK)
      ? undefined
      : `invalid fwmark value \`${id.fwmark}' specified`;
  }
  if (canonicalAddress(id.address) !== id.address || !isInt(id.port, 0, 65535)) {
    return 'illegal virtual server address[:port] specified';
  }
  return undefined;
}

/** Why ipvsadm (or lvsd) refuses this service, or undefined when it is fine. */
export function checkService(service: Service): string | undefined {
  const idProblem = checkServiceId(service.id);
  if (idProblem !== undefined) return idProblem;
  if (!(SCHEDULERS as readonly string[]).includes(service.scheduler)) {
    return 'Scheduler or persistence engine not found';
  }
  const { persistence } = service;
  if (persistence !== undefined) {
    if (!isInt(persistence.timeout, 1, MAX_PERSISTENCE_TIMEOUT)) {
      return `invalid timeout value \`${persistence.timeout}' specified`;
    }
    if (persistence.netmask !== undefined) {
      if (serviceFamily(service.id) === 'inet6') {
        const prefix = Number(persistence.netmask);
        // 128 is the default and ipvsadm does not print it: the model spells it as absent.
        if (!/^\d{1,3}$/.test(persistence.netmask) || !isInt(prefix, 1, 127)) {
          return 'illegal ipv6 netmask specified';
        }
      } else if (
        canonicalIpv4Mask(persistence.netmask) !== persistence.netmask ||
        persistence.netmask === '255.255.255.255'
      ) {
        return `lvsd: netmask ${persistence.netmask} is not a canonical dotted mask (255.255.255.255 is spelt as absent)`;
      }
    }
  }
  if (service.id.kind === 'address' && service.id.port === 0 && persistence === undefined) {
    return 'Zero port specified for non-persistent service';
  }
  if (service.persistenceEngine !== undefined && !PE_NAME.test(service.persistenceEngine)) {
    return `lvsd: invalid persistence engine name ${JSON.stringify(service.persistenceEngine)}`;
  }
  if (
    (service.scheduler === 'sh' || service.scheduler === 'mh') &&
    service.schedFlags.includes(3)
  ) {
    // ipvsadm accepts it but then prints `-b ` with nothing after it: unreadable, so refused.
    return `lvsd: flag-3 with ${service.scheduler} cannot be read back from ipvsadm -Sn`;
  }
  if (
    !service.schedFlags.every((f, i, all) => isInt(f, 1, 3) && (i === 0 || (all[i - 1] ?? 0) < f))
  ) {
    return 'invalid scheduler flag';
  }
  return undefined;
}

/** Why ipvsadm (or lvsd) refuses this destination of service `id`, or undefined. */
export function checkDestination(id: ServiceId, d: Destination): string | undefined {
  if (canonicalAddress(d.address) !== d.address || !isInt(d.port, 0, 65535)) {
    return 'illegal real server address[:port] specified';
  }
  if (!isInt(d.weight, 0, MAX_WEIGHT)) return 'illegal weight specified';
  if (!isInt(d.upperThreshold, 0, MAX_THRESHOLD)) return 'illegal u_threshold specified';
  if (!isInt(d.lowerThreshold, 0, MAX_THRESHOLD)) return 'illegal l_threshold specified';
  // The kernel's check (-ERANGE, exit 255), made here too so the op is refused by name.
  if (d.lowerThreshold > d.upperThreshold) return 'Numerical result out of range';
  const tunnel = d.forwarding.method === 'tunnel';
  if (addressFamily(d.address) !== serviceFamily(id) && !tunnel) {
    return 'Different address family is allowed only for tunneling servers';
  }
  if (d.forwarding.method === 'tunnel' && d.forwarding.tunnel.type === 'gue') {
    if (!isInt(d.forwarding.tunnel.port, 1, 65535)) return 'illegal tunnel port specified';
  }
  if (id.kind === 'address') {
    // ipvsadm silently rewrites these ports (DR/TUN keep the service port; port 0 means "the
    // service's port"): the kernel would then hold another key and the diff would never settle.
    if (d.forwarding.method !== 'masq' && d.port !== id.port) {
      return `lvsd: a ${d.forwarding.method} real server must use the service port ${id.port} (ipvsadm would rewrite ${destinationKey(d)})`;
    }
    if (d.port === 0 && id.port !== 0) {
      return `lvsd: real server port 0 means the service port ${id.port} to ipvsadm`;
    }
  }
  return undefined;
}

/** Why this op must not be sent, or undefined when it is a valid ipvsadm line. */
export function checkOp(op: Op): string | undefined {
  switch (op.kind) {
    case 'add-service':
    case 'edit-service':
      return checkService(op.service);
    case 'delete-service':
      return checkServiceId(op.serviceId);
    case 'add-destination':
    case 'edit-destination':
      return checkServiceId(op.serviceId) ?? checkDestination(op.serviceId, op.destination);
    case 'delete-destination': {
      const { address, port } = op.destination;
      if (canonicalAddress(address) !== address || !isInt(port, 0, 65535)) {
        return 'illegal real server address[:port] specified';
      }
      return checkServiceId(op.serviceId);
    }
  }
}

export interface TableProblem {
  readonly target: string;
  readonly message: string;
}

/** Every entity of `table` that ipvsadm or lvsd would refuse: a desired table must have none. */
export function checkTable(table: Table): TableProblem[] {
  const problems: TableProblem[] = [];
  for (const [key, entry] of table.services) {
    if (key !== serviceKey(entry.service.id)) {
      problems.push({
        target: key,
        message: `lvsd: key does not match ${serviceKey(entry.service.id)}`,
      });
    }
    const sp = checkService(entry.service);
    if (sp !== undefined) problems.push({ target: key, message: sp });
    for (const [dkey, d] of entry.destinations) {
      if (dkey !== destinationKey(d)) {
        problems.push({
          target: `${key} ${dkey}`,
          message: `lvsd: key does not match ${destinationKey(d)}`,
        });
      }
      const dp = checkDestination(entry.service.id, d);
      if (dp !== undefined) problems.push({ target: `${key} ${dkey}`, message: dp });
    }
  }
  return problems;
}
