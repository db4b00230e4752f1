/**
 * The logger the observers write to: pino's Logger fits it. Fields go in the object, never
 * formatted into the message.
 */
export interface ObserverLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export const silentLog: ObserverLog = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
