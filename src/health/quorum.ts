/**
 * Virtual-server quorum, hysteresis and sorry_server. Pure.
 *
 * keepalived 2.2.7 (ipwrapper.c update_quorum_state, check_data.c):
 *   - the weight sum is the summed weight of live real servers;
 *   - start-up: quorum is up iff sum >= quorum + hysteresis; a start with quorum down brings
 *     the sorry server in (and runs quorum_down) only when a sorry server is configured;
 *   - gained when down and sum >= quorum + hysteresis: quorum_up, the sorry server goes and
 *     the live real servers come back;
 *   - lost when up and (sum == 0 or sum < quorum - hysteresis): quorum_down, and if a sorry
 *     server is set it replaces all real servers;
 *   - quorum above the total configured weight is reduced to it; hysteresis >= quorum is
 *     reduced to quorum - 1.
 * Deliberate edge: a sum of 0 never gains quorum (with quorum reduced to 0, keepalived's rule
 * would gain and lose on alternate updates).
 */

export interface QuorumPolicy {
  readonly quorum: number;
  readonly hysteresis: number;
  /** `sorry_server IP [PORT]` as a server name, or null. */
  readonly sorryServer: string | null;
}

export interface QuorumWarning {
  readonly code: 'QUORUM_ABOVE_TOTAL_WEIGHT' | 'HYSTERESIS_NOT_BELOW_QUORUM';
  readonly message: string;
  readonly from: number;
  readonly to: number;
}

export interface QuorumState {
  readonly up: boolean;
}

export type QuorumEffect =
  | {
      readonly kind: 'quorum-up' | 'quorum-down';
      readonly startup: boolean;
      readonly weightSum: number;
      readonly threshold: number;
      readonly reason: string;
    }
  /** The sorry server enters (`active`) or leaves the table; real servers do the opposite. */
  | { readonly kind: 'sorry-server'; readonly server: string; readonly active: boolean };

export interface QuorumTransition {
  readonly state: QuorumState;
  readonly effects: readonly QuorumEffect[];
}

/** What the virtual server should serve from. */
export type Serving =
  { readonly kind: 'real-servers' } | { readonly kind: 'sorry-server'; readonly server: string };

/** keepalived's config-time adjustments, with the warnings it prints as data. */
export function normalizeQuorum(
  policy: QuorumPolicy,
  totalWeight: number,
): { readonly policy: QuorumPolicy; readonly warnings: readonly QuorumWarning[] } {
  const warnings: QuorumWarning[] = [];
  let { quorum, hysteresis } = policy;
  if (quorum > totalWeight) {
    warnings.push({
      code: 'QUORUM_ABOVE_TOTAL_WEIGHT',
      message: `quorum ${quorum} exceeds total weight of real servers ${totalWeight}, reducing quorum to ${totalWeight}`,
      from: quorum,
      to: totalWeight,
    });
    quorum = totalWeight;
  }
  if (hysteresis >= quorum) {
    // keepalived sets quorum - 1, which underflows (unsigned) at quorum 0: stop at 0.
    const to = Math.max(0, quorum - 1);
    if (to !== hysteresis) {
      warnings.push({
        code: 'HYSTERESIS_NOT_BELOW_QUORUM',
        message: `hysteresis ${hysteresis} >= quorum ${quorum}; setting hysteresis to ${to}`,
        from: hysteresis,
        to,
      });
    }
    hysteresis = to;
  }
  return { policy: { ...policy, quorum, hysteresis }, warnings };
}

/** Summed weight of the live real servers (each one's `quorumWeight`). */
export function liveWeightSum(weights: Iterable<number>): number {
  let sum = 0;
  for (const w of weights) sum += Math.max(0, w);
  return sum;
}

function gainAt(p: QuorumPolicy): number {
  return p.quorum + p.hysteresis;
}

function loseBelow(p: QuorumPolicy): number {
  return p.quorum - p.hysteresis;
}

function gains(p: QuorumPolicy, sum: number): boolean {
  return sum > 0 && sum >= gainAt(p);
}

function loses(p: QuorumPolicy, sum: number): boolean {
  return sum === 0 || sum < loseBelow(p);
}

function sorry(p: QuorumPolicy, active: boolean): QuorumEffect[] {
  return p.sorryServer === null ? [] : [{ kind: 'sorry-server', server: p.sorryServer, active }];
}

/** Quorum at start-up, before or after the first results (keepalived init_service_vs). */
export function initialQuorum(p: QuorumPolicy, weightSum: number): QuorumTransition {
  const up = gains(p, weightSum);
  const threshold = gainAt(p);
  // keepalived reports a quorum held from the start too (quorum_up, the lvs FIFO's "VS … UP").
  if (up)
    return {
      state: { up },
      effects: [
        {
          kind: 'quorum-up',
          startup: true,
          weightSum,
          threshold,
          reason: `starting with quorum: ${weightSum} >= ${p.quorum}+${p.hysteresis}=${threshold}`,
        },
      ],
    };
  if (p.sorryServer === null) return { state: { up }, effects: [] };
  return {
    state: { up },
    effects: [
      ...sorry(p, true),
      {
        kind: 'quorum-down',
        startup: true,
        weightSum,
        threshold,
        reason: `starting with quorum down: ${weightSum} < ${p.quorum}+${p.hysteresis}=${threshold}`,
      },
    ],
  };
}

/** Re-evaluate after the weight sum changed. */
export function stepQuorum(s: QuorumState, p: QuorumPolicy, weightSum: number): QuorumTransition {
  if (!s.up && gains(p, weightSum)) {
    const threshold = gainAt(p);
    return {
      state: { up: true },
      effects: [
        ...sorry(p, false),
        {
          kind: 'quorum-up',
          startup: false,
          weightSum,
          threshold,
          reason: `gained quorum ${p.quorum}+${p.hysteresis}=${threshold} <= ${weightSum}`,
        },
      ],
    };
  }
  if (s.up && loses(p, weightSum)) {
    const threshold = loseBelow(p);
    return {
      state: { up: false },
      effects: [
        ...sorry(p, true),
        {
          kind: 'quorum-down',
          startup: false,
          weightSum,
          threshold,
          reason: `lost quorum ${p.quorum}-${p.hysteresis}=${threshold} > ${weightSum}`,
        },
      ],
    };
  }
  return { state: s, effects: [] };
}

/** The sorry server serves while quorum is down, if one is configured; otherwise the real
 * servers stay in the table as their own health says (keepalived changes nothing then). */
export function serving(s: QuorumState, p: QuorumPolicy): Serving {
  if (!s.up && p.sorryServer !== null) return { kind: 'sorry-server', server: p.sorryServer };
  return { kind: 'real-servers' };
}
