import { describe, expect, it } from 'vitest';
import { isTriggered, mentionsTrigger, triggerOf } from './trigger.js';

describe('mentionsTrigger', () => {
  it.each([
    ['@Andy what time is it?', true],
    ['hey @andy, help', true],
    ['HEY @ANDY', true],
    ['(@Andy)', true],
    ['@Andy', true],
    ['@Andyman is here', false],
    ['mail me at x@Andy', false],
    ['Andy without the at', false],
    ['@@Andy', false],
    ['', false],
  ])('"%s" → %s', (text, expected) => {
    expect(mentionsTrigger(text, '@Andy')).toBe(expected);
  });

  it('escapes regular-expression characters in a custom trigger', () => {
    expect(mentionsTrigger('hey bot+ go', 'bot+')).toBe(true);
    expect(mentionsTrigger('hey bottt go', 'bot+')).toBe(false);
  });
});

describe('isTriggered', () => {
  const shared = { isAdmin: false, requiresTrigger: true, trigger: null };
  it('needs no trigger in the admin group or a direct chat', () => {
    expect(isTriggered({ ...shared, isAdmin: true }, 'hello', 'Andy')).toBe(true);
    expect(isTriggered({ ...shared, requiresTrigger: false }, 'hello', 'Andy')).toBe(true);
  });
  it('needs the default trigger in a shared chat', () => {
    expect(isTriggered(shared, 'hello all', 'Andy')).toBe(false);
    expect(isTriggered(shared, '@andy hello', 'Andy')).toBe(true);
  });
  it('uses the group trigger when set', () => {
    const g = { ...shared, trigger: '@Bob' };
    expect(triggerOf(g, 'Andy')).toBe('@Bob');
    expect(isTriggered(g, '@Andy hi', 'Andy')).toBe(false);
    expect(isTriggered(g, '@bob hi', 'Andy')).toBe(true);
  });
});
