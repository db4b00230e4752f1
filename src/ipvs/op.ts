/**
 * Operations on an IPVS table (one per ipvsadm line), pure. Every op carries the whole entity,
 * because ipvsadm's `-E`/`-e` reset whatever they are not given (README "Traps").
 */
import {
  destinationKey,
  serviceKey,
  type Destination,
  type DestinationAddress,
  type Service,
  type ServiceId,
} from './table.js';

export type Op =
  | { readonly kind: 'add-service'; readonly service: Service }
  | { readonly kind: 'edit-service'; readonly service: Service }
  | { readonly kind: 'delete-service'; readonly serviceId: ServiceId }
  | {
      readonly kind: 'add-destination';
      readonly serviceId: ServiceId;
      readonly destination: Destination;
    }
  | {
      readonly kind: 'edit-destination';
      readonly serviceId: ServiceId;
      readonly destination: Destination;
    }
  | {
      readonly kind: 'delete-destination';
      readonly serviceId: ServiceId;
      readonly destination: DestinationAddress;
    };

export type OpKind = Op['kind'];

export function opServiceId(op: Op): ServiceId {
  return 'service' in op ? op.service.id : op.serviceId;
}

/** The entity an op touches: `tcp:198.18.0.10:80` or `tcp:198.18.0.10:80 198.18.1.11:80`. */
export function opTarget(op: Op): string {
  const svc = serviceKey(opServiceId(op));
  return 'destination' in op ? `${svc} ${destinationKey(op.destination)}` : svc;
}

/** `add-destination tcp:198.18.0.10:80 198.18.1.11:80`, for logs and reports. */
export function describeOp(op: Op): string {
  return `${op.kind} ${opTarget(op)}`;
}
