/**
 * The event stream's rules, apart from the socket: where a client starts, when it is cut off,
 * and what its last line says. A client reads the shared ring through a cursor (the seq of
 * the last event handed to its socket), so its own buffer is a number, not a queue; what is
 * bounded is how far behind it may fall.
 *
 * A client is cut off when
 *   - `lagging`: more than `maxLagEvents` events published since it connected are not yet
 *     handed to its socket (the backlog it asked for with `since` does not count), or
 *   - `evicted`: the next event it needs has already left the ring.
 * Every event up to the cut is sent, in order, without a hole: the last line names the last
 * seq sent, so a reader can resume from it.
 */
import { apiError, type ApiErrorBody } from './errors.js';

export interface StreamLimits {
  /** Events published since the client connected that it may still be missing. */
  readonly maxLagEvents: number;
  /** Events and bytes handed to the socket in one write. */
  readonly batchEvents: number;
  readonly batchBytes: number;
  /** After the last line is queued, how long a client that reads nothing keeps its socket. */
  readonly lingerMs: number;
}

export const DEFAULT_STREAM_LIMITS: StreamLimits = {
  maxLagEvents: 1000,
  batchEvents: 256,
  batchBytes: 64 * 1024,
  lingerMs: 5000,
};

export interface StreamStart {
  /** Send events with seq > cursor. */
  readonly cursor: number;
  /** Asked-for events that the ring no longer holds (since+1 … oldest-1). */
  readonly gap?: { readonly from: number; readonly to: number };
  /** `since` is beyond the newest event (lvsd restarted? its seqs start again at 1). */
  readonly ahead?: boolean;
}

/** Where a stream starts, from `since` and what the ring holds. */
export function streamStart(
  since: number | undefined,
  oldest: number | undefined,
  newest: number,
): StreamStart {
  const first = oldest ?? newest + 1;
  if (since === undefined) return { cursor: first - 1 };
  if (since > newest) return { cursor: newest, ahead: true };
  if (since < first - 1) return { cursor: first - 1, gap: { from: since + 1, to: first - 1 } };
  return { cursor: since };
}

export type StreamVerdict =
  { readonly kind: 'keep' } | { readonly kind: 'cut'; readonly reason: 'lagging' | 'evicted' };

export interface CursorState {
  readonly cursor: number;
  /** The newest seq when the client connected: later events count against its lag. */
  readonly liveFrom: number;
  readonly follow: boolean;
}

export function verdict(
  s: CursorState,
  newest: number,
  oldest: number | undefined,
  limits: Pick<StreamLimits, 'maxLagEvents'>,
): StreamVerdict {
  const next = s.cursor + 1;
  if (next <= newest && oldest !== undefined && next < oldest)
    return { kind: 'cut', reason: 'evicted' };
  // A one-shot read sends nothing newer than its start: only eviction can cut it.
  if (s.follow && newest - Math.max(s.cursor, s.liveFrom) > limits.maxLagEvents)
    return { kind: 'cut', reason: 'lagging' };
  return { kind: 'keep' };
}

/** The stream's last line when lvsd ends it early (SLOW_CONSUMER or UNAVAILABLE). */
export function finalLine(
  end:
    | { readonly kind: 'cut'; readonly reason: 'lagging' | 'evicted' }
    | { readonly kind: 'stopping' },
  lastSeq: number,
  limits: Pick<StreamLimits, 'maxLagEvents'>,
): ApiErrorBody {
  const resume = `resume with lvsd events --follow --since ${lastSeq}`;
  if (end.kind === 'stopping')
    return apiError('UNAVAILABLE', `lvsd is stopping; the last event sent was seq ${lastSeq}`, {
      hint: `once it runs again, ${resume} (a new daemon numbers its events from 1 again)`,
      lastSeq,
    }).toBody();
  const why =
    end.reason === 'lagging'
      ? `this client fell more than ${limits.maxLagEvents} events behind`
      : 'the events this client still needed have left the daemon’s memory';
  return apiError('SLOW_CONSUMER', `${why}; the last event sent was seq ${lastSeq}`, {
    hint: `read the stream faster, or ${resume}`,
    lastSeq,
  }).toBody();
}

/** Parses `since`: a non-negative integer. */
export function parseSince(text: string): number | undefined {
  if (!/^\d{1,15}$/.test(text)) return undefined;
  return Number(text);
}
