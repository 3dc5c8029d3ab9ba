/**
 * Which IP addresses the egress proxy may connect to: public unicast only. Checked on the
 * address actually connected to (after DNS), so a name resolving to the host itself, the
 * LAN or a cloud metadata service is refused however it is spelled.
 */
import net from 'node:net';

export type AddressCheck = { ok: true } | { ok: false; reason: string };

type V4Range = readonly [base: string, prefix: number, name: string];

const V4_FORBIDDEN: readonly V4Range[] = [
  ['0.0.0.0', 8, '"this network" (0.0.0.0/8)'],
  ['10.0.0.0', 8, 'private (10.0.0.0/8)'],
  ['100.64.0.0', 10, 'carrier-grade NAT (100.64.0.0/10)'],
  ['127.0.0.0', 8, 'loopback (127.0.0.0/8)'],
  ['169.254.0.0', 16, 'link-local / cloud metadata (169.254.0.0/16)'],
  ['172.16.0.0', 12, 'private (172.16.0.0/12)'],
  ['192.0.0.0', 24, 'IETF protocol assignments (192.0.0.0/24)'],
  ['192.0.2.0', 24, 'documentation (192.0.2.0/24)'],
  ['192.88.99.0', 24, '6to4 relay (192.88.99.0/24)'],
  ['192.168.0.0', 16, 'private (192.168.0.0/16)'],
  ['198.18.0.0', 15, 'benchmarking (198.18.0.0/15)'],
  ['198.51.100.0', 24, 'documentation (198.51.100.0/24)'],
  ['203.0.113.0', 24, 'documentation (203.0.113.0/24)'],
  ['224.0.0.0', 4, 'multicast (224.0.0.0/4)'],
  ['240.0.0.0', 4, 'reserved / broadcast (240.0.0.0/4)'],
];

/**
 * IPv6 ranges. `embedsV4At` marks forms that carry an IPv4 address (mapped, NAT64, 6to4):
 * those are judged by the IPv4 address inside them, which is where the packets end up.
 */
type V6Range = readonly [base: string, prefix: number, name: string, embedsV4At?: number];

const MAPPED: V6Range = ['::ffff:0:0', 96, 'IPv4-mapped', 96];

const V6_RANGES: readonly V6Range[] = [
  ['::', 128, 'unspecified (::)'],
  ['::1', 128, 'loopback (::1)'],
  MAPPED,
  ['::', 96, 'IPv4-compatible (::/96, deprecated)'],
  ['64:ff9b::', 96, 'NAT64', 96],
  ['64:ff9b:1::', 48, 'local-use NAT64 (64:ff9b:1::/48)'],
  ['100::', 64, 'discard (100::/64)'],
  ['2001::', 32, 'Teredo (2001::/32)'],
  ['2001:db8::', 32, 'documentation (2001:db8::/32)'],
  ['2002::', 16, '6to4', 16],
  ['fc00::', 7, 'unique local (fc00::/7)'],
  ['fe80::', 10, 'link-local (fe80::/10)'],
  ['fec0::', 10, 'site-local (fec0::/10)'],
  ['ff00::', 8, 'multicast (ff00::/8)'],
];

function v4ToInt(ip: string): number {
  return ip.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
}

function intToV4(n: number): string {
  return [24, 16, 8, 0].map((shift) => (n >>> shift) & 255).join('.');
}

/** 128-bit value of a valid IPv6 address (zone id dropped; a dotted IPv4 tail allowed). */
function v6ToBigInt(ip: string): bigint {
  let text = ip.split('%')[0] ?? ip;
  const dotted = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted?.[1] && dotted[2]) {
    const n = v4ToInt(dotted[2]);
    text = `${dotted[1]}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const zeros = tail === undefined ? 0 : 8 - headGroups.length - tailGroups.length;
  const groups = [...headGroups, ...Array<string>(zeros).fill('0'), ...tailGroups];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

function inV4(n: number, [base, prefix]: V4Range): boolean {
  const mask = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
  return (n & mask) >>> 0 === (v4ToInt(base) & mask) >>> 0;
}

function inV6(n: bigint, [base, prefix]: V6Range): boolean {
  const shift = BigInt(128 - prefix);
  return n >> shift === v6ToBigInt(base) >> shift;
}

function checkV4(ip: string): AddressCheck {
  const n = v4ToInt(ip);
  const range = V4_FORBIDDEN.find((r) => inV4(n, r));
  return range ? { ok: false, reason: `${ip} is ${range[2]}` } : { ok: true };
}

/**
 * The canonical form to compare and connect to: IPv4 dotted quad, IPv4-mapped IPv6 as its
 * IPv4 address, other IPv6 compressed and lower-case. null when `ip` is not an IP address.
 */
export function normalizeAddress(ip: string): string | null {
  if (net.isIPv4(ip)) return ip;
  if (!net.isIPv6(ip)) return null;
  const n = v6ToBigInt(ip);
  if (inV6(n, MAPPED)) return intToV4(Number(n & 0xffffffffn));
  const text = ip.split('%')[0] ?? ip;
  // The URL parser prints IPv6 in its canonical compressed form.
  return new URL(`http://[${text}]/`).hostname.slice(1, -1);
}

/** Refuses every address that is not public unicast, naming the range it falls in. */
export function checkAddress(ip: string): AddressCheck {
  if (net.isIPv4(ip)) return checkV4(ip);
  if (!net.isIPv6(ip)) return { ok: false, reason: `${ip} is not an IP address` };
  const n = v6ToBigInt(ip);
  const range = V6_RANGES.find((r) => inV6(n, r));
  if (!range) return { ok: true };
  const [, , name, embedsV4At] = range;
  if (embedsV4At === undefined) return { ok: false, reason: `${ip} is ${name}` };
  const inner = intToV4(Number((n >> BigInt(96 - embedsV4At)) & 0xffffffffn));
  const v4 = checkV4(inner);
  return v4.ok ? v4 : { ok: false, reason: `${ip} is ${name} for ${v4.reason}` };
}
