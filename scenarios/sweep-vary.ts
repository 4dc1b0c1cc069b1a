/**
 * The field a sweep varies (`tally sweep --vary <field>`): a path into the scenario document
 * (`load.rate`, `telemetry.metrics.0.attributes.pod`, `telemetry.exportInterval`,
 * `telemetry.traces.ratePerSecond`, or the JSON pointer form `/load/rate`), what kind of
 * value it holds (read from the scenario schema: a number, an integer or a duration), and a
 * copy of the document with the field set to one step's value. Pure.
 *
 * @see scenarios/scenario.schema.json
 * @see https://www.rfc-editor.org/rfc/rfc6901 (JSON Pointer)
 */
import { ConfigError } from '../core/errors.ts';
import { parseDurationMs } from '../core/units.ts';

/** What a varied field holds: its values are numbers in this unit (durations in ms). */
export type VaryKind = 'number' | 'integer' | 'duration';

/** A parsed `--vary` field. */
export interface VaryField {
  /** As written. */
  text: string;
  /** The path's tokens (`['telemetry', 'metrics', '0', 'attributes', 'pod']`). */
  tokens: string[];
  /** The same as a JSON pointer (`/telemetry/metrics/0/attributes/pod`). */
  pointer: string;
  kind: VaryKind;
  /** The schema's unit of the field (`iterations per timeUnit`, `values per attribute`, `duration string`…). */
  unit: string;
  /** The schema's bounds, in the field's value unit (durations in ms). */
  minimum?: number;
  maximum?: number;
}

type Schema = Record<string, unknown>;

function escapeToken(token: string): string {
  return token.replaceAll('~', '~0').replaceAll('/', '~1');
}

/** Split a dotted path (`a.b[0].c`, `a.b.0.c`) or a JSON pointer (`/a/b/0/c`) into tokens. */
export function varyTokens(text: string): string[] {
  const trimmed = text.trim();
  if (trimmed.startsWith('/')) return trimmed.slice(1).split('/').map((t) => t.replaceAll('~1', '/').replaceAll('~0', '~'));
  return trimmed.replace(/\[(\d+)\]/g, '.$1').split('.').filter((t) => t !== '');
}

function deref(root: Schema, schema: Schema): Schema {
  let s = schema;
  for (let guard = 0; typeof s.$ref === 'string' && guard < 16; guard++) {
    const ref = s.$ref as string;
    const target = varyTokens(ref.slice(1)).reduce<unknown>((at, token) => (at as Schema | undefined)?.[token], root) as Schema | undefined;
    if (target === undefined) return s;
    // Keywords beside the $ref (a description, duration bounds) stay with the referring schema.
    const { $ref: _, ...beside } = s;
    s = { ...target, ...beside };
  }
  return s;
}

/** The sub-schema of a token under `schema`, following properties, additionalProperties and items. */
function child(root: Schema, schema: Schema, token: string): Schema | undefined {
  const s = deref(root, schema);
  const properties = s.properties as Record<string, Schema> | undefined;
  if (properties?.[token] !== undefined) return properties[token];
  if (s.type === 'array' && /^\d+$/.test(token) && typeof s.items === 'object') return s.items as Schema;
  if (typeof s.additionalProperties === 'object') return s.additionalProperties as Schema;
  return undefined;
}

/**
 * Parse a `--vary` field against the scenario schema.
 * @throws ConfigError `TALLY_USAGE` (pointer `/vary`) when the path names no field of the
 *   schema, or a field that is not a number, an integer or a duration.
 */
