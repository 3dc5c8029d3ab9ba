/**
 * Credentials the cell never sees. The cell holds a placeholder; the proxy swaps it for the
 * secret only in requests to the one host the secret is bound to, and refuses a request that
 * carries a placeholder anywhere else.
 *
 * A placeholder is worthless off its host, so the refusal is a tripwire that puts a
 * misbehaving agent in the audit log, not what keeps the secret safe: a hostile agent can
 * always re-encode a placeholder it sends. What keeps the secret safe is that only the proxy
 * holds it, puts it only into requests to its host, and scrubs it from the answers.
 * CONNECT tunnels are encrypted end to end, so nothing inside them is swapped or checked.
 */
import crypto from 'node:crypto';
import type { EgressCredential } from './egress-grant.js';
import type { Needle } from './needle-filter.js';

/** Header name/value pairs in order, as in IncomingMessage.rawHeaders but paired. */
export type HeaderPairs = Array<[name: string, value: string]>;

export type HeadInspection =
  | { ok: true; target: string; headers: HeaderPairs; injected: EgressCredential[] }
  | { ok: false; reason: string };

/** `nanocell-cred-<name>-<32 hex>`; the name is only a hint for people reading logs. */
export function makePlaceholder(
  name: string,
  random: (size: number) => Buffer = crypto.randomBytes,
): string {
  const hint =
    name
      .toLowerCase()
      .replace(/[^a-z0-9_]+/g, '_')
      .slice(0, 40) || 'secret';
  return `nanocell-cred-${hint}-${random(16).toString('hex')}`;
}

export class CredentialBroker {
  constructor(private readonly credentials: readonly EgressCredential[]) {}

  /**
   * Checks a request head bound for `host` and swaps placeholders for secrets. `target` is
   * the path and query; `host` is checked too, so a placeholder is never put into DNS.
   */
  inspectHead(host: string, target: string, headers: HeaderPairs): HeadInspection {
    const injected: EgressCredential[] = [];
    let outTarget = target;
    let outHeaders = headers;
    for (const c of this.credentials) {
      const p = c.placeholder;
      const inTarget = target.includes(p);
      // Host names reach us lower-cased by the URL parser.
      const inHost = host.includes(p.toLowerCase());
      const inNames = headers.some(([name]) => name.includes(p));
      const inValues = headers.filter(([, value]) => value.includes(p));
      if (!inTarget && !inHost && !inNames && inValues.length === 0) continue;
      if (c.host !== host) {
        return { ok: false, reason: refusedElsewhere(c, host) };
      }
      if (inHost || inNames) {
        return { ok: false, reason: `credential ${p} may only be sent in header values` };
      }
      if (c.header) {
        const misplaced = inTarget || inValues.some(([name]) => name.toLowerCase() !== c.header);
        if (misplaced) {
          return {
            ok: false,
            reason: `credential ${p} may only be sent in the ${c.header} header`,
          };
        }
      }
      if (inTarget) outTarget = outTarget.split(p).join(encodeURIComponent(c.secret));
      outHeaders = outHeaders.map(([name, value]) => [name, value.split(p).join(c.secret)]);
      injected.push(c);
    }
    return { ok: true, target: outTarget, headers: outHeaders, injected };
  }

  /** Why `body` may not go to `host`, or null when it carries no placeholder bound elsewhere. */
  inspectBody(host: string, body: Buffer): string | null {
    const found = this.credentials.find(
      (c) => c.host !== host && body.includes(Buffer.from(c.placeholder)),
    );
    return found ? refusedElsewhere(found, host) : null;
  }

  /** Placeholders that must not appear in a body streamed to `host`. */
  forbiddenNeedles(host: string): Needle[] {
    return this.credentials
      .filter((c) => c.host !== host)
      .map((c) => ({
        find: Buffer.from(c.placeholder),
        replaceWith: null,
        reason: refusedElsewhere(c, host),
      }));
  }

  /** Turns injected secrets back into placeholders in what the upstream answers. */
  scrubNeedles(injected: readonly EgressCredential[]): Needle[] {
    // The URL-encoded form too: a secret swapped into a query string may be echoed back so.
    return injected.flatMap((c) =>
      [...new Set([c.secret, encodeURIComponent(c.secret)])].map((form) => ({
        find: Buffer.from(form),
        replaceWith: Buffer.from(c.placeholder),
      })),
    );
  }
}

/** Replaces every injected secret in a header value or status text by its placeholder. */
export function scrubText(text: string, injected: readonly EgressCredential[]): string {
  return injected.reduce(
    (t, c) =>
      t.split(c.secret).join(c.placeholder).split(encodeURIComponent(c.secret)).join(c.placeholder),
    text,
  );
}

function refusedElsewhere(c: EgressCredential, host: string): string {
  return `request to ${host} carries credential placeholder ${c.placeholder}, which is only ever sent to ${c.host}`;
}
