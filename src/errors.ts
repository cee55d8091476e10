/**
 * Every stable error code mcrelay raises, in one table (`MCP_ERR_<AREA>_<WHAT>`). Code that throws picks a
 * code from here; logs, tests and the admin endpoint match on `code`, never on message text.
 *
 * Upstream trouble is never an exception (it is a Reply result); these codes are for config problems,
 * protocol violations and bugs.
 */
export const ERROR_CODES = {
  /** The config text could not be read (missing file, unreadable path). */
  MCP_ERR_CONFIG_READ: 'config source could not be read',
  /** The config text is not valid JSON / YAML. */
  MCP_ERR_CONFIG_PARSE: 'config text could not be parsed',
  /** A value has the wrong shape for the top-level schema or a route's options schema. */
  MCP_ERR_CONFIG_INVALID: 'config value is invalid',
  /** A node names a route type that is not in the registry. */
  MCP_ERR_CONFIG_UNKNOWN_ROUTE: 'unknown route type',
  /** A route refers to a pool that is not defined. */
  MCP_ERR_CONFIG_UNKNOWN_POOL: 'unknown pool',
  /** A pool's `inherit` chain loops. */
  MCP_ERR_CONFIG_INHERIT_CYCLE: 'pool inherit cycle',
  /** A server string is not `host:port[:protocol[:security]]`. */
  MCP_ERR_CONFIG_BAD_SERVER: 'bad server address',
  /** Both `route` and `routes`, neither, or a default prefix that no alias covers. */
  MCP_ERR_CONFIG_BAD_ROUTES: 'bad route table',
  /** A key that is forbidden in config objects (`__proto__`, `constructor`, `prototype`). */
  MCP_ERR_CONFIG_FORBIDDEN_KEY: 'forbidden key',
  /** A feature the config asks for that mcrelay does not implement yet (JSONM macros). */
  MCP_ERR_CONFIG_UNSUPPORTED: 'unsupported config feature',
  /** A route factory failed while building (its message starts with the route type). */
  MCP_ERR_CONFIG_ROUTE_BUILD: 'route could not be built',
  /** Two registry entries claim the same type name or alias. */
  MCP_ERR_REGISTRY_DUPLICATE: 'duplicate route type',
  /** The client sent bytes that are not a valid command. */
  MCP_ERR_PROTO_BAD_COMMAND: 'bad command',
  /** The client sent a key that is too long or contains control characters. */
  MCP_ERR_PROTO_BAD_KEY: 'bad key',
  /** The client sent a data block whose length does not match the header. */
  MCP_ERR_PROTO_BAD_DATA_CHUNK: 'bad data chunk',
  /** A request reached a point where no route exists for it. */
  MCP_ERR_ROUTE_NO_ROUTE: 'no route for key',
  /** Internal invariant broken: a bug. */
  MCP_ERR_INTERNAL: 'internal error',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Base class of every error mcrelay throws on purpose. `code` is stable; `message` is for people. */
export class ProxyError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string = ERROR_CODES[code], options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ProxyError';
    this.code = code;
  }
}
