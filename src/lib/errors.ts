/**
 * The base of every error lvsd raises on purpose. Code branches on `code`, never on message
 * text; `hint` says what the operator can do about it.
 */
export class LvsdError extends Error {
  readonly lvsd = true as const;
  constructor(
    readonly code: string,
    message: string,
    readonly hint?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'LvsdError';
  }
}

export function isLvsdError(value: unknown): value is LvsdError {
  return value instanceof Error && (value as Partial<LvsdError>).lvsd === true;
}
