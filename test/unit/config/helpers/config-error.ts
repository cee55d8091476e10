import { ConfigError } from '../../../../src/config-error.js';

/** Run `f` and return the ConfigError it throws; anything else (or no throw) fails the test. */
export function configErrorOf(f: () => unknown): ConfigError {
  try {
    f();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}
