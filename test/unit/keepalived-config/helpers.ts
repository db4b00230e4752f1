import {
  MemorySource,
  parseKeepalivedConfig,
  type Diagnostic,
} from '../../../src/keepalived-config/index.js';

/** Parses in-memory files; the first one is the main file. */
export function parseFiles(files: Record<string, string>, configId = 'test') {
  const main = Object.keys(files)[0] ?? '/etc/keepalived/keepalived.conf';
  return parseKeepalivedConfig(main, {
    source: new MemorySource(files),
    configId,
    random: () => 0.5,
  });
}

export function parse(text: string, configId = 'test') {
  return parseFiles({ '/etc/keepalived/keepalived.conf': text }, configId);
}

export function brief(ds: readonly Diagnostic[]): string[] {
  return ds.map((d) => `${d.at ? `${d.at.line}:${d.at.col}` : '-'} ${d.severity} ${d.code}`);
}
