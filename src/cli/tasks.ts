import { parseArgs } from 'node:util';
import type { Base } from '../app.js';
import { escapeForTerminal } from '../channels/terminal-escape.js';
import type { CliCommand, TextOut } from './command.js';
import { checkModelChoice, type ModelChoice } from '../store/model-choices.js';
import { describeTask } from '../tools/task-tools.js';
import { changeTaskStatus } from '../owner/task-status.js';

const USAGE = `usage: nanocell tasks list [--group NAME]
       nanocell tasks pause|resume|cancel ID
       nanocell tasks set ID --model MODEL [--provider anthropic|openai]   (--model default: the group's)`;

/** `tasks list|pause|resume|cancel`: the owner manages every group's tasks. */
export function tasksCommand(
  base: Base,
  args: {
    positionals: string[];
    group?: string | undefined;
    model?: string | undefined;
    provider?: string | undefined;
  },
  out: TextOut,
  err: TextOut,
): number {
  const { store } = base;
  const [sub, idText] = args.positionals;
  const groupName = (id: number) => store.groups.byId(id)?.name ?? `#${id}`;
  if (sub === 'list') {
    let tasks = store.tasks.listAll();
    if (args.group) {
      const group = store.groups.byName(args.group);
      if (!group) return fail(err, `no group named "${args.group}"`, 1);
      tasks = tasks.filter((t) => t.groupId === group.id);
    }
    if (tasks.length === 0) out.write('no tasks\n');
    for (const t of tasks) out.write(`${shown(describeTask(t, groupName(t.groupId)))}\n`);
    return 0;
  }
  if (sub === 'pause' || sub === 'resume' || sub === 'cancel') {
    const id = Number(idText);
    if (!Number.isInteger(id) || id <= 0)
      return fail(err, `tasks ${sub} needs a task ID (a number), e.g. tasks ${sub} 3`);
    const change = changeTaskStatus(base, id, sub, 'owner (cli)');
    if (!change.ok) return fail(err, change.reason, 1);
    out.write(`${shown(describeTask(change.task, groupName(change.task.groupId)))}\n`);
    return 0;
  }
  if (sub === 'set') {
    const id = Number(idText);
    if (!Number.isInteger(id) || id <= 0 || !args.model) {
      return fail(err, 'tasks set needs a task ID (a number) and --model MODEL');
    }
    const task = store.tasks.byId(id);
    if (!task) return fail(err, `no task #${id}`, 1);
    const choice =
      args.model === 'default'
        ? undefined
        : { provider: args.provider ?? base.config.provider, model: args.model };
    const problem = choice && checkModelChoice(choice);
    if (problem) return fail(err, problem, 1);
    store.models.setForTask(id, choice as ModelChoice | undefined);
    const shownModel = choice ? `${choice.provider} ${choice.model}` : "its group's model";
    base.audit.append({
      type: 'task_change',
      group: groupName(task.groupId),
      task: String(id),
      action: 'updated',
      by: 'owner (cli)',
      summary: `model ${shownModel}`,
    });
    out.write(`task #${id}: runs use ${shownModel} from its next run on\n`);
    return 0;
  }
  return fail(err, sub ? `unknown tasks command "${sub}"` : 'tasks needs a command');
}

/** A task's prompt may come from a model: one line, no control sequences. */
const shown = (line: string) => escapeForTerminal(line, { singleLine: true });

function fail(err: TextOut, problem: string, code = 2): number {
  err.write(`nanocell: ${problem}\n${code === 2 ? `${USAGE}\n` : ''}`);
  return code;
}

export const tasksCli: CliCommand = {
  name: 'tasks',
  summary: 'manage scheduled tasks: list [--group NAME], pause, resume, cancel ID',
  usage: `${USAGE}\n`,
  needs: 'store',
  run(args, { base, out, err }) {
    let parsed;
    try {
      parsed = parseArgs({
        args,
        options: {
          group: { type: 'string', short: 'g' },
          model: { type: 'string' },
          provider: { type: 'string' },
        },
        allowPositionals: true,
      });
    } catch (e) {
      return fail(err, (e as Error).message);
    }
    return tasksCommand(
      base,
      {
        positionals: parsed.positionals,
        group: parsed.values.group,
        model: parsed.values.model,
        provider: parsed.values.provider,
      },
      out,
      err,
    );
  },
};