export function parseVaryField(text: string, schema: Schema): VaryField {
  const tokens = varyTokens(text);
  const refuse = (message: string): never => {
    throw new ConfigError(`--vary ${text}: ${message}`, [{ pointer: '/vary', message }], { code: 'TALLY_USAGE' });
  };
  if (tokens.length === 0) refuse('names no field');
  let at: Schema | undefined = schema;
  for (const token of tokens) {
    at = at === undefined ? undefined : child(schema, at, token);
    if (at === undefined) refuse(`"${token}" is not a field of the scenario there (see scenario.schema.json)`);
  }
  const field = deref(schema, at!);
  const unit = typeof field.unit === 'string' ? field.unit : '';
  const bound = (key: string): number | undefined => (typeof field[key] === 'number' ? (field[key] as number) : undefined);
  const pointer = `/${tokens.map(escapeToken).join('/')}`;
  const base = { text, tokens, pointer, unit };
  if (typeof field.pattern === 'string' && unit === 'duration string') {
    const out: VaryField = { ...base, kind: 'duration' };
    if (typeof field.minDuration === 'string') out.minimum = parseDurationMs(field.minDuration);
    if (typeof field.maxDuration === 'string') out.maximum = parseDurationMs(field.maxDuration);
    return out;
  }
  if (field.type === 'integer' || field.type === 'number') {
    const out: VaryField = { ...base, kind: field.type };
    const min = bound('minimum') ?? bound('exclusiveMinimum');
    const max = bound('maximum') ?? bound('exclusiveMaximum');
    if (min !== undefined) out.minimum = min;
    if (max !== undefined) out.maximum = max;
    return out;
  }
  return refuse('is not a number, an integer or a duration: a sweep varies one of those');
}

/**
 * A `--from` / `--to` / `--resolution` value in the field's unit: a number, or for a
 * duration a duration string (`500ms`; a bare number is ms).
 * @throws ConfigError `TALLY_USAGE` naming `flag`.
 */
export function parseVaryValue(field: VaryField, text: string, flag: string): number {
  const t = text.trim();
  const value = field.kind === 'duration' && !/^-?\d+(\.\d+)?$/.test(t) ? safeDurationMs(t) : Number(t);
  if (!Number.isFinite(value)) {
    const message = field.kind === 'duration' ? 'must be a duration such as 500ms or 2s' : 'must be a number';
    throw new ConfigError(`--${flag} ${text}: ${message}`, [{ pointer: `/${flag}`, message }], { code: 'TALLY_USAGE' });
  }
  return value;
}

function safeDurationMs(text: string): number {
  try {
    return parseDurationMs(text);
  } catch {
    return Number.NaN;
  }
}

/** A step's value as the document writes it: a duration as `<ms>ms`, an integer rounded. */
export function documentValue(field: VaryField, value: number): number | string {
  if (field.kind === 'duration') return `${Number(value.toFixed(3))}ms`;
  if (field.kind === 'integer') return Math.round(value);
  return Number(value.toPrecision(12));
}

/** A value as people read it: `250ms`, `1200`, `12.5`. */
export function formatVaryValue(field: VaryField, value: number): string {
  const v = documentValue(field, value);
  return typeof v === 'string' ? v : String(v);
}

/**
 * A deep copy of `doc` with the field set to `value` (intermediate mappings are created
 * where missing; list items must exist).
 * @throws ConfigError `TALLY_USAGE` (pointer `/vary`) when a list item or a mapping on the way is missing.
 */
export function withVaried(doc: unknown, field: VaryField, value: number): Record<string, unknown> {
  const copy = structuredClone(doc) as Record<string, unknown>;
  let at: Record<string, unknown> | unknown[] = copy;
  field.tokens.forEach((token, i) => {
    const last = i === field.tokens.length - 1;
    if (Array.isArray(at)) {
      const index = Number(token);
      if (!Number.isInteger(index) || index >= at.length) {
        throw new ConfigError(`--vary ${field.text}: the scenario has no item ${token} there`, [{ pointer: '/vary', message: `the scenario has no item ${token} at ${field.pointer}` }], { code: 'TALLY_USAGE' });
      }
      if (last) at[index] = documentValue(field, value);
      else at = at[index] as Record<string, unknown>;
      return;
    }
    if (last) {
      at[token] = documentValue(field, value);
      return;
    }
    if (at[token] === undefined) at[token] = /^\d+$/.test(field.tokens[i + 1]) ? [] : {};
    at = at[token] as Record<string, unknown>;
  });
  return copy;
}
