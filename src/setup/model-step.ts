import { modelProvider } from '../app.js';
import { ConfigError, type ProviderName } from '../config.js';
import { tell, warnIfOverridden, type StepContext, type StepResult } from './setup-context.js';

const DEFAULTS: Record<ProviderName, { model: string | undefined }> = {
  anthropic: { model: 'claude-sonnet-5-5' },
  openai: { model: undefined },
};
const OPENAI_DEFAULT_URL = 'https://api.openai.com/v1';

const KEYS: Record<ProviderName, { key: string; baseUrl: string }> = {
  anthropic: { key: 'ANTHROPIC_API_KEY', baseUrl: 'ANTHROPIC_BASE_URL' },
  openai: { key: 'OPENAI_API_KEY', baseUrl: 'OPENAI_BASE_URL' },
};

/**
 * Step 1, first so a wrong key is found before anything else: the provider, its URL, the
 * model and the key, then one real request through the provider's own `check()`.
 */
export async function modelStep(ctx: StepContext): Promise<StepResult> {
  const { flags, draft, prompts } = ctx;
  for (;;) {
    const current = draft.get('NANOCELL_PROVIDER') as ProviderName | undefined;
    const provider =
      flags.provider ??
      (await prompts!.select<ProviderName>(
        'Which model API?',
        [
          { value: 'anthropic', label: 'Anthropic', hint: 'Claude, with an API key' },
          {
            value: 'openai',
            label: 'OpenAI-compatible',
            hint: 'OpenAI, OpenRouter, Ollama, vLLM, LM Studio',
          },
        ],
        current ?? 'anthropic',
      ));
    const keys = KEYS[provider];
    const problems: string[] = [];
    const put = (key: string, value: string) => {
      const problem = draft.set(key, value);
      if (problem) problems.push(problem);
    };
    put('NANOCELL_PROVIDER', provider);

    const baseUrl =
      flags.baseUrl ??
      (prompts && provider === 'openai'
        ? await prompts.text('Base URL of the server', {
            initial: draft.get(keys.baseUrl) ?? OPENAI_DEFAULT_URL,
            check: (v) => draft.check(keys.baseUrl, v),
          })
        : undefined);
    if (baseUrl !== undefined) put(keys.baseUrl, baseUrl);

    // The file's model is kept for the same provider; another provider's name would not work.
    const defaultModel =
      (current === provider ? draft.get('NANOCELL_MODEL') : undefined) ?? DEFAULTS[provider].model;
    const model =
      flags.model ??
      (prompts
        ? await prompts.text('Model name', {
            initial: defaultModel ?? '',
            ...(provider === 'openai' ? { placeholder: 'e.g. llama3.2 or gpt-4.1' } : {}),
            check: (v) => draft.check('NANOCELL_MODEL', v),
          })
        : defaultModel);
    if (model !== undefined) put('NANOCELL_MODEL', model);

    const key = await apiKey(ctx, provider, keys.key);
    if (key !== undefined) put(keys.key, key);

    if (problems.length) {
      for (const p of problems) tell(ctx, 'error', p);
      if (!prompts) return 2;
      draft.discard();
      continue;
    }
    const verdict = await checkModel(ctx, provider);
    if (verdict.ok) {
      tell(ctx, 'success', `model: ${verdict.detail}`);
    } else {
      tell(ctx, 'error', `model check failed: ${verdict.detail}`);
      if (!prompts) {
        tell(
          ctx,
          'error',
          'fix the answer (or pass --no-check to skip the check); nothing was written',
        );
        return 1;
      }
      const next = await prompts.select('The model did not answer as expected.', [
        { value: 'retry', label: 'Change the answers and try again' },
        { value: 'keep', label: 'Keep them anyway', hint: 'nanocell doctor checks again later' },
      ]);
      if (next === 'retry') {
        draft.discard();
        continue;
      }
    }
    draft.save();
    warnIfOverridden(ctx, ['NANOCELL_PROVIDER', keys.baseUrl, 'NANOCELL_MODEL', keys.key]);
    return undefined;
  }
}

/** The key from `--api-key-env VAR`, or asked masked; undefined keeps what the file has. */
async function apiKey(
  ctx: StepContext,
  provider: ProviderName,
  setting: string,
): Promise<string | undefined> {
  const { flags, prompts, draft } = ctx;
  // Set: unsetEnvironment checked it before the first step.
  if (flags.apiKeyEnv) return ctx.env(flags.apiKeyEnv);
  if (!prompts) return undefined;
  const kept = draft.get(setting) !== undefined;
  const optional = provider === 'openai';
  const hint = kept
    ? ' (Enter keeps the one in the config file)'
    : optional
      ? ' (Enter for none: a local server needs none)'
      : '';
  const value = await prompts.secret(`API key${hint}`, (v) =>
    v === ''
      ? kept || optional
        ? undefined
        : 'the Anthropic API needs a key (sk-ant-...)'
      : undefined,
  );
  return value === '' ? undefined : value;
}

async function checkModel(
  ctx: StepContext,
  provider: ProviderName,
): Promise<{ ok: boolean; detail: string }> {
  let config;
  try {
    config = ctx.draft.config();
  } catch (err) {
    if (err instanceof ConfigError) return { ok: false, detail: err.problems.join('; ') };
    throw err;
  }
  const where = `${provider} ${config.model}`;
  if (ctx.flags.noCheck) return { ok: true, detail: `${where} (not checked: --no-check)` };
  const limited = { ...config, modelTimeoutMs: ctx.checkTimeoutMs, modelMaxRetries: 0 };
  const result = await modelProvider(
    limited,
    { provider, model: config.model },
    ctx.base.log,
  ).check();
  return { ok: result.ok, detail: `${where}: ${result.detail}` };
}
