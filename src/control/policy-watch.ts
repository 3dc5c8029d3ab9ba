import fs from 'node:fs';
import type { Logger } from 'pino';
import type { PolicyChangeAudit } from '../policy/policy-change-audit.js';
import type { HostEventSink } from './host-events.js';

/**
 * While the host runs, a change to the owner's policy files is audited when it happens (not
 * only when the next tool call reads them): the policy dir is watched, and every change is
 * fingerprinted once. Files changed while the host was down are audited at its start.
 * Returns the function that stops watching.
 */
export function watchPolicyDir(
  policyDir: string,
  policyAudit: PolicyChangeAudit,
  events: HostEventSink,
  log: Logger,
): () => void {
  fs.mkdirSync(policyDir, { recursive: true, mode: 0o700 });
  policyAudit.scan();
  const watcher = fs.watch(policyDir, { recursive: true }, () => {
    for (const file of policyAudit.scan()) events({ type: 'policy_changed', file });
  });
  watcher.on('error', (err) => log.warn({ err, policyDir }, 'policy dir watch failed'));
  return () => watcher.close();
}
