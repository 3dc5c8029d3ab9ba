import { channelsStep } from './channels-step.js';
import { ConfigDraft } from './config-draft.js';
import { groupStep, policyStep } from './group-policy-steps.js';
import { modelStep } from './model-step.js';
import { runtimeStep } from './runtime-step.js';
import { tell, type SetupDeps, type StepContext, type StepResult } from './setup-context.js';
import { missingFlags, unsetEnvironment, type SetupFlags } from './setup-flags.js';
import { SetupCancelled } from './setup-prompts.js';

const STEPS: ReadonlyArray<{ name: string; run: (ctx: StepContext) => Promise<StepResult> }> = [
  { name: 'model', run: modelStep },
  { name: 'runtime', run: runtimeStep },
  { name: 'channels', run: channelsStep },
  { name: 'group', run: groupStep },
  { name: 'policy', run: policyStep },
];

/**
 * `nanocell setup`: the steps in order, each saved once it succeeded, so a run stopped half-way
 * keeps what was done and a second run goes on from there. Without a terminal every answer comes
 * from the flags; what is missing is named before anything is changed (exit 2).
 */
export async function runSetup(flags: SetupFlags, deps: SetupDeps): Promise<number> {
  if (!deps.prompts) {
    const missing = missingFlags(flags);
    if (missing.length) {
      deps.err.write(
        `nanocell setup: no terminal to ask on${flags.yes ? ' (--yes)' : ''}; give every answer as a flag. Missing: ${missing.join(', ')}\n`,
      );
      return 2;
    }
  }
  const unset = unsetEnvironment(flags, deps.env);
  if (unset.length) {
    for (const problem of unset) deps.err.write(`nanocell setup: ${problem}\n`);
    return 2;
  }
  const draft = new ConfigDraft(deps.configText ?? '', {
    write: (text) => deps.writeConfigFile(deps.configFile, text),
    configWith: deps.configWith,
  });
  const ctx: StepContext = { ...deps, flags, draft };
  deps.prompts?.say('info', `nanocell setup: settings go to ${deps.configFile}`);
  if (!deps.prompts) tell(ctx, 'info', `settings go to ${deps.configFile}`);
  try {
    for (const [i, step] of STEPS.entries()) {
      if (!deps.prompts) tell(ctx, 'info', `[${i + 1}/${STEPS.length}] ${step.name}`);
      const result = await step.run(ctx);
      if (result !== undefined) return result;
    }
  } catch (err) {
    if (!(err instanceof SetupCancelled)) throw err;
    deps.err.write(`nanocell setup: ${err.message}\n`);
    return 1;
  }
  tell(ctx, 'success', 'setup done; ./nanocell doctor checks everything again');
  deps.out.write(nextCommand(deps.hostRunning));
  return 0;
}

/** What to run next: the host reads the settings only when it starts. */
export function nextCommand(hostRunning: boolean): string {
  return hostRunning
    ? 'next: the host is running with the old settings; restart it: ./nanocell service restart (or stop ./nanocell start and run it again)\n'
    : 'next: ./nanocell start   (or ./nanocell service install to run it as a service)\n';
}
