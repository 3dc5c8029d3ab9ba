import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkModelChoice } from './model-choices.js';
import { Store } from './store.js';

describe('ModelChoiceStore', () => {
  let store: Store;
  let groupId: number;
  beforeEach(() => {
    store = Store.open(':memory:');
    groupId = store.groups.create({ name: 'family', isAdmin: false }).id;
  });
  afterEach(() => store.close());

  it('keeps a group its own model until it is set back to the configured one', () => {
    expect(store.models.forGroup(groupId)).toBeUndefined();
    store.models.setForGroup(groupId, { provider: 'openai', model: 'llama3.2' });
    store.models.setForGroup(groupId, { provider: 'openai', model: 'qwen2.5' });
    expect(store.models.forGroup(groupId)).toEqual({ provider: 'openai', model: 'qwen2.5' });
    store.models.setForGroup(groupId, undefined);
    expect(store.models.forGroup(groupId)).toBeUndefined();
  });

  it("keeps a task's model apart from its group's, and drops it with the task", () => {
    const task = store.tasks.create({
      groupId,
      prompt: 'p',
      schedule: { kind: 'interval', everyMs: 3_600_000 },
      contextMode: 'isolated',
    });
    store.models.setForTask(task.id, { provider: 'anthropic', model: 'claude-haiku-5' });
    expect(store.models.forTask(task.id)).toEqual({
      provider: 'anthropic',
      model: 'claude-haiku-5',
    });
    expect(store.models.forGroup(groupId)).toBeUndefined();
    store.groups.remove(groupId);
    expect(store.models.forTask(task.id)).toBeUndefined();
  });

  it.each([
    [
      { provider: 'ollama', model: 'llama3.2' },
      /unknown provider "ollama": use one of anthropic, openai/,
    ],
    [{ provider: 'openai', model: '' }, /1 to 200 printable characters/],
    [{ provider: 'openai', model: 'two words' }, /without spaces/],
    [{ provider: 'openai', model: 'x\u001b[2J' }, /printable/],
  ])('refuses %j with a reason', (choice, reason) => {
    expect(checkModelChoice(choice)).toMatch(reason);
    expect(() => store.models.setForGroup(groupId, choice as never)).toThrow(reason);
  });
});
