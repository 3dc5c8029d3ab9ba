import { knownChannel, type KnownChannel } from '../channels/registry.js';
import { pairCli } from '../cli/pair.js';
import { ConfigError, isSecretSetting } from '../config.js';
import { platformNames, requiredChannelKeys } from './setup-flags.js';
import { tell, warnIfOverridden, type StepContext, type StepResult } from './setup-context.js';

/**
 * Step 3: each chosen platform's credentials (asked masked, or from the environment variables
 * of the same names with `--channel NAME`), written once the platform's own check passes; then
 * a pairing code, so the owner's account there becomes the owner.
 */
export async function channelsStep(ctx: StepContext): Promise<StepResult> {
  const { flags, prompts } = ctx;
  const names = prompts
    ? flags.channels.length
      ? flags.channels
      : await prompts.multiselect(
          'Connect chat platforms? (space selects, Enter goes on; none is fine)',
          platformNames().map((name) => ({ value: name, label: name })),
        )
    : flags.channels;
  const paired = new Set<string>();
  for (const name of names) {
    const channel = knownChannel(name)!;
    const result = await connect(ctx, channel);
    if (result === 'skipped') continue;
    if (typeof result === 'number') return result;
    const pair =
      flags.pair.includes(name) ||
      (prompts ? await prompts.confirm(`Pair your own ${name} account now?`) : false);
    if (pair) {
      const code = await pairCode(ctx, name);
      if (code) return code;
      paired.add(name);
    }
  }
  for (const name of flags.pair.filter((n) => !paired.has(n) && !names.includes(n))) {
    const code = await pairCode(ctx, name);
    if (code) return code;
  }
  return undefined;
}

async function connect(ctx: StepContext, channel: KnownChannel): Promise<StepResult | 'skipped'> {
  const { prompts, draft } = ctx;
  const keys = requiredChannelKeys(channel);
  if (channel.name === 'whatsapp') {
    tell(
      ctx,
      'info',
      'whatsapp: run ./nanocell whatsapp link and scan the code with your phone to link it',
    );
    return undefined;
  }
  for (;;) {
    const missing: string[] = [];
    // Asked: what the platform cannot go without. From the environment: every one of its
    // settings that is set there (a self-hosted API root too), and the required ones must be.
    for (const key of prompts ? keys : channel.configKeys) {
      if (prompts) {
        const kept = draft.get(key) !== undefined;
        const ask = isSecretSetting(key) ? prompts.secret.bind(prompts) : undefined;
        const message = `${channel.name}: ${key}${kept ? ' (Enter keeps the one in the config file)' : ''}`;
        const check = (v: string) => (v === '' && kept ? undefined : draft.check(key, v));
        const value = ask ? await ask(message, check) : await prompts.text(message, { check });
        if (value !== '') draft.set(key, value);
        continue;
      }
      const value = ctx.env(key);
      if (value === undefined) {
        if (keys.includes(key)) missing.push(key);
        continue;
      }
      const problem = draft.set(key, value);
      if (problem) {
        tell(ctx, 'error', problem);
        return 2;
      }
    }
    if (missing.length) {
      tell(
        ctx,
        'error',
        `--channel ${channel.name} takes its credentials from the environment: set ${missing.join(', ')}`,
      );
      return 2;
    }
    const verdict = await checkChannel(ctx, channel);
    if (verdict.ok) {
      tell(ctx, 'success', `${channel.name}: ${verdict.detail}`);
      draft.save();
      warnIfOverridden(ctx, keys);
      return undefined;
    }
    tell(ctx, 'error', `${channel.name} check failed: ${verdict.detail}`);
    if (!prompts) {
      tell(
        ctx,
        'error',
        'fix the credentials (or pass --no-check to skip the check); they were not written',
      );
      return 1;
    }
    const next = await prompts.select(`${channel.name} did not accept the credentials.`, [
      { value: 'retry', label: 'Enter them again' },
      { value: 'keep', label: 'Keep them anyway', hint: 'nanocell doctor checks again later' },
      { value: 'skip', label: `Leave ${channel.name} off` },
    ]);
    if (next === 'keep') {
      draft.save();
      return undefined;
    }
    draft.discard();
    if (next === 'skip') return 'skipped';
  }
}

async function checkChannel(
  ctx: StepContext,
  channel: KnownChannel,
): Promise<{ ok: boolean; detail: string }> {
  let config;
  try {
    config = ctx.draft.config();
  } catch (err) {
    if (err instanceof ConfigError) return { ok: false, detail: err.problems.join('; ') };
    throw err;
  }
  const state = channel.state(config);
  if (!state.on) return { ok: false, detail: state.detail };
  if (ctx.flags.noCheck || !channel.check)
    return { ok: true, detail: `${state.detail} (not checked)` };
  return channel.check(config, AbortSignal.timeout(ctx.checkTimeoutMs));
}

/** `nanocell pair NAME`, with the settings just written (so its on/off note is right). */
async function pairCode(ctx: StepContext, name: string): Promise<StepResult> {
  let config;
  try {
    config = ctx.draft.config();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    tell(ctx, 'error', err.message);
    return 2;
  }
  if (pairCli.needs !== 'store') throw new Error('pair is a store command');
  const code = await pairCli.run([name], {
    base: { ...ctx.base, config },
    out: ctx.out,
    err: ctx.err,
  });
  return code === 0 ? undefined : code;
}
