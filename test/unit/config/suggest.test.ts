import { describe, expect, test } from 'vitest';
import { editDistance, nearestKey } from '../../../src/suggest.js';

describe('editDistance', () => {
  test.each([
    ['', '', 0],
    ['abc', '', 3],
    ['', 'abc', 3],
    ['server_timeout', 'server_timeout', 0],
    ['sever_timeout', 'server_timeout', 1],
    ['servres', 'servers', 1], // one swap of adjacent characters
    ['kitten', 'sitting', 3],
    ['pool_locality', 'pool', 9],
  ])('%s -> %s = %d', (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
    expect(editDistance(b, a)).toBe(d);
  });
});

describe('nearestKey', () => {
  const keys = ['servers', 'server_timeout', 'connect_timeout', 'weights', 'hash', 'tags'];
  test('a typo gets the known key', () => {
    expect(nearestKey('sever_timeout', keys)).toBe('server_timeout');
    expect(nearestKey('weigths', keys)).toBe('weights');
    expect(nearestKey('hsh', keys)).toBe('hash');
  });
  test('a different case is always the suggestion', () => {
    expect(nearestKey('Servers', keys)).toBe('servers');
  });
  test('a word nothing is close to gets no suggestion', () => {
    expect(nearestKey('pool_locality', keys)).toBeNull();
    expect(nearestKey('abcd', keys)).toBeNull();
    expect(nearestKey('x', [])).toBeNull();
  });
  test('a word that starts a known key gets that key', () => {
    expect(nearestKey('default', ['operation_policies', 'default_policy'])).toBe('default_policy');
    expect(nearestKey('conn', keys)).toBe('connect_timeout');
    expect(nearestKey('se', keys)).toBeNull();
  });
  test('short words allow one edit only', () => {
    expect(nearestKey('tag', keys)).toBe('tags');
    expect(nearestKey('ta', keys)).toBeNull();
  });
});
