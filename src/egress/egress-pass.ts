/**
 * The proxy's side of an egress pass (EgressRunHandle.pass): a request the host makes for a
 * run, whose content the host chose or the policy gate let through, carries a one-use token
 * the data-flow guard honours. The token never goes upstream, and a wrong one is a refusal, not
 * a request without one: a cell that sends a pass is trying to slip past the guard.
 */
import { EGRESS_PASS_HEADER, type EgressPassScope, type EgressRunAccount } from './egress-run.js';

/** The pass a request carries (its first, if it sent several); undefined when none. */
export function passToken(rawHeaders: readonly string[]): string | undefined {
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.toLowerCase() === EGRESS_PASS_HEADER) return rawHeaders[i + 1]!.trim();
  }
  return undefined;
}

export type PassCheck =
  { ok: true; scope: EgressPassScope | undefined } | { ok: false; reason: string };

/** No token: no pass. A token this run issued for this request: its scope. Anything else: refused. */
export function checkPass(
  run: EgressRunAccount,
  token: string | undefined,
  seen: { method: string; host: string; path?: string },
): PassCheck {
  if (token === undefined) return { ok: true, scope: undefined };
  const scope = run.redeemPass(token, seen);
  return scope
    ? { ok: true, scope }
    : {
        ok: false,
        reason: `the request carries an ${EGRESS_PASS_HEADER} header that this run was not given for it (or has used already); only the host issues passes, one per request`,
      };
}

/** The audit reason of an allowed request, naming the pass when one let it past the guard. */
export function allowedReason(label: string, scope: EgressPassScope | undefined): string {
  return scope
    ? `allowed by policy rule ${label} (the host's request for ${scope.purpose}, not held by the guard)`
    : `allowed by policy rule ${label}`;
}
