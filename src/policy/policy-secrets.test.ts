import { describe, expect, it } from 'vitest';
import { parsePolicy } from './policy-file.js';
import { knownToolNames } from './rules.js';

const SECRET = 'ghp_Zq8xR2pLm9Wv4Ty7Kd3nB5';
const knownTools = knownToolNames(['send_message', 'schedule_task']);

/** Every 4-character piece of the secret: none may appear in an error message. */
const pieces = [...Array(SECRET.length - 3).keys()].map((i) => SECRET.slice(i, i + 4));

/**
 * The owner pastes a token into a policy file, or points `policy check` at the credentials
 * file. Policy errors reach `policy check`, the log, and (as the reason a call is denied)
 * the chat and the model: they say where the problem is without repeating the token.
 */
describe('policy errors never repeat a secret pasted into the file', () => {
  it.each([
    ['a token alone on a line', SECRET],
    ['a token as the tool', `deny ${SECRET}`],
    ['a token as an unknown tool', `deny ${SECRET.toLowerCase()}`],
    ['a token after the tool', `deny bash ${SECRET}`],
    ['a token as a matcher name', `deny bash ${SECRET}=x`],
    ['a token as the value of a tool with no such matcher', `deny send_message command=${SECRET}`],
    ['a token as a domain', `allow http domain="${SECRET}"`],
    ['a bearer header as a domain', `allow http domain="Bearer ${SECRET}"`],
    ['a token as a method', `allow http domain="a.com" method=${SECRET}`],
    ['a token as a port', `allow http domain="a.com" port=${SECRET}`],
    ['a token in a path with ..', `deny read_file path="../${SECRET}"`],
    ['a token in a path with a bad **', `deny read_file path="x**${SECRET}"`],
    ['a token with a quote inside', `deny bash command=${SECRET}"x"`],
    ['a token as a matcher name before a quoted value', `deny bash ${SECRET}="x"y`],
    ['a token in an unterminated quote', `deny bash command="${SECRET}`],
    ['a token before the matcher of a missing tool', `deny command="${SECRET}"`],
    ['a credentials file line', `    "secret": "Bearer ${SECRET}"`],
    ['a one-line credentials file', `[{"name":"gh","host":"api.github.com","secret":"${SECRET}"}]`],
  ])('%s', (_what, line) => {
    const parsed = parsePolicy(`deny bash command="sudo *"\n${line}\n`, 'p', { knownTools });
    expect(parsed.errors).toHaveLength(1);
    expect(parsed.errors[0]?.line).toBe(2);
    const message = parsed.errors[0]?.message ?? '';
    for (const piece of pieces) expect(message).not.toContain(piece);
  });

  it('still quotes a typo of a known word, to help fix it', () => {
    const parsed = parsePolicy('alow bassh\n', 'p', { knownTools });
    expect(parsed.errors[0]?.message).toMatch(/unknown effect "alow" \(did you mean "allow"\?\)/);
  });
});
