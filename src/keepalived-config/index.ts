/**
 * keepalived-config: a parser for keepalived.conf syntax with diagnostics that point at
 * file:line:col. Self-contained (it imports nothing else from lvsd) so it can be published alone.
 *
 *   const { model, diagnostics } = parseKeepalivedConfig('/etc/keepalived/keepalived.conf', {
 *     source: nodeSource(), configId: hostname().split('.')[0] });
 */
import { parseFile, type ParseResult } from './parse.js';
import type { PreprocessOptions } from './preprocess.js';

export type { ParseResult } from './parse.js';
export type { PreprocessOptions as ParseOptions } from './preprocess.js';
export * from './diagnostics.js';
export type * from './model.js';
export { MemorySource, type SourceReader, type ReadResult } from './source.js';
export { nodeSource } from './node-source.js';
export { addressFamily, canonicalIPv6, isIPv4, parsePrefix } from './address.js';
export { schedulers, MAX_WEIGHT } from './lvs.js';

export function parseKeepalivedConfig(file: string, options: PreprocessOptions): ParseResult {
  return parseFile(file, options);
}
