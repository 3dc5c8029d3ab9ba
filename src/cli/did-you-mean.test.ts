import { describe, expect, it } from 'vitest';
import { didYouMean, editDistance } from './did-you-mean.js';

const COMMANDS = ['start', 'chat', 'ask', 'groups', 'tasks', 'status', 'doctor', 'audit', 'policy'];

describe('didYouMean', () => {
  it.each([
    ['statsu', 'status'],
    ['strat', 'start'],
    ['gropus', 'groups'],
    ['taks', 'tasks'],
    ['docter', 'doctor'],
    ['pol', 'policy'],
    ['CHAT', 'chat'],
  ])('suggests %s → %s', (typed, meant) => {
    expect(didYouMean(typed, COMMANDS)).toBe(meant);
  });

  it('suggests nothing for a word that is not close to any command', () => {
    expect(didYouMean('deploy', COMMANDS)).toBeUndefined();
    expect(didYouMean('x', COMMANDS)).toBeUndefined();
  });

  it('counts a swap of neighbours as one edit', () => {
    expect(editDistance('chat', 'caht')).toBe(1);
    expect(editDistance('', 'ask')).toBe(3);
  });
});
