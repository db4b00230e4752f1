/**
 * The VRRP state machine for one instance, after RFC 5798 §6.4 with keepalived's extensions
 * (preempt_delay, FAULT from tracking) and lvsd's restart handshake (ruling 14). Pure: time is
 * an argument, timers are deadlines in the state, and everything the shell must do (send an
 * advert, move addresses, run scripts) comes back as effects. The shell calls `step` with
 * `{ type: 'tick' }` at `nextDeadline(state)`.
 *
 * Timing (RFC 5798 §6.1): skew = (256 - priority) × masterAdvertInterval / 256;
 * master-down interval = 3 × masterAdvertInterval + skew, where masterAdvertInterval is the
 * interval the current master advertises (learnt from its adverts).
 */

export type VrrpState = 'init' | 'backup' | 'master' | 'fault' | 'stopped';

export type TransitionCause =
  | 'startup'
  | 'owner'
  | 'master-down'
  | 'higher-priority'
  | 'peer-stopping'
  | 'preempt'
  | 'fault'
  | 'fault-cleared'
  | 'sync-group'
  | 'stop'
  | 'resumed';

export interface InstanceParams {
  /** Configured priority 1..255 (255 = address owner). */
  readonly priority: number;
  readonly advertIntMs: number;
  readonly preempt: boolean;
  readonly preemptDelayMs: number;
  /** This director's primary address on the instance's interface: the tie-break (§6.4.3). */
  readonly primaryAddress: string;
  /** How many other routers are configured (unicast peers) or heard; 1 = the pair case. */
  readonly peers: number;
  /** How long a backup waits for a master that said it is restarting (ruling 14). */
  readonly restartGraceMs: number;
}

export interface PeerAdvert {
  readonly from: string;
  readonly priority: number;
  readonly advertIntMs: number;
  /** The master says it is restarting: hold off for the grace period. */
  readonly restarting: boolean;
}

export interface InstanceState {
  readonly params: InstanceParams;
  readonly state: VrrpState;
  /** Priority after tracking (1..254, or 255 for the owner), or 0 in FAULT. */
  readonly effectivePriority: number;
  /** The interval the current master advertises (its own when we are master). */
  readonly masterAdvertIntMs: number;
  readonly masterDownAt: number | null;
  readonly nextAdvertAt: number | null;
  /** While in backup with preempt_delay: lower-priority masters are accepted until then. */
  readonly preemptAllowedAt: number | null;
  /** The current master as last heard (null when unknown or when we are master). */
  readonly master: string | null;
  readonly faulted: boolean;
  /** Started holding the VIPs (a restart): keep them while listening for a better master. */
  readonly resuming: boolean;
}

export type VrrpEvent =
  | { readonly type: 'start'; readonly holdsAddresses: boolean }
  | { readonly type: 'tick' }
  | { readonly type: 'advert'; readonly advert: PeerAdvert }
  /** Tracking changed: the new effective priority, or fault. */
  | { readonly type: 'track'; readonly priority: number; readonly fault: boolean }
  /** A sync group moves this member (keepalived vrrp_sync_group). */
  | { readonly type: 'force'; readonly to: 'master' | 'backup' | 'fault' }
  | { readonly type: 'stop'; readonly restarting: boolean };

export type VrrpEffect =
  | { readonly kind: 'send-advert'; readonly priority: number; readonly restarting: boolean }
  | {
      readonly kind: 'transition';
      readonly from: VrrpState;
      readonly to: VrrpState;
      readonly cause: TransitionCause;
      /** Who caused it, when an advert did. */
      readonly peer?: string;
    }
  | { readonly kind: 'priority'; readonly from: number; readonly to: number };

export interface VrrpTransition {
  readonly state: InstanceState;
  readonly effects: readonly VrrpEffect[];
}

export function skewMs(priority: number, masterAdvertIntMs: number): number {
  return ((256 - priority) * masterAdvertIntMs) / 256;
}

export function masterDownIntervalMs(priority: number, masterAdvertIntMs: number): number {
  return 3 * masterAdvertIntMs + skewMs(priority, masterAdvertIntMs);
}

/** RFC 5798 §6.4.3: higher priority wins; equal priority, the higher primary address wins. */
export function peerWins(peer: PeerAdvert, localPriority: number, localAddress: string): boolean {
  if (peer.priority !== localPriority) return peer.priority > localPriority;
  return compareAddresses(peer.from, localAddress) > 0;
}

