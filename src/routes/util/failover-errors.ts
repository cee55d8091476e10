/**
 * Which reply results make FailoverRoute (and FailoverWithExptimeRoute) try the next child: mcrouter's
 * `failover_errors`, either one list for every op or `{gets, updates, deletes}` per op class. A class left
 * out of the object form, and every op outside the three classes (arithmetic, touch-like `other`), uses the
 * default set (FAILOVER_ERRORS). Misses, NOT_STORED and friends are never failover errors.
 *
 * Built once into three bitsets-as-Sets; the per-reply check is one Set lookup.
 */
import type { SchemaObject } from 'ajv';
import { ALL_RESULTS, FAILOVER_ERRORS, isErrorResult, opGroup, type Op, type Result } from '../../protocol/types.js';

/** Result names allowed in `failover_errors` (error results only; `mc_res_` prefix accepted too). */
export const FAILOVER_ERROR_NAMES: readonly string[] = (() => {
  const errs = ALL_RESULTS.filter((r) => isErrorResult(r));
  return [...errs, ...errs.map((r) => `mc_res_${r}`)];
})();

const nameList: SchemaObject = {
  type: 'array',
  items: { type: 'string', enum: [...FAILOVER_ERROR_NAMES] },
};

export const FAILOVER_ERRORS_SCHEMA: SchemaObject = {
  description:
    'Results that make the route try the next child: a list of result names (timeout, connect_error, tko, busy, ...) ' +
    'or {gets, updates, deletes} per op class. Default: busy, shutdown, tko, try_again, local_error, connect_error, ' +
    'connect_timeout, timeout, remote_error, deadline_exceeded. Misses are never errors.',
  anyOf: [
    nameList,
    {
      type: 'object',
      properties: {
        gets: { ...nameList, description: 'For get-like ops.' },
        updates: { ...nameList, description: 'For update-like ops (set, add, replace, append, prepend, cas, touch, ms).' },
        deletes: { ...nameList, description: 'For delete and md.' },
      },
      additionalProperties: false,
    },
  ],
};

export type FailoverErrorsOption = string[] | { gets?: string[]; updates?: string[]; deletes?: string[] };

function toSet(names: readonly string[] | undefined): ReadonlySet<Result> {
  if (names === undefined) return DEFAULT;
  return new Set(names.map((n) => (n.startsWith('mc_res_') ? n.slice('mc_res_'.length) : n) as Result));
}

const DEFAULT: ReadonlySet<Result> = new Set(FAILOVER_ERRORS);

export class FailoverErrors {
  private readonly gets: ReadonlySet<Result>;
  private readonly updates: ReadonlySet<Result>;
  private readonly deletes: ReadonlySet<Result>;

  constructor(option?: FailoverErrorsOption) {
    if (option === undefined) {
      this.gets = this.updates = this.deletes = DEFAULT;
    } else if (Array.isArray(option)) {
      this.gets = this.updates = this.deletes = toSet(option);
    } else {
      this.gets = toSet(option.gets);
      this.updates = toSet(option.updates);
      this.deletes = toSet(option.deletes);
    }
  }

  /** True when `result` for `op` should move on to the next child. */
  shouldFailover(op: Op, result: Result): boolean {
    switch (opGroup(op)) {
      case 'get_like': return this.gets.has(result);
      case 'update_like': return this.updates.has(result);
      case 'delete_like': return this.deletes.has(result);
      default: return DEFAULT.has(result);
    }
  }
}
