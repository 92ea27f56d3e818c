import { describe, expect, it } from '@jest/globals';
import { truncatedNetwork } from '../../src/consents/client-address.js';

describe('truncatedNetwork', () => {
  it.each([
    ['203.0.113.77', '203.0.113.0/24'],
    ['::ffff:203.0.113.77', '203.0.113.0/24'],
    ['127.0.0.1', '127.0.0.0/24'],
    ['2001:db8:85a3:8d3:1319:8a2e:370:7348', '2001:db8:85a3::/48'],
    ['2001:0db8::1', '2001:db8:0::/48'],
    ['::1', '0:0:0::/48'],
    ['not an address', null],
    [undefined, null],
  ])('%p -> %p', (address, network) => {
    expect(truncatedNetwork(address)).toBe(network);
  });
});
