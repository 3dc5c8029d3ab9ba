import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OFFSET_FILE, OffsetFile } from './telegram-offset.js';

describe('OffsetFile', () => {
  let home: string;
  beforeEach(() => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'nanocell-offset-'));
  });
  afterEach(() => fs.rmSync(home, { recursive: true, force: true }));

  it('has nothing before the first write, then what was written, privately', () => {
    const offsets = new OffsetFile(home);
    expect(offsets.read(7)).toEqual({ ok: true, next: undefined });

    offsets.write(7, 5001);

    expect(new OffsetFile(home).read(7)).toEqual({ ok: true, next: 5001 });
    expect(fs.statSync(path.join(home, OFFSET_FILE)).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(home)).toEqual([OFFSET_FILE]);
  });

  it('does not use an offset saved for another bot (a new token)', () => {
    new OffsetFile(home).write(7, 5001);

    expect(new OffsetFile(home).read(8)).toEqual({ ok: true, next: undefined });
  });

  it('says a damaged file is not an offset instead of guessing one', () => {
    fs.writeFileSync(path.join(home, OFFSET_FILE), '{"botId":7,"nextUpdateId":-3}');

    expect(new OffsetFile(home).read(7)).toEqual({
      ok: false,
      reason: expect.stringMatching(/is not a saved offset/),
    });
  });
});
