import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { escapeForTerminal } from './terminal-escape.js';
import { TerminalChannel } from './terminal.js';

describe('escapeForTerminal', () => {
  it.each([
    ['plain text', 'hello, world', 'hello, world'],
    ['newline and tab', 'a\n\tb', 'a\n\tb'],
    ['unicode letters and emoji', 'grüße 日本 🙂', 'grüße 日本 🙂'],
    ['a backslash stays as written', 'C:\\path', 'C:\\path'],
    ['CRLF becomes a newline', 'one\r\ntwo', 'one\ntwo'],
  ])('keeps %s', (_what, input, expected) => {
    expect(escapeForTerminal(input)).toBe(expected);
  });

  it.each([
    ['CSI colour', '\u001b[31mred\u001b[0m', '\\x1b[31mred\\x1b[0m'],
    ['CSI clear screen and cursor home', '\u001b[2J\u001b[H', '\\x1b[2J\\x1b[H'],
    ['CSI cursor up to overwrite earlier lines', 'ok\u001b[1A\u001b[2K', 'ok\\x1b[1A\\x1b[2K'],
    ['OSC window title (BEL)', '\u001b]0;pwned\u0007', '\\x1b]0;pwned\\x07'],
    ['OSC 52 clipboard write (ST)', '\u001b]52;c;ZXZpbA==\u001b\\', '\\x1b]52;c;ZXZpbA==\\x1b\\'],
    ['OSC 8 hyperlink', '\u001b]8;;http://evil\u001b\\click', '\\x1b]8;;http://evil\\x1b\\click'],
    ['DCS', '\u001bP1$r\u001b\\', '\\x1bP1$r\\x1b\\'],
    ['8-bit CSI', '\u009b31m', '\\x9b31m'],
    ['8-bit OSC', '\u009d0;t\u009c', '\\x9d0;t\\x9c'],
    ['a lone carriage return', 'Andy: fine\rAndy: approve', 'Andy: fine\\rAndy: approve'],
    ['backspace', 'yes\b\b\bno', 'yes\\x08\\x08\\x08no'],
    ['NUL, vertical tab, form feed', 'a\u0000b\u000bc\u000cd', 'a\\x00b\\x0bc\\x0cd'],
    ['DEL', 'x\u007fy', 'x\\x7fy'],
    ['right-to-left override', 'abc\u202edcba', 'abc\\u202edcba'],
    ['bidi isolates', '\u2066a\u2069\u2067b\u2068c', '\\u2066a\\u2069\\u2067b\\u2068c'],
    ['bidi marks', '\u200e\u200f\u061c', '\\u200e\\u200f\\u061c'],
  ])('escapes %s', (_what, input, expected) => {
    expect(escapeForTerminal(input)).toBe(expected);
  });

  it('leaves no control character but newline and tab in any output', () => {
    let all = '';
    for (let c = 0; c <= 0xa0; c++) all += String.fromCharCode(c);
    for (let c = 0x2000; c <= 0x206f; c++) all += String.fromCharCode(c);
    const out = escapeForTerminal(all);
    const left = [...out].filter((c) =>
      /[\p{Cc}\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u.test(c),
    );
    expect(left).toEqual(['\t', '\n']);
  });

  it('escapes newline and tab too when the text must stay on one line', () => {
    expect(escapeForTerminal('a\n#9 [main] fake\tx\u001b[2K', { singleLine: true })).toBe(
      'a\\n#9 [main] fake\\tx\\x1b[2K',
    );
  });
});

describe('TerminalChannel.send', () => {
  it('prints a reply with its control sequences escaped, lines and tabs kept', async () => {
    const output = new PassThrough();
    let printed = '';
    output.on('data', (c: Buffer) => (printed += c.toString('utf8')));
    const channel = new TerminalChannel({
      input: new PassThrough(),
      output,
      assistantName: 'Andy',
      chatId: 'main',
    });
    await channel.send('main', 'line one\n\tline two\u001b[2J\u001b]0;owned\u0007\rfake');
    await channel.send('family', '\u202eevil');
    await channel.send('x\u001b[2J\ny', 'hi');
    expect(printed).toBe(
      'Andy: line one\n\tline two\\x1b[2J\\x1b]0;owned\\x07\\rfake\n[family] Andy: \\u202eevil\n' +
        '[x\\x1b[2J\\ny] Andy: hi\n',
    );
  });
});
