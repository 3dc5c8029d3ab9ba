import fs from 'node:fs';
import path from 'node:path';

/**
 * A recording fake of a container CLI (Apple's `container`, `docker sandbox`) for runtimes
 * that cannot run on this machine. Every invocation appends its argv, as one JSON line, to
 * a log; the invocation that starts the tool server (`... /usr/bin/node SCRIPT`) runs the
 * real tool server directly with this node, on the host, so the protocol half of the
 * contract suite runs through the runtime's real code. Paths inside the "container" are
 * mapped back to host paths through the `--mount` arguments. It isolates nothing: only the
 * recorded flags say what the real CLI would be asked to enforce.
 */
export interface RecordingFake {
  /** The executable to hand the runtime as its CLI. */
  bin: string;
  /** Every recorded invocation's argv, in order. */
  calls(): string[][];
}

export interface FakeCliOptions {
  /** Answer every status question with a failure (the CLI exists but its service is down). */
  down?: boolean;
}

/** Write a fake CLI into `dir` (a temp dir the caller removes). */
export function makeRecordingFake(
  dir: string,
  name: string,
  options: FakeCliOptions = {},
): RecordingFake {
  const bin = path.join(dir, name);
  const log = path.join(dir, `${name}.calls.jsonl`);
  fs.writeFileSync(bin, fakeScript(log, options.down === true), { mode: 0o755 });
  return {
    bin,
    calls: () =>
      fs.existsSync(log)
        ? fs
            .readFileSync(log, 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l) as string[])
        : [],
  };
}

function fakeScript(log: string, down: boolean): string {
  return `#!${process.execPath}
'use strict';
const fs = require('fs');
const { spawn } = require('child_process');
const argv = process.argv.slice(2);
fs.appendFileSync(${JSON.stringify(log)}, JSON.stringify(argv) + '\\n');
const DOWN = ${down ? 'true' : 'false'};

const nodeAt = argv.lastIndexOf('/usr/bin/node');
const script = nodeAt >= 0 ? argv[nodeAt + 1] : undefined;
if (script === undefined || script === '-e') {
  // A management command: answer like the real CLI would, briefly.
  const words = argv.filter((a) => !a.startsWith('-')).join(' ');
  if (DOWN && /(system status|sandbox version|image inspect)/.test(words)) {
    process.stderr.write('fake: service is not running\\n');
    process.exit(1);
  }
  if (/sandbox version/.test(words)) process.stdout.write('v0.0.0-fake\\n');
  else if (/system status/.test(words)) process.stdout.write('apiserver is running (fake)\\n');
  else if (/image inspect/.test(words)) process.stdout.write('[]\\n');
  process.exit(0);
}

const valueOf = (names) => {
  let v;
  argv.slice(0, nodeAt).forEach((a, i, all) => { if (names.includes(a)) v = all[i + 1]; });
  return v;
};
const mounts = [];
argv.slice(0, nodeAt).forEach((a, i, all) => {
  if (a !== '--mount') return;
  const fields = Object.fromEntries(all[i + 1].split(',').map((f) => f.split('=')));
  if (fields.source && fields.target) mounts.push([fields.target, fields.source]);
});
mounts.sort((a, b) => b[0].length - a[0].length);
const toHost = (p) => {
  for (const [target, source] of mounts) {
    if (p === target) return source;
    if (p.startsWith(target + '/')) return source + p.slice(target.length);
  }
  return p;
};
const env = {};
argv.slice(0, nodeAt).forEach((a, i, all) => {
  if (a === '--env' || a === '-e') {
    const [k, ...v] = all[i + 1].split('=');
    env[k] = v.join('=');
  }
});
env.PATH = env.PATH || '/usr/bin:/bin';
const cwd = toHost(valueOf(['--workdir', '-w', '--cwd']) || process.cwd());
const child = spawn(process.execPath, [toHost(script), ...argv.slice(nodeAt + 2)], { cwd, env, stdio: 'inherit' });
child.on('exit', (code, signal) => process.exit(code === null ? 128 : code));
`;
}
