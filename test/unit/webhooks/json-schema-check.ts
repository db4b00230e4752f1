/**
 * A small, strict JSON Schema checker for the subset docs/events.schema.json uses ($ref to
 * local pointers, type, const, enum, required, properties, items, allOf, oneOf, if/then,
 * minimum). Written here rather than adding a validator dependency; `closed` makes unknown
 * properties errors, so the published schema cannot fall behind what lvsd emits.
 */
type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Schema = { [k: string]: Json };

const KNOWN = new Set([
  '$schema',
  '$id',
  '$ref',
  '$defs',
  'title',
  'description',
  'format',
  'type',
  'const',
  'enum',
  'required',
  'properties',
  'items',
  'allOf',
  'oneOf',
  'if',
  'then',
  'minimum',
]);

function isObject(v: unknown): v is { [k: string]: Json } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export class SchemaChecker {
  constructor(
    private readonly root: Schema,
    private readonly closed = true,
  ) {}

  /** Error messages; empty when `value` conforms. */
  check(value: unknown, pointer = '#'): string[] {
    return this.at(this.resolve(pointer), value, '$');
  }

  private resolve(ref: string): Schema {
    if (!ref.startsWith('#')) throw new Error(`only local $ref: ${ref}`);
    let node: Json = this.root;
    for (const part of ref
      .slice(2)
      .split('/')
      .filter((p) => p !== '')) {
      if (!isObject(node) || !(part in node)) throw new Error(`dangling $ref ${ref}`);
      node = node[part] as Json;
    }
    if (!isObject(node)) throw new Error(`$ref ${ref} is not a schema`);
    return node;
  }

  private at(s: Schema, v: unknown, path: string): string[] {
    for (const k of Object.keys(s))
      if (!KNOWN.has(k)) throw new Error(`unsupported keyword ${k} at ${path}`);
    const errors: string[] = [];
    if (typeof s['$ref'] === 'string') errors.push(...this.at(this.resolve(s['$ref']), v, path));
    if ('const' in s && JSON.stringify(s['const']) !== JSON.stringify(v))
      errors.push(`${path}: expected ${JSON.stringify(s['const'])}`);
    if (Array.isArray(s['enum']) && !s['enum'].some((e) => e === v))
      errors.push(`${path}: ${JSON.stringify(v)} not in enum`);
    if (typeof s['type'] === 'string' && !typeOk(s['type'], v))
      return [...errors, `${path}: expected ${s['type']}, got ${JSON.stringify(v)}`];
    if (typeof s['minimum'] === 'number' && typeof v === 'number' && v < s['minimum'])
      errors.push(`${path}: below minimum`);
    if (isObject(v)) {
      const props = isObject(s['properties']) ? s['properties'] : undefined;
      if (Array.isArray(s['required']))
        for (const r of s['required'])
          if (typeof r === 'string' && !(r in v)) errors.push(`${path}: missing ${r}`);
      if (props) {
        for (const [k, sub] of Object.entries(props))
          if (k in v && isObject(sub)) errors.push(...this.at(sub, v[k], `${path}.${k}`));
        if (this.closed && s['type'] === 'object')
          for (const k of Object.keys(v))
            if (!(k in props)) errors.push(`${path}: unknown property ${k}`);
      }
    }
    if (Array.isArray(v) && isObject(s['items']))
      v.forEach((item, i) => errors.push(...this.at(s['items'] as Schema, item, `${path}[${i}]`)));
    if (Array.isArray(s['allOf']))
      for (const sub of s['allOf']) if (isObject(sub)) errors.push(...this.at(sub, v, path));
    if (Array.isArray(s['oneOf'])) {
      const passing = s['oneOf'].filter(
        (sub) => isObject(sub) && this.at(sub, v, path).length === 0,
      ).length;
      if (passing !== 1) errors.push(`${path}: matches ${passing} of oneOf`);
    }
    if (isObject(s['if']) && isObject(s['then']) && this.at(s['if'], v, path).length === 0)
      errors.push(...this.at(s['then'], v, path));
    return errors;
  }
}

function typeOk(type: string, v: unknown): boolean {
  switch (type) {
    case 'object':
      return isObject(v);
    case 'array':
      return Array.isArray(v);
    case 'string':
      return typeof v === 'string';
    case 'number':
      return typeof v === 'number' && Number.isFinite(v);
    case 'integer':
      return Number.isInteger(v);
    case 'boolean':
      return typeof v === 'boolean';
    default:
      throw new Error(`unsupported type ${type}`);
  }
}
