/**
 * The one error type of the config pipeline. `path` is the JSON pointer (RFC 6901) of the offending value
 * in the config document (`''` for the document itself, in which case the message is just the detail, e.g. a
 * parse error with its line:column); otherwise the message repeats it so a log line alone is enough:
 *
 *   /route/children/1/pool: unknown pool "B"
 *   /route/children/0: HashRoute: weights has 3 entries but there are 2 children
 *
 * Messages produced by a route factory start with the route type, as mcrouter's do.
 */
import { ProxyError, type ErrorCode } from './errors.js';

export class ConfigError extends ProxyError {
  /** JSON pointer of the offending value; '' is the whole document. */
  readonly path: string;
  /** The message without the leading `path: `. */
  readonly detail: string;

  constructor(path: string, detail: string, code: ErrorCode = 'MCP_ERR_CONFIG_INVALID', options?: { cause?: unknown }) {
    super(code, path === '' ? detail : `${path}: ${detail}`, options);
    this.name = 'ConfigError';
    this.path = path;
    this.detail = detail;
  }
}

export { escapePointer, joinPointer } from './json-pointer.js';
