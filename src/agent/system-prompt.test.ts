import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ensureGlobalFolder,
  globalFolderPath,
  readOwnerProfile,
  USER_FILE,
} from '../groups/group-folder.js';
import { buildSystemPrompt, buildTurnContext } from './system-prompt.js';

describe('the time', () => {
  it('is in the turn context, not the system prompt, which stays the same from turn to turn', () => {
    const input = { assistantName: 'Andy', groupName: 'g', isAdmin: false, memory: { text: '' } };
    expect(buildSystemPrompt(input)).not.toMatch(/\d\d:\d\d/);
    expect(
      buildTurnContext({ timezone: 'Europe/London', now: new Date('2026-07-01T10:05:00Z') }),
    ).toBe(
      '<context>The current time is Wednesday, 1 July 2026 at 11:05:00 BST (timezone Europe/London).</context>',
    );
  });
});

describe("the owner's USER.md", () => {
  const homes: string[] = [];
  afterEach(() => {
    for (const h of homes.splice(0)) fs.rmSync(h, { recursive: true, force: true });
  });
  const home = () => {
    const h = fs.mkdtempSync(path.join(os.tmpdir(), 'nanocell-user-md-'));
    homes.push(h);
    ensureGlobalFolder(h);
    return h;
  };
  const prompt = (ownerProfile: { text: string }) =>
    buildSystemPrompt({
      assistantName: 'Andy',
      groupName: 'family',
      isAdmin: false,
      memory: { text: '' },
      ownerProfile,
    });

  it('is read from the global folder into every prompt, marked as written by the owner', () => {
    const h = home();
    fs.writeFileSync(path.join(globalFolderPath(h), USER_FILE), 'I am Sam; I live in Leeds.\n');
    const text = prompt(readOwnerProfile(h));
    expect(text).toContain(
      '<about-the-owner file="/workspace/global/USER.md" written-by="the owner">',
    );
    expect(text).toContain('I am Sam; I live in Leeds.');
  });

  it('is left out when absent or empty, and never followed through a link', () => {
    const h = home();
    expect(readOwnerProfile(h).text).toBe('');
    expect(prompt(readOwnerProfile(h))).not.toContain('about-the-owner');
    const secret = path.join(h, 'secret.txt');
    fs.writeFileSync(secret, 'host secret');
    fs.symlinkSync(secret, path.join(globalFolderPath(h), USER_FILE));
    expect(readOwnerProfile(h).text).toBe('');
  });
});
