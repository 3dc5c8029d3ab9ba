import { afterEach, describe, expect, it } from 'vitest';
import { ftsQuery } from './history-search.js';
import { Store } from './store.js';

const text = (role: 'user' | 'assistant', t: string) => ({
  role,
  content: [{ type: 'text' as const, text: t }],
});

describe('history search', () => {
  let store: Store;
  afterEach(() => store.db.close());

  it('finds words in the live history and in what was archived, only in the asking group', () => {
    store = Store.open(':memory:');
    const a = store.groups.create({
      name: 'a',
      isAdmin: false,
      requiresTrigger: false,
      trigger: null,
    });
    const b = store.groups.create({
      name: 'b',
      isAdmin: false,
      requiresTrigger: false,
      trigger: null,
    });
    store.history.append(a.id, [
      text('user', 'the plumber comes on Tuesday'),
      text('assistant', 'noted'),
    ]);
    const archived = store.history.entries(a.id).at(-1)!.id;
    store.history.deleteThrough(a.id, archived);
    store.history.append(a.id, [text('user', 'call the plumber back')]);
    store.history.append(b.id, [text('user', 'plumber secrets of group b')]);

    const hits = store.historySearch.search(a.id, 'plumber', 10);
    expect(hits.map((h) => h.where).sort()).toEqual(['archive', 'history']);
    expect(hits.every((h) => h.snippet.includes('[plumber]'))).toBe(true);
    expect(hits.some((h) => h.snippet.includes('group b'))).toBe(false);
  });

  it('turns any words into a query FTS5 accepts', () => {
    expect(ftsQuery('plumb* "NEAR( OR')).toBe('"plumb"* "NEAR" "OR"');
    expect(ftsQuery('  ()" ')).toBeUndefined();
  });
});
