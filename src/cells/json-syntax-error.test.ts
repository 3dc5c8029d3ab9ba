import { describe, expect, it } from 'vitest';
import { locateJsonSyntaxError } from './json-syntax-error.js';

describe('locateJsonSyntaxError', () => {
  it.each([
    '{}',
    '[]',
    ' { "a": [1, -2.5e3, true, false, null, "x\\n\\u00e9\\"\\\\"], "b": {} } ',
    '"just a string"',
    '0',
  ])('finds nothing wrong in valid JSON %s', (text) => {
    expect(() => JSON.parse(text)).not.toThrow();
    expect(locateJsonSyntaxError(text)).toBeUndefined();
  });

  it.each([
    { text: '', line: 1, column: 1, problem: /ends where a value was expected/ },
    { text: '{\n  "a": 1,\n}', line: 3, column: 1, problem: /trailing ','/ },
    { text: '[1, 2,]', line: 1, column: 7, problem: /trailing ','/ },
    { text: '{"a" 1}', line: 1, column: 6, problem: /expected ':'/ },
    { text: '{"a": 1 "b": 2}', line: 1, column: 9, problem: /expected ',' or '}'/ },
    { text: '[1 2]', line: 1, column: 4, problem: /expected ',' or ']'/ },
    { text: "{'a': 1}", line: 1, column: 2, problem: /double quotes/ },
    { text: '{"a": tru}', line: 1, column: 7, problem: /expected a value/ },
    { text: '{"a": 01}', line: 1, column: 8, problem: /expected ',' or '}'/ },
    { text: '{"a": -}', line: 1, column: 7, problem: /malformed number/ },
    { text: '{"a": "x\ny"}', line: 1, column: 9, problem: /raw line break/ },
    { text: '{"a": "\\q"}', line: 1, column: 8, problem: /invalid escape/ },
    { text: '{"a": "\\u12"}', line: 1, column: 8, problem: /four hex digits/ },
    { text: '{"a": "open', line: 1, column: 12, problem: /ends inside a string/ },
    { text: '{} {}', line: 1, column: 4, problem: /after the end/ },
    { text: '{\n  // note\n}', line: 2, column: 3, problem: /no comments/ },
    { text: '['.repeat(600), line: 1, column: 514, problem: /nested deeper than 512/ },
  ])('places the error in $text at $line:$column', ({ text, line, column, problem }) => {
    expect(() => JSON.parse(text)).toThrow();
    const at = locateJsonSyntaxError(text);
    expect(at).toMatchObject({ line, column });
    expect(at?.problem).toMatch(problem);
  });
});
