import { isIPv4, isIPv6 } from 'node:net';

/**
 * A client's address made coarse before it is stored with a consent answer: the IPv4 /24 or the
 * IPv6 /48 network, so a record can show roughly where an answer came from (and patterns of abuse)
 * without pointing at one household. Pure.
 */
export function truncatedNetwork(address: string | undefined): string | null {
  if (!address) return null;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  const ip = mapped ?? address;
  if (isIPv4(ip)) {
    const [a, b, c] = ip.split('.');
    return `${a}.${b}.${c}.0/24`;
  }
  if (isIPv6(ip)) {
    const [head = '', tail = ''] = ip.split('::');
    const left = head ? head.split(':') : [];
    const right = tail ? tail.split(':') : [];
    const groups = ip.includes('::') ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
    return `${groups.slice(0, 3).map((group) => group.replace(/^0+(?=.)/, '').toLowerCase()).join(':')}::/48`;
  }
  return null;
}
