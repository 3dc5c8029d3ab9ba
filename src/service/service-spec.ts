/** What the host's service runs, whatever the service manager: one long-lived `nanocell start`. */
export interface ServiceSpec {
  /** The unit's / agent's short name, e.g. `nanocell`. */
  name: string;
  description: string;
  /** The command and its arguments, absolute paths. */
  command: string[];
  workingDirectory: string;
  environment: Record<string, string>;
  /** Where launchd writes stdout and stderr (systemd uses the journal). */
  logFile: string;
}

/** A service name as systemd and launchd both accept it, and short enough to type. */
export const SERVICE_NAME = /^[a-z][a-z0-9-]{0,39}$/;
