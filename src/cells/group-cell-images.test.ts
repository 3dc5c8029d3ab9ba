import { describe, expect, it } from 'vitest';
import { parseGroupCellImages } from './group-cell-images.js';

const FILE = '/x/build/cell-groups.json';
const good = {
  groups: {
    research: {
      rootfs: '/x/build/cell-groups/research/rootfs',
      image: 'nanocell-cell:0123456789ab-research',
    },
  },
};

describe('parseGroupCellImages', () => {
  it('reads no file as no group with its own cell', () => {
    expect(parseGroupCellImages(undefined, FILE)).toEqual({ ok: true, groups: {} });
  });

  it("reads each group's rootfs and image", () => {
    expect(parseGroupCellImages(JSON.stringify(good), FILE)).toEqual({
      ok: true,
      groups: good.groups,
    });
  });

  it.each([
    ['not JSON', '{"groups":', 'not JSON'],
    [
      'a bad group name',
      JSON.stringify({ groups: { 'Bad Name': good.groups.research } }),
      'groups.Bad Name: Invalid key',
    ],
    [
      'a relative rootfs',
      JSON.stringify({ groups: { research: { ...good.groups.research, rootfs: 'build/x' } } }),
      'groups.research.rootfs: an absolute path',
    ],
    [
      'an image of another repository',
      JSON.stringify({
        groups: { research: { ...good.groups.research, image: 'evil/image:latest' } },
      }),
      'groups.research.image',
    ],
    [
      "another group's image",
      JSON.stringify({
        groups: {
          research: { ...good.groups.research, image: 'nanocell-cell:0123456789ab-other' },
        },
      }),
      "is not this group's",
    ],
  ])('refuses %s, saying to rebuild', (_name, text, problem) => {
    const r = parseGroupCellImages(text, FILE);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.problem).toContain(FILE);
      expect(r.problem).toContain(problem);
      expect(r.problem).toContain('scripts/build-cell-image.sh');
    }
  });
});
