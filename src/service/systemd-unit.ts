import type { ServiceSpec } from './service-spec.js';

export type SystemdScope = 'system' | 'user';

/**
 * A systemd unit for the host: restarted on failure, logs to the journal, and `Delegate=yes`
 * so the host may create cgroups for its cells (bwrap's memory, CPU and process limits).
 */
export function systemdUnit(spec: ServiceSpec, scope: SystemdScope): string {
  const env = Object.entries(spec.environment)
    .map(([key, value]) => `Environment=${quote(`${key}=${value}`)}\n`)
    .join('');
  const after =
    scope === 'system' ? 'network-online.target docker.service' : 'network-online.target';
  return (
    `# Written by \`nanocell service install\`; \`nanocell service uninstall\` removes it.\n` +
    `[Unit]\n` +
    `Description=${escapeSpecifiers(spec.description)}\n` +
    `After=${after}\n` +
    `Wants=network-online.target\n` +
    `\n` +
    `[Service]\n` +
    `Type=simple\n` +
    `ExecStart=${spec.command.map(quote).join(' ')}\n` +
    `WorkingDirectory=${escapeSpecifiers(oneLine(spec.workingDirectory))}\n` +
    env +
    `Restart=on-failure\n` +
    `RestartSec=5\n` +
    // SIGTERM to the host, which stops its cells; whatever is left is killed after the timeout.
    `KillMode=mixed\n` +
    `TimeoutStopSec=30\n` +
    `Delegate=yes\n` +
    `\n` +
    `[Install]\n` +
    `WantedBy=${scope === 'system' ? 'multi-user.target' : 'default.target'}\n`
  );
}

function oneLine(text: string): string {
  if (/[\n\r]/.test(text)) {
    throw new Error(`a service setting may not contain a line break: ${JSON.stringify(text)}`);
  }
  return text;
}

/** One word for systemd: double-quoted, with `\`, `"` and `%` (a specifier) escaped. */
function quote(word: string): string {
  if (/[\n\r]/.test(word))
    throw new Error(`a service setting may not contain a line break: ${JSON.stringify(word)}`);
  return `"${escapeSpecifiers(word.replace(/\\/g, '\\\\').replace(/"/g, '\\"'))}"`;
}

function escapeSpecifiers(text: string): string {
  return text.replace(/%/g, '%%');
}
