import type { ProvenanceLabel } from './provenance.js';

/** An action that could carry data out or plant standing instructions. */
export interface SinkCall {
  tool: string;
  /** For `http`: the request method and whether the proxy would add credentials. */
  method?: string;
  credentialed?: boolean;
  /** For send_message / send_file: the target chat, and the chat the run answers. */
  targetChat?: string;
  runChat?: string;
  /** For file writes: whether the path lies in an extra mount. */
  inExtraMount?: boolean;
}

const ALWAYS_SINKS = new Set(['schedule_task', 'register_group']);
const SEND_TOOLS = new Set(['send_message', 'send_file']);
const WRITE_TOOLS = new Set(['write_file', 'edit_file']);

/** Is this call a sink? `ownerSinks` are tools the owner's policy marks `sink TOOL`. */
export function isSink(call: SinkCall, ownerSinks: ReadonlySet<string> = new Set()): boolean {
  if (ownerSinks.has(call.tool) || ALWAYS_SINKS.has(call.tool)) return true;
  if (call.tool === 'http') {
    const method = (call.method ?? 'GET').toUpperCase();
    return call.credentialed === true || (method !== 'GET' && method !== 'HEAD');
  }
  if (SEND_TOOLS.has(call.tool)) {
    return call.targetChat !== undefined && call.targetChat !== call.runChat;
  }
  if (WRITE_TOOLS.has(call.tool)) return call.inExtraMount === true;
  return false;
}

/** What the run can reach that an attacker would want. */
export interface PrivateAccess {
  egressCredentials: boolean;
  extraMounts: boolean;
  admin: boolean;
}

export const hasPrivateAccess = (a: PrivateAccess): boolean =>
  a.egressCredentials || a.extraMounts || a.admin;

/**
 * The no-policy default (Rule of Two): a run that read untrusted content AND can reach
 * private data asks the owner before any sink. Returns 'ask' or undefined (no opinion).
 */
export function ruleOfTwo(
  label: ProvenanceLabel,
  access: PrivateAccess,
  call: SinkCall,
  ownerSinks?: ReadonlySet<string>,
): 'ask' | undefined {
  if (!label.untrusted || !hasPrivateAccess(access)) return undefined;
  return isSink(call, ownerSinks) ? 'ask' : undefined;
}
