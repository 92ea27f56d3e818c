/**
 * Edit history: field-level differences between two states of an event. Pure.
 *
 * Both sides are first turned into plain JSON (dates as ISO strings, lists keyed by their `code`)
 * so a change reads as `ticketTypes.child.prices` rather than "the whole list changed", and a
 * re-ordering of unchanged items is not a change.
 */
import type { FieldChange } from './event-change.entity.js';
import type { EventState } from './event-patch.js';

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

function toJson(value: unknown): Json {
  if (value === undefined || value === null) return null;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(toJson);
  if (typeof value === 'object') {
    const out: Record<string, Json> = {};
    for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
      // absent and null mean the same in a snapshot: "not set"
      if (inner !== undefined && inner !== null) out[key] = toJson(inner);
    }
    return out;
  }
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  return typeof value === 'bigint' ? value.toString() : null;
}

/** The state as the history stores it. */
export function snapshotOf(state: EventState): Record<string, Json> {
  const byCode = <T extends { code: string }>(items: readonly T[]) =>
    Object.fromEntries(items.map(({ code, ...rest }) => [code, rest]));
  return toJson({
    ...state,
    ticketTypes: byCode(state.ticketTypes),
    promoCodes: byCode(state.promoCodes),
  }) as Record<string, Json>;
}

function isRecord(value: Json | undefined): value is { [key: string]: Json } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function sameJson(a: Json | undefined, b: Json | undefined): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, i) => sameJson(item, b[i]));
  if (isRecord(a) && isRecord(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].every((key) => sameJson(a[key], b[key]));
  }
  return (a ?? null) === (b ?? null);
}

/**
 * The changed leaves between two snapshots, recursing into objects (not arrays: a list of tags or
 * prices is one value). A field that appears or disappears has null on the missing side.
 */
export function diffSnapshots(
  before: Record<string, Json>,
  after: Record<string, Json>,
  prefix = '',
): FieldChange[] {
  const changes: FieldChange[] = [];
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  for (const key of keys) {
    const field = prefix ? `${prefix}.${key}` : key;
    const a = before[key];
    const b = after[key];
    if (sameJson(a, b)) continue;
    if (isRecord(a) && isRecord(b)) changes.push(...diffSnapshots(a, b, field));
    else changes.push({ field, before: a ?? null, after: b ?? null });
  }
  return changes;
}
