import { parsePolicy, type ParsedPolicy } from '../policy/policy-file.js';
import { knownToolNames } from '../policy/rules.js';
import { HOST_TOOL_NAMES } from '../tools/host-tools.js';

/** The first policies `nanocell setup` offers, written to `NANOCELL_CONFIG_DIR/policy/default.policy`. */
export const POLICY_TEMPLATES = ['ask-network', 'read-only', 'none'] as const;
export type PolicyTemplate = (typeof POLICY_TEMPLATES)[number];

export interface PolicyTemplateInfo {
  label: string;
  hint: string;
  text: string;
}

const HEADER = (name: string) =>
  `# default.policy: rules for every group, written by \`nanocell setup\` (template: ${name}).\n` +
  '# One rule a line: allow|deny|ask TOOL key="glob" ...; deny wins, then ask, then allow.\n' +
  '# With no rule: cell tools run within the cell grant, host tools by group role, and the\n' +
  '# network is denied. Check an edit with: ./nanocell policy check FILE\n';

export const POLICY_TEMPLATE_INFO: Record<PolicyTemplate, PolicyTemplateInfo> = {
  'ask-network': {
    label: 'ask before network writes',
    hint: 'the web is readable (GET, HEAD); every write to the network needs your allow rule',
    text:
      HEADER('ask before network writes') +
      '\n' +
      '# Reads from public addresses, brokered by the egress proxy (method and path checked).\n' +
      'allow http domain="*" method=GET,HEAD\n' +
      '\n' +
      '# Writes (POST, PUT, PATCH, DELETE) match no rule, so the proxy refuses them and the\n' +
      '# assistant says so in the chat. The proxy cannot hold a request open for an approval:\n' +
      '# allow what you agree to, one host at a time, e.g.\n' +
      '#   allow http domain="api.github.com" method=POST path="/repos/me/notes/issues"\n',
  },
  'read-only': {
    label: 'read-only files',
    hint: 'file tools may read but not write or edit; each shell command asks you first',
    text:
      HEADER('read-only files') +
      '\n' +
      'deny write_file\n' +
      'deny edit_file\n' +
      '# A shell command could write as well: each one waits for your yes CODE in the chat.\n' +
      'ask  bash\n',
  },
  none: {
    label: 'none',
    hint: 'no rules yet: the defaults above apply (no network at all)',
    text: HEADER('none') + '\n# No rules yet. Examples:\n#   deny bash command="rm *"\n',
  },
};

/** A template parsed by the same parser `policy check` and the gate use (with every tool name known). */
export function checkPolicyTemplate(template: PolicyTemplate): ParsedPolicy {
  return parsePolicy(POLICY_TEMPLATE_INFO[template].text, 'default.policy', {
    knownTools: knownToolNames(HOST_TOOL_NAMES),
  });
}
