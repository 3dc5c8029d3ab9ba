import type { ServiceSpec } from './service-spec.js';

/** The launchd label for a service name, e.g. `dev.nanocell.nanocell`. */
export function launchdLabel(name: string): string {
  return `dev.nanocell.${name}`;
}

/**
 * A launchd agent (macOS) for the host: started at login, restarted when it exits with a
 * failure, stdout and stderr appended to `spec.logFile`.
 */
export function launchdPlist(spec: ServiceSpec): string {
  const strings = (items: string[]) =>
    items.map((s) => `    <string>${xml(s)}</string>\n`).join('');
  const env = Object.entries(spec.environment)
    .map(([k, v]) => `    <key>${xml(k)}</key>\n    <string>${xml(v)}</string>\n`)
    .join('');
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n` +
    `<plist version="1.0">\n<dict>\n` +
    `  <key>Label</key>\n  <string>${xml(launchdLabel(spec.name))}</string>\n` +
    `  <key>ProgramArguments</key>\n  <array>\n${strings(spec.command)}  </array>\n` +
    `  <key>WorkingDirectory</key>\n  <string>${xml(spec.workingDirectory)}</string>\n` +
    `  <key>EnvironmentVariables</key>\n  <dict>\n${env}  </dict>\n` +
    `  <key>RunAtLoad</key>\n  <true/>\n` +
    `  <key>KeepAlive</key>\n  <dict>\n    <key>SuccessfulExit</key>\n    <false/>\n  </dict>\n` +
    `  <key>ThrottleInterval</key>\n  <integer>5</integer>\n` +
    `  <key>StandardOutPath</key>\n  <string>${xml(spec.logFile)}</string>\n` +
    `  <key>StandardErrorPath</key>\n  <string>${xml(spec.logFile)}</string>\n` +
    `</dict>\n</plist>\n`
  );
}

function xml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}
