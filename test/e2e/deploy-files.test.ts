import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseMiniYaml, type YamlValue } from '../support/mini-yaml.js';
import { REPO_ROOT } from '../support/run-cli.js';

// deploy/Dockerfile cannot be built here (no registry to pull node:20-bookworm-slim from), so
// these read it and compose.yaml for what a user's build and run depend on.

interface Instruction {
  op: string;
  args: string;
  stage: number;
}

/** The Dockerfile's instructions: continuation lines joined, comments dropped, stages counted. */
function instructions(text: string): Instruction[] {
  const joined = text
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n')
    .replace(/\\\n/g, ' ');
  let stage = -1;
  return joined
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const [op, ...rest] = l.split(/\s+/);
      if (op!.toUpperCase() === 'FROM') stage++;
      return { op: op!.toUpperCase(), args: rest.join(' '), stage };
    });
}

const dockerfile = fs.readFileSync(path.join(REPO_ROOT, 'deploy', 'Dockerfile'), 'utf8');
const steps = instructions(dockerfile);
const last = Math.max(...steps.map((s) => s.stage));
const final = steps.filter((s) => s.stage === last);
const runText = (list: Instruction[]) =>
  list
    .filter((s) => s.op === 'RUN')
    .map((s) => s.args)
    .join('\n');

