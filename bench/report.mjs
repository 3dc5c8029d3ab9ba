import fs from 'node:fs';
import path from 'node:path';
import { formatNumber, ratio } from './stats.mjs';

/**
 * One line of a figure: a measurement beside its baseline. `target` is the design's aim for
 * this line; `meets` says whether this run met it (reported, never enforced).
 */
export function row({ label, value, baselineLabel, baseline, target, meets, note }) {
  const r = baseline ? ratio(value, baseline) : null;
  return {
    label,
    value: value ?? null,
    baselineLabel: baselineLabel ?? null,
    baseline: baseline ?? null,
    ratio: r,
    target: target ?? null,
    meets: meets ? meets(value, r) : null,
    note: note ?? null,
  };
}

export function errorRow(label, err) {
  return {
    label,
    value: null,
    baselineLabel: null,
    baseline: null,
    ratio: null,
    target: null,
    meets: null,
    note: `not measured: ${err instanceof Error ? err.message : String(err)}`,
  };
}

const yesNo = (m) => (m === null ? '' : m ? 'yes' : 'no');
const cell = (s) =>
  String(s ?? '')
    .replace(/\|/g, '\\|')
    .replace(/\n/g, ' ');

/** A figure as a Markdown table, with its notes below. */
export function figureMarkdown(figure) {
  const lines = [
    `### ${figure.id}. ${figure.title} (${figure.unit})`,
    '',
    `Target: ${figure.target}`,
    '',
    '| measure | median | p95 | n | baseline | baseline median | baseline p95 | ratio | target met |',
    '| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | :---: |',
  ];
  const notes = [];
  for (const r of figure.rows) {
    lines.push(
      `| ${cell(r.label)} | ${formatNumber(r.value?.median)} | ${formatNumber(r.value?.p95)} | ${r.value?.n ?? ''} | ${cell(r.baselineLabel ?? '-')} | ${formatNumber(r.baseline?.median)} | ${formatNumber(r.baseline?.p95)} | ${r.ratio === null ? '-' : `${r.ratio.toFixed(2)}×`} | ${yesNo(r.meets)} |`,
    );
    if (r.note) notes.push(`- ${r.label}: ${r.note}`);
  }
  if (figure.method) notes.unshift(`- How: ${figure.method}`);
  return [...lines, '', ...notes, ''].join('\n');
}

export function machineMarkdown(machine) {
  return [
    '| machine | |',
    '| --- | --- |',
    ...Object.entries(machine).map(
      ([k, v]) => `| ${k} | ${cell(Array.isArray(v) ? v.join(' ') : v)} |`,
    ),
    '',
  ].join('\n');
}

export function resultsMarkdown(results) {
  const runtimes = results.runtimes
    .map((r) => `- ${r.name}: ${r.ok ? `measured (${r.detail})` : `not available: ${r.detail}`}`)
    .join('\n');
  return [
    `# nanocell benchmarks (${results.mode} mode)`,
    '',
    `Run ${results.startedAt}, ${Math.round(results.durationS)} s. Every figure is the median and p95 ` +
      'of repeated runs, beside its baseline measured in the same run (interleaved where it can be), ' +
      "so the ratio holds on a noisy machine. Targets are the design's aims; the benchmark reports them and never fails on them.",
    '',
    machineMarkdown(results.machine),
    '## Runtimes',
    '',
    runtimes,
    '',
    '## Figures',
    '',
    ...results.figures.map(figureMarkdown),
  ].join('\n');
}

export function writeResults(dir, results) {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  fs.writeFileSync(path.join(dir, 'latest.md'), resultsMarkdown(results));
}
