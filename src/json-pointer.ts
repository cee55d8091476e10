/**
 * JSON pointers (RFC 6901), as config errors name the place they point at.
 */

/** Escape one JSON-pointer reference token (`~` → `~0`, `/` → `~1`). */
export function escapePointer(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** `joinPointer('/route', 'children', 1)` → `/route/children/1`. */
export function joinPointer(base: string, ...tokens: (string | number)[]): string {
  let out = base;
  for (const t of tokens) out += '/' + escapePointer(String(t));
  return out;
}