/** Numeric comparison of two addresses of the same family (IPv4 dotted or IPv6 text). */
export function compareAddresses(a: string, b: string): number {
  const x = addressBytes(a);
  const y = addressBytes(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

function addressBytes(a: string): number[] {
  if (!a.includes(':')) return a.split('.').map((p) => Number(p) || 0);
  const [head = '', tail = ''] = a.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === '' ? [] : tail.split(':');
  const groups = a.includes('::')
    ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t]
    : h;
  return groups.flatMap((g) => {
    const n = parseInt(g, 16) || 0;
    return [n >> 8, n & 255];
  });
}

export function initialInstance(params: InstanceParams): InstanceState {
  return {
    params,
    state: 'init',
    effectivePriority: params.priority,
    masterAdvertIntMs: params.advertIntMs,
    masterDownAt: null,
    nextAdvertAt: null,
    preemptAllowedAt: null,
    master: null,
    faulted: false,
    resuming: false,
  };
}

/** When the shell must call `step(…, { type: 'tick' }, …)` next, if ever. */
export function nextDeadline(s: InstanceState): number | null {
  const ds = [s.masterDownAt, s.nextAdvertAt].filter((d): d is number => d !== null);
  return ds.length === 0 ? null : Math.min(...ds);
}

export function step(s: InstanceState, e: VrrpEvent, now: number): VrrpTransition {
  switch (e.type) {
    case 'start':
      return onStart(s, e.holdsAddresses, now);
    case 'tick':
      return onTick(s, now);
    case 'advert':
      return onAdvert(s, e.advert, now);
    case 'track':
      return onTrack(s, e.priority, e.fault, now);
    case 'force':
      return onForce(s, e.to, now);
    case 'stop':
      return onStop(s, e.restarting);
  }
}

function toMaster(
  s: InstanceState,
  cause: TransitionCause,
  now: number,
  effects: VrrpEffect[],
  peer?: string,
): VrrpTransition {
  effects.push({ kind: 'send-advert', priority: s.effectivePriority, restarting: false });
  effects.push({
    kind: 'transition',
    from: s.state,
    to: 'master',
    cause,
    ...(peer === undefined ? {} : { peer }),
  });
  return {
    state: {
      ...s,
      state: 'master',
      masterAdvertIntMs: s.params.advertIntMs,
      masterDownAt: null,
      nextAdvertAt: now + s.params.advertIntMs,
      preemptAllowedAt: null,
      master: null,
      resuming: false,
    },
    effects,
  };
}

function toBackup(
  s: InstanceState,
  cause: TransitionCause,
  now: number,
  effects: VrrpEffect[],
  heard?: PeerAdvert,
): VrrpTransition {
  const interval = heard?.advertIntMs ?? s.params.advertIntMs;
  const preemptAllowedAt =
    s.params.preempt && s.params.preemptDelayMs > 0 ? now + s.params.preemptDelayMs : null;
  effects.push({
    kind: 'transition',
    from: s.state,
    to: 'backup',
    cause,
    ...(heard ? { peer: heard.from } : {}),
  });
  return {
    state: {
      ...s,
      state: 'backup',
      masterAdvertIntMs: interval,
      masterDownAt: now + masterDownIntervalMs(s.effectivePriority, interval),
      nextAdvertAt: null,
      preemptAllowedAt,
      master: heard?.from ?? null,
      resuming: false,
    },
    effects,
  };
}

function toFault(s: InstanceState, cause: TransitionCause, effects: VrrpEffect[]): VrrpTransition {
  // A master that faults tells the others at once (priority 0), as on a clean stop.
  if (s.state === 'master') effects.push({ kind: 'send-advert', priority: 0, restarting: false });
  effects.push({ kind: 'transition', from: s.state, to: 'fault', cause });
  return {
    state: {
      ...s,
      state: 'fault',
      masterDownAt: null,
      nextAdvertAt: null,
      preemptAllowedAt: null,
      master: null,
      resuming: false,
    },
    effects,
  };
}

function onStart(s: InstanceState, holdsAddresses: boolean, now: number): VrrpTransition {
  if (s.state !== 'init') return { state: s, effects: [] };
  if (s.faulted) return toFault(s, 'fault', []);
  if (s.params.priority === 255) return toMaster(s, 'owner', now, []);
  if (holdsAddresses) {
    // A restart (ruling 14): keep the addresses while listening one master-down interval
    // for a better master; the peer holds off because our last advert said "restarting".
    const t = toBackup(s, 'startup', now, []);
    return { state: { ...t.state, state: 'init', resuming: true }, effects: [] };
  }
  return toBackup(s, 'startup', now, []);
}

function onTick(s: InstanceState, now: number): VrrpTransition {
  if (s.state === 'master' && s.nextAdvertAt !== null && now >= s.nextAdvertAt) {
    return {
      state: { ...s, nextAdvertAt: now + s.params.advertIntMs },
      effects: [{ kind: 'send-advert', priority: s.effectivePriority, restarting: false }],
    };
  }
  if ((s.state === 'backup' || s.resuming) && s.masterDownAt !== null && now >= s.masterDownAt) {
    return toMaster(s, s.resuming ? 'resumed' : 'master-down', now, []);
  }
  return { state: s, effects: [] };
}

function onAdvert(s: InstanceState, a: PeerAdvert, now: number): VrrpTransition {
  const prio = s.effectivePriority;
  if (s.state === 'fault' || s.state === 'stopped') return { state: s, effects: [] };
  if (s.state === 'master') {
    if (a.priority === 0) {
      // Another router stepped down: advertise at once so the others re-learn the master.
      return {
        state: { ...s, nextAdvertAt: now + s.params.advertIntMs },
        effects: [{ kind: 'send-advert', priority: prio, restarting: false }],
      };
    }
    if (peerWins(a, prio, s.params.primaryAddress))
      return toBackup(s, 'higher-priority', now, [], a);
    return { state: s, effects: [] };
  }
  // backup, or init while resuming
  if (a.priority === 0) {
    // The master is stopping. With one peer (the pair) take over at once (ruling 12);
    // with several, wait the skew time so the best backup wins (RFC 5798).
    const wait = s.params.peers <= 1 ? 0 : skewMs(prio, s.masterAdvertIntMs);
    if (wait === 0) return toMaster(s, 'peer-stopping', now, [], a.from);
    return { state: { ...s, masterDownAt: now + wait }, effects: [] };
  }
  const acceptLower =
    !s.params.preempt || (s.preemptAllowedAt !== null && now < s.preemptAllowedAt);
  const accept = a.priority >= prio || acceptLower;
  if (s.resuming && accept) {
    // A master we will not preempt exists: stop resuming and give the addresses up.
    return toBackup({ ...s, state: 'init' }, 'higher-priority', now, [], a);
  }
  if (accept) {
    const extra = a.restarting ? s.params.restartGraceMs : 0;
    return {
      state: {
        ...s,
        masterAdvertIntMs: a.advertIntMs,
        masterDownAt: now + masterDownIntervalMs(prio, a.advertIntMs) + extra,
        master: a.from,
      },
      effects: [],
    };
  }
  // preempt: a lower-priority master is ignored, so our master-down timer runs out.
  return { state: s, effects: [] };
}

function onTrack(s: InstanceState, priority: number, fault: boolean, now: number): VrrpTransition {
  const owner = s.params.priority === 255;
  const eff = owner ? 255 : Math.max(1, Math.min(254, priority));
  const effects: VrrpEffect[] = [];
  let next: InstanceState = { ...s, faulted: fault };
  if (eff !== s.effectivePriority) {
    effects.push({ kind: 'priority', from: s.effectivePriority, to: eff });
    next = { ...next, effectivePriority: eff };
  }
  if (s.state === 'init') return { state: next, effects };
  if (fault && s.state !== 'fault' && s.state !== 'stopped') return toFault(next, 'fault', effects);
  if (!fault && s.state === 'fault') {
    if (owner) return toMaster(next, 'fault-cleared', now, effects);
    return toBackup(next, 'fault-cleared', now, effects);
  }
  if (s.state === 'master' && eff !== s.effectivePriority) {
    // Advertise the new priority now: a better backup can preempt without waiting an interval.
    effects.push({ kind: 'send-advert', priority: eff, restarting: false });
    next = { ...next, nextAdvertAt: now + s.params.advertIntMs };
  }
  return { state: next, effects };
}

function onForce(s: InstanceState, to: 'master' | 'backup' | 'fault', now: number): VrrpTransition {
  if (s.state === to || s.state === 'stopped') return { state: s, effects: [] };
  if (to === 'fault') return toFault(s, 'sync-group', []);
  if (to === 'master') return toMaster(s, 'sync-group', now, []);
  const effects: VrrpEffect[] = [];
  if (s.state === 'master') effects.push({ kind: 'send-advert', priority: 0, restarting: false });
  return toBackup(s, 'sync-group', now, effects);
}

function onStop(s: InstanceState, restarting: boolean): VrrpTransition {
  if (s.state === 'stopped') return { state: s, effects: [] };
  const effects: VrrpEffect[] = [];
  // Ruling 14: a restarting master keeps its addresses and asks the peer to wait; a clean
  // stop hands over at once with priority 0 (RFC 5798 §6.4.3).
  if (s.state === 'master')
    effects.push({
      kind: 'send-advert',
      priority: restarting ? s.effectivePriority : 0,
      restarting,
    });
  effects.push({ kind: 'transition', from: s.state, to: 'stopped', cause: 'stop' });
  return {
    state: {
      ...s,
      state: 'stopped',
      masterDownAt: null,
      nextAdvertAt: null,
      preemptAllowedAt: null,
    },
    effects,
  };
}