describe('deploy/Dockerfile', () => {
  it('builds on node:20-bookworm-slim and runs the host on it', () => {
    const froms = steps.filter((s) => s.op === 'FROM').map((s) => s.args.split(/\s+/)[0]);
    expect(froms[0]).toBe('node:20-bookworm-slim');
    expect(final[0]!.args).toBe('node:20-bookworm-slim');
  });

  it('installs from the lock file, compiles, and keeps only production dependencies', () => {
    const build = runText(steps.filter((s) => s.stage === 0));
    expect(build).toMatch(/npm ci\b/);
    expect(build).toMatch(/npm run build/);
    expect(build).toMatch(/npm prune --omit=dev/);
    expect(build).toMatch(/python3 make g\+\+/); // better-sqlite3 compiles from source
  });

  it('has bubblewrap, the docker client and the cell root filesystem in the final image', () => {
    const run = runText(final);
    expect(run).toMatch(/\bbubblewrap\b/);
    expect(final.some((s) => s.op === 'COPY' && /\/usr\/local\/bin\/docker\b/.test(s.args))).toBe(
      true,
    );
    expect(run).toContain('scripts/build-cell-image.sh --rootfs-only');
    // Every package the rootfs script assembles a cell from.
    const script = fs.readFileSync(path.join(REPO_ROOT, 'scripts', 'build-cell-image.sh'), 'utf8');
    const needed = [...script.matchAll(/^\s+\[([a-z-]+)\]=\//gm)].map((m) => m[1]!);
    expect(needed.length).toBeGreaterThan(10);
    for (const pkg of needed) expect(run).toMatch(new RegExp(`\\s${pkg}(\\s|$)`));
  });

  it('keeps the data dir and the config dir in volumes, where the settings point', () => {
    const env = final
      .filter((s) => s.op === 'ENV')
      .map((s) => s.args)
      .join(' ');
    expect(env).toContain('NANOCELL_HOME=/var/lib/nanocell');
    expect(env).toContain('NANOCELL_CONFIG_DIR=/etc/nanocell');
    const volume = final.find((s) => s.op === 'VOLUME');
    expect(JSON.parse(volume!.args)).toEqual(['/var/lib/nanocell', '/etc/nanocell']);
    expect(env).not.toMatch(/(KEY|TOKEN|SECRET|PASSWORD)=/);
  });

  it('starts the host through the entrypoint, which forwards the published port', () => {
    expect(final.find((s) => s.op === 'ENTRYPOINT')!.args).toBe(
      '["tini", "--", "nanocell-entrypoint"]',
    );
    expect(final.find((s) => s.op === 'CMD')!.args).toBe('["start"]');
    expect(final.find((s) => s.op === 'EXPOSE')!.args).toBe('7421');
    const entry = path.join(REPO_ROOT, 'deploy', 'entrypoint.sh');
    expect(fs.statSync(entry).mode & 0o111).not.toBe(0);
    execFileSync('sh', ['-n', entry]); // throws on a syntax error
    const text = fs.readFileSync(entry, 'utf8');
    expect(text).toContain('TCP-LISTEN:7421');
    expect(text).toMatch(/exec node "\$app\/dist\/main\.js" "\$@"/);
  });

  it('carries what the host reads from the checkout at run time', () => {
    const copies = final.filter((s) => s.op === 'COPY').map((s) => s.args);
    expect(copies).toContain('src/store/migrations ./src/store/migrations');
    expect(copies).toContain('--from=build /opt/nanocell/node_modules ./node_modules');
    expect(copies).toContain('--from=build /opt/nanocell/dist ./dist.image');
  });

  it('copies only files that exist in the repository', () => {
    for (const s of steps.filter((x) => x.op === 'COPY' && !x.args.startsWith('--from'))) {
      const sources = s.args.split(/\s+/).slice(0, -1);
      for (const src of sources) expect(fs.existsSync(path.join(REPO_ROOT, src)), src).toBe(true);
    }
  });
});

const asMap = (v: YamlValue | undefined) => v as { [key: string]: YamlValue };

describe('deploy/compose.yaml', () => {
  const compose = asMap(
    parseMiniYaml(fs.readFileSync(path.join(REPO_ROOT, 'deploy', 'compose.yaml'), 'utf8')),
  );
  const services = asMap(compose.services);

  it('has the two variants, each behind its own profile, built from deploy/Dockerfile', () => {
    expect(Object.keys(services).sort()).toEqual(['nanocell-bwrap', 'nanocell-socket']);
    for (const [name, profile] of [
      ['nanocell-socket', 'socket'],
      ['nanocell-bwrap', 'bwrap'],
    ] as const) {
      const s = asMap(services[name]);
      expect(s.profiles).toEqual([profile]);
      expect(asMap(s.build)).toEqual({ context: '..', dockerfile: 'deploy/Dockerfile' });
    }
  });

  it('publishes the web port on 127.0.0.1 only', () => {
    for (const s of Object.values(services))
      expect(asMap(s).ports).toEqual(['127.0.0.1:7420:7421']);
  });

  it('socket: mounts the docker socket, and the data dir and dist/ at the same path on both sides', () => {
    const s = asMap(services['nanocell-socket']);
    expect(asMap(s.environment).NANOCELL_RUNTIME).toBe('docker');
    const volumes = s.volumes as string[];
    expect(volumes).toContain('/var/run/docker.sock:/var/run/docker.sock');
    expect(volumes).toContain('/var/lib/nanocell:/var/lib/nanocell');
    expect(volumes).toContain('/opt/nanocell/dist:/opt/nanocell/dist');
    expect(volumes).toContain('nanocell-config:/etc/nanocell');
  });

  it('bwrap: no socket, the profiles bubblewrap needs turned off, and limits for all cells', () => {
    const s = asMap(services['nanocell-bwrap']);
    expect(asMap(s.environment).NANOCELL_RUNTIME).toBe('bwrap');
    expect(s.security_opt).toEqual([
      'seccomp=unconfined',
      'apparmor=unconfined',
      'systempaths=unconfined',
    ]);
    expect((s.volumes as string[]).some((v) => v.includes('docker.sock'))).toBe(false);
    expect(s.volumes).toEqual(['nanocell-data:/var/lib/nanocell', 'nanocell-config:/etc/nanocell']);
    expect(s.mem_limit).toBeDefined();
    expect(s.pids_limit).toBeDefined();
  });

  it('says plainly what each variant gives up', () => {
    const text = fs.readFileSync(path.join(REPO_ROOT, 'deploy', 'compose.yaml'), 'utf8');
    expect(text).toContain('The docker socket is ROOT-EQUIVALENT');
    expect(text).toContain('unprivileged user namespaces');
    expect(text).toContain('seccomp, AppArmor and /proc masking off');
  });
});
