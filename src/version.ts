/** mcrelay's version; a unit test keeps it equal to package.json's. */
export const VERSION = '0.1.0';

/** The memcached release whose text and meta protocol mcrelay reproduces byte for byte. */
export const MEMCACHED_PROTOCOL_LEVEL = '1.6.18';
