import { parseArgs } from 'node:util';
import type { Base } from '../app.js';
import { escapeForTerminal } from '../channels/terminal-escape.js';
import { readPriceFile } from '../usage/price-file.js';
import { parseSince } from '../usage/since.js';
import { formatUsageTable, usageRows } from '../usage/usage-report.js';
import { usageError, type CliCommand, type TextOut } from './command.js';

const USAGE = `usage: nanocell usage [--group NAME] [--since 7d|24h|30d|YYYY-MM-DD] [--by group|model|day]
  Tokens of every model request (input, output, cache read and write), the cache hit rate and a
  cost estimate. Prices: the defaults, overridden by CONFIG_DIR/prices.json, e.g.
  {"claude-sonnet-4": {"input": 3, "output": 15, "cacheRead": 0.3, "cacheWrite": 3.75}}
  (USD per million tokens; "*" is the price of a model not listed). Default: --since 7d --by group.
`;

const BY = ['group', 'model', 'day'] as const;
type By = (typeof BY)[number];

export function usageCommand(
  base: Base,
  args: { group?: string; since?: string; by?: string },
  out: TextOut,
  err: TextOut,
  now: Date = new Date(),
): number {
  const { store, config } = base;
  const since = parseSince(args.since ?? '7d', now);
  if (!since.ok) return usageError(err, USAGE, since.problem);
  const by = (args.by ?? 'group') as By;
  if (!BY.includes(by)) {
    return usageError(err, USAGE, `--by "${args.by}": use one of ${BY.join(', ')}`);
  }
  let groupId: number | undefined;
  if (args.group !== undefined) {
    const group = store.groups.byName(args.group);
    if (!group) {
      const names = store.groups.list().map((g) => g.name);
      err.write(
        `nanocell: no group named "${args.group}" (groups: ${names.join(', ')}); nanocell groups list shows them\n`,
      );
      return 1;
    }
    groupId = group.id;
  }
  const prices = readPriceFile(config.configDir);
  if (prices.problem) {
    err.write(`nanocell: ${prices.problem}. Costs are left out until it is fixed.\n`);
  }
  const groupName = (key: string) => store.groups.byId(Number(key))?.name ?? `#${key} (removed)`;
  // Group and model names may come from the model (register_group): one line, escaped.
  const label = (key: string) =>
    escapeForTerminal(by === 'group' ? groupName(key) : key, { singleLine: true });
  const totals = store.usage.totals(by, since.since, groupId);
  const scope = `since ${since.since.toISOString().slice(0, 16).replace('T', ' ')} UTC${args.group ? `, group ${escapeForTerminal(args.group, { singleLine: true })}` : ''}`;
  if (totals.length === 0) {
    out.write(`no model requests ${scope}\n`);
    return 0;
  }
  out.write(`model usage ${scope}\n`);
  out.write(formatUsageTable(by, usageRows(totals, prices.table, label), !prices.problem));
  return 0;
}

export const usageCli: CliCommand = {
  name: 'usage',
  summary: 'tokens, cache hit rate and estimated cost of model requests, per group, model or day',
  usage: USAGE,
  needs: 'store',
  run(args, { base, out, err }) {
    let values;
    try {
      ({ values } = parseArgs({
        args,
        options: {
          group: { type: 'string' },
          since: { type: 'string' },
          by: { type: 'string' },
        },
        allowPositionals: false,
      }));
    } catch (e) {
      return usageError(err, USAGE, (e as Error).message);
    }
    return usageCommand(base, values, out, err);
  },
};
