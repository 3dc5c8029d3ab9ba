import { describeSources, type ProvenanceLabel } from './provenance.js';
import { hasPrivateAccess, isSink } from './sinks.js';

/** A request as the egress proxy sees it, before it goes out. */
export interface GuardedRequest {
  /** `connect`: a TLS tunnel, whose method and content the proxy cannot see. */
  kind: 'http' | 'connect';
  method: string;
  host: string;
  /** The proxy would add a credential to it. */
  credentialed: boolean;
  /** The group's grant holds credentials at all. */
  grantHasCredentials: boolean;
}

/**
 * The guard at the egress proxy: a run that read untrusted content may not send data out
 * where the owner would not see it. A readable request is a sink when it writes (not GET or
 * HEAD) or carries a credential; a tunnel, whose content is hidden, when the run can reach
 * private data (the Rule of Two: credentials, extra mounts, the admin group). The proxy cannot
 * wait for an approval, so a held request is refused with the reason. Returns the reason, or
 * undefined to let the request through to the rules.
 */
export function egressGuard(
  label: () => ProvenanceLabel,
  access: { admin: boolean; extraMounts: boolean },
): (request: GuardedRequest) => string | undefined {
  return (request) => {
    const current = label();
    if (!current.untrusted) return undefined;
    const held =
      request.kind === 'http'
        ? isSink({ tool: 'http', method: request.method, credentialed: request.credentialed })
        : hasPrivateAccess({
            egressCredentials: request.grantHasCredentials,
            extraMounts: access.extraMounts,
            admin: access.admin,
          });
    if (!held) return undefined;
    const what =
      request.kind === 'http'
        ? `a ${request.method.toUpperCase()}${request.credentialed ? ' with a credential' : ''} to ${request.host}`
        : `a tunnel to ${request.host} (its content cannot be checked) from a run that can reach private data`;
    return `held by the guard: this run read ${describeSources(current)}, and ${what} could carry data out unseen; the owner can run it from a fresh conversation (/clear) or do it themselves`;
  };
}
