import process from 'node:process';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';

/** First line of a command's output, or what went wrong; never rejects. */
function firstLine(file, args) {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: 15_000 }, (err, stdout, stderr) => {
      const text = `${stdout}`.trim() || `${stderr}`.trim();
      if (err && !text)
        resolve(`not available (${err.code === 'ENOENT' ? 'not installed' : err.message})`);
      else resolve(text.split('\n')[0] ?? '');
    });
  });
}

function readOr(file, fallback) {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return fallback; // Not Linux, or /proc hidden: the description says "unknown".
  }
}

/** What the figures were measured on: they mean little without it. */
export async function describeMachine() {
  const cpuinfo = readOr('/proc/cpuinfo', '');
  const cpuModel =
    /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
  const osRelease = /^PRETTY_NAME="?([^"\n]+)"?$/m.exec(readOr('/etc/os-release', ''))?.[1];
  const cgroupV2 = fs.existsSync('/sys/fs/cgroup/cgroup.controllers');
  const [docker, bwrap, podman, runsc] = await Promise.all([
    firstLine('docker', [
      'version',
      '--format',
      'client {{.Client.Version}}, server {{.Server.Version}}',
    ]),
    firstLine('bwrap', ['--version']),
    firstLine('podman', ['--version']),
    firstLine('runsc', ['--version']),
  ]);
  return {
    cpuModel,
    cores: os.cpus().length,
    ramGb: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    kernel: `${os.type()} ${os.release()}`,
    os: osRelease ?? 'unknown',
    cgroup: cgroupV2 ? 'v2' : 'v1',
    node: process.version,
    docker,
    bwrap,
    podman,
    runsc,
    loadAverageAtStart: os.loadavg().map((x) => Math.round(x * 100) / 100),
    date: new Date().toISOString(),
  };
}
