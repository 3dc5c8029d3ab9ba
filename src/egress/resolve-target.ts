import dns from 'node:dns';
import net from 'node:net';
import { checkAddress, normalizeAddress } from './address-check.js';

/** Every address a host name resolves to. Rejects when it resolves to none. */
export type Resolver = (host: string) => Promise<string[]>;

export const systemResolver: Resolver = async (host) =>
  (await dns.promises.lookup(host, { all: true })).map((a) => a.address);

export type ResolvedTarget =
  { ok: true; address: string } | { ok: false; status: 403 | 502; reason: string };

/**
 * Resolves `host` once and picks the address to connect to. If any address it resolves to
 * is not public, the host is refused: the proxy then connects to this checked address, never
 * to the name again, so a second DNS answer cannot swap in another.
 */
export async function resolveTarget(
  host: string,
  resolver: Resolver,
  allowAddresses: ReadonlySet<string>,
): Promise<ResolvedTarget> {
  let addresses: string[];
  if (net.isIP(host)) {
    addresses = [host];
  } else {
    try {
      addresses = await resolver(host);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      return { ok: false, status: 502, reason: `cannot resolve ${host}: ${code}` };
    }
  }
  const checked: string[] = [];
  for (const raw of addresses) {
    const address = normalizeAddress(raw);
    if (address === null) {
      return { ok: false, status: 502, reason: `${host} resolved to ${raw}, not an IP address` };
    }
    if (!allowAddresses.has(address)) {
      const check = checkAddress(address);
      if (!check.ok) {
        const subject = address === host ? '' : `${host} resolves to `;
        return {
          ok: false,
          status: 403,
          reason: `${subject}${check.reason}: the egress proxy connects only to public addresses`,
        };
      }
    }
    checked.push(address);
  }
  const address = checked.find((a) => net.isIPv4(a)) ?? checked[0];
  if (address === undefined) {
    return { ok: false, status: 502, reason: `cannot resolve ${host}: no addresses` };
  }
  return { ok: true, address };
}
