import fs from 'node:fs';
import path from 'node:path';
import { PRICE_FILE, readPriceFile } from '../usage/price-file.js';
import type { Base } from '../app.js';
import { surveyRuntimes } from '../cells/select-runtime.js';
import { mcpDoctorLine } from '../mcp/mcp-doctor.js';
import { schemaVersion } from '../store/database.js';
import type { CliCommand, TextOut } from './command.js';
import { channelLines } from './doctor-channels.js';
import { classifyRuntimes, runtimeSection } from './doctor-runtimes.js';

/**
 * One line per check: the store, the model endpoint, each cell runtime (grouped: available,
 * not on this platform, broken with how to fix) and which runtime is selected.
 */
export async function doctor(base: Base, out: TextOut): Promise<number> {
  const { config } = base;
  const lines: Array<[boolean, string, string]> = [];
  const groups = base.store.groups.list().length;
  lines.push([
    true,
    'store',
    `${path.join(config.home, 'nanocell.db')} (schema ${schemaVersion(base.store.db)}, ${groups} group${groups === 1 ? '' : 's'})`,
  ]);
  const model = await base.provider.check();
  const modelUrl = config.provider === 'openai' ? config.openai.baseUrl : config.baseUrl;
  const fallback = config.fallbackModel ? ` (fallback ${config.fallbackModel})` : '';
  lines.push([
    model.ok,
    'model',
    `${config.provider} ${config.model}${fallback} at ${modelUrl}: ${model.detail}`,
  ]);
  const reports = await surveyRuntimes(base.runtimes);
  const selected =
    config.runtime === 'auto'
      ? reports.find((r) => r.status.ok)?.runtime.name
      : reports.find((r) => r.runtime.name === config.runtime && r.status.ok)?.runtime.name;
  const verdicts = classifyRuntimes(
    reports.map((r) => ({ name: r.runtime.name, status: r.status })),
    { platform: process.platform, isRoot: process.getuid?.() === 0 },
    selected,
  );
  const after: typeof lines = [];
  if (!selected) {
    after.push([false, 'runtime', `none usable for NANOCELL_RUNTIME=${config.runtime}`]);
  }
  after.push(...(await channelLines(config)));
  const prices = readPriceFile(config.configDir);
  const priceFile = path.join(config.configDir, PRICE_FILE);
  after.push([
    prices.problem === undefined,
    'prices',
    prices.problem ??
      (fs.existsSync(priceFile)
        ? `${priceFile} (${Object.keys(prices.table).length} models priced)`
        : `the defaults (${PRICE_FILE} in ${config.configDir} overrides them)`),
  ]);
  after.push(mcpDoctorLine(config.configDir));
  const write = (rows: typeof lines) => {
    for (const [ok, what, detail] of rows)
      out.write(`${ok ? 'ok  ' : 'FAIL'} ${what}: ${detail}\n`);
  };
  write(lines);
  out.write(runtimeSection(verdicts));
  write(after);
  const allOk =
    [...lines, ...after].every(([ok]) => ok) && verdicts.every((v) => v.group !== 'broken');
  return allOk || (model.ok && selected) ? 0 : 1;
}

export const doctorCli: CliCommand = {
  name: 'doctor',
  summary: 'check the store, the model endpoint and each cell runtime',
  usage:
    'usage: nanocell doctor\n  One line per check: the store, the model endpoint, each cell runtime.\n',
  needs: 'store',
  run: (_args, { base, out }) => doctor(base, out),
};
