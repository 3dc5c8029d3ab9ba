import type { z } from 'zod';
import { locateJsonSyntaxError } from '../cells/json-syntax-error.js';

/**
 * Error messages about the credentials file that never repeat any of its text: the file holds
 * secrets, and these messages reach the log, `doctor` and the chat. JSON.parse's own message
 * quotes the input around the error, and a zod message may carry the received value, so
 * neither is used; a message says where (line and column, or entry and field) and what is
 * expected there.
 */

/** `not valid JSON at line L, column C: what was expected`; undefined if the scanner finds none. */
export function jsonProblem(text: string): string | undefined {
  const found = locateJsonSyntaxError(text);
  if (!found) return undefined;
  // The scanner names the character it found ("... but found 'x'"): that may be a secret's.
  const expected = found.problem.replace(/ but found .*$/s, '');
  return `not valid JSON at line ${found.line}, column ${found.column}: ${expected}`;
}

const FIELDS: Record<string, string> = {
  name: 'a name of letters, digits and _ that starts with a letter (at most 32)',
  host: 'the host name the secret is for, e.g. "api.mail.example"',
  header: 'a header name, e.g. "authorization"',
  secret: 'a non-empty string',
};

const SHAPE =
  'a list of credentials, e.g. [{"name": "mail", "host": "api.mail.example", "header": "authorization", "secret": "..."}]';

/** One line per problem, from the issue's place only (never its message or input). */
export function schemaProblems(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => {
    const [index, field] = issue.path;
    if (typeof index !== 'number') return `must be ${SHAPE}`;
    if (typeof field !== 'string') return `entry ${index} must be an object: ${SHAPE}`;
    const rule = FIELDS[field];
    return rule === undefined
      ? `entry ${index}: "${field}" is not valid`
      : `entry ${index}: "${field}" must be ${rule}`;
  });
}
