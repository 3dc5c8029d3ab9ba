import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempHome } from '../../test/support/temp-home.js';
import { egressSetupFor } from './grant-from-policy.js';

const SECRET = 'Bearer Zq8xR2pLm9Wv4Ty7Kd3';

/** Every 4-character piece of the secret: none may appear in what the owner or a log sees. */
const pieces = [...Array(SECRET.length - 3).keys()]
  .map((i) => SECRET.slice(i, i + 4))
  .filter((p) => p !== 'Bear' && p !== 'eare' && p !== 'arer');

describe('a malformed credentials file never shows its secrets', () => {
  let home: ReturnType<typeof tempHome>;
  const errorsFor = (credentials: string): string => {
    fs.mkdirSync(path.join(home.dir, 'policy', 'groups'), { recursive: true });
    fs.writeFileSync(
      path.join(home.dir, 'policy', 'groups', 'mail.policy'),
      'allow http domain="api.mail.example" method=GET path="/**"\n',
    );
    fs.mkdirSync(path.join(home.dir, 'credentials'), { recursive: true });
    fs.writeFileSync(path.join(home.dir, 'credentials', 'mail.json'), credentials);
    const r = egressSetupFor({
      policyDir: path.join(home.dir, 'policy'),
      configDir: home.dir,
      groupName: 'mail',
      hostTools: [],
      budget: { maxRequests: 10, maxBytes: 1000 },
    });
    if (r.ok) throw new Error('the malformed credentials file was accepted');
    return r.errors.map((e) => e.replace(`${home.dir}/credentials/mail.json: `, '')).join('\n');
  };

  beforeEach(() => {
    home = tempHome();
  });
  afterEach(() => home.cleanup());

  const entry = (fields: string) => `[{"name": "mail", "host": "api.mail.example", ${fields}}]`;

  it.each([
    [
      'a stray quote inside the secret',
      entry(`"secret": "${SECRET.slice(0, 12)}"${SECRET.slice(12)}"`),
      "not valid JSON at line 1, column 71: expected ',' or '}'",
    ],
    [
      'an unquoted secret',
      entry(`"secret": ${SECRET}`),
      'not valid JSON at line 1, column 57: expected a value (string, number, object, list, true, false or null)',
    ],
    [
      'a missing comma after the secret',
      `[\n  {\n    "name": "mail",\n    "secret": "${SECRET}"\n    "host": "x"\n  }\n]`,
      "not valid JSON at line 5, column 5: expected ',' or '}'",
    ],
    [
      'a secret cut short by the end of the file',
      entry(`"secret": "${SECRET}`).slice(0, -2),
      'not valid JSON at line 1, column 84: the text ends inside a string: close it with "',
    ],
    [
      'a single-quoted secret',
      entry(`"secret": '${SECRET}'`),
      'not valid JSON at line 1, column 57: expected a value (string, number, object, list, true, false or null)',
    ],
    [
      'the secret inside an object',
      entry(`"secret": {"value": "${SECRET}"}`),
      'entry 0: "secret" must be a non-empty string',
    ],
    [
      'the secret in the name field',
      `[{"name": "${SECRET}", "host": "api.mail.example", "secret": "x"}]`,
      'entry 0: "name" must be a name of letters, digits and _ that starts with a letter (at most 32)',
    ],
    [
      'a secret with a line break in it',
      entry(`"secret": "${SECRET.slice(0, 12)}\\r\\n${SECRET.slice(12)}"`),
      'invalid egress grant: credentials.0.secret: must be printable ASCII without line breaks',
    ],
    [
      'the secret as the whole file',
      `"${SECRET}"`,
      'must be a list of credentials, e.g. [{"name": "mail", "host": "api.mail.example", "header": "authorization", "secret": "..."}]',
    ],
    [
      'the secret as an entry',
      `["${SECRET}"]`,
      'entry 0 must be an object: a list of credentials, e.g. [{"name": "mail", "host": "api.mail.example", "header": "authorization", "secret": "..."}]',
    ],
  ])('says where the problem is for %s, quoting nothing of the file', (_what, text, expected) => {
    const errors = errorsFor(text);
    expect(errors).toBe(expected);
    for (const piece of pieces) expect(errors).not.toContain(piece);
  });
});
