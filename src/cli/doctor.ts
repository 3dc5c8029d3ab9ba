import path from 'node:path';
import type { Base } from '../app.js';
import type { RuntimeStatus } from '../cells/cell-runtime.js';
import { surveyRuntimes } from '../cells/select-runtime.js';
import { schemaVersion } from '../store/database.js';
import { channelLines } from './doctor-channels.js';

/**
 * One line per check: the store, the model endpoint, each cell runtime (whether it works
 * here, what it enforces and what it does not) and which runtime is selected.
 */
export async function doctor(base: Base, out: NodeJS.WritableStream): Promise<number> {
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
  for (const r of reports) {
    const mark = r.runtime.name === selected ? ' [selected]' : '';
    lines.push([r.status.ok, `runtime ${r.runtime.name}`, `${describeRuntime(r.status)}${mark}`]);
  }
  if (!selected) {
    lines.push([false, 'runtime', `none usable for NANOCELL_RUNTIME=${config.runtime}`]);
  }
  lines.push(...(await channelLines(config)));
  for (const [ok, what, detail] of lines) out.write(`${ok ? 'ok  ' : 'FAIL'} ${what}: ${detail}\n`);
  return lines.every(([ok]) => ok) || (model.ok && selected) ? 0 : 1;
}

/** A runtime's line: what is wrong, or what it enforces here and what it does not. */
export function describeRuntime(status: RuntimeStatus): string {
  if (!status.ok) return status.detail;
  const parts = [status.detail];
  if (status.enforced?.length) parts.push(`enforces: ${status.enforced.join(', ')}`);
  if (status.notEnforced?.length) parts.push(`NOT enforced: ${status.notEnforced.join(', ')}`);
  return parts.join('; ');
}
