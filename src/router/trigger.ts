import type { Group } from '../store/groups.js';

/** The trigger word of a group: its own, or `@<assistant name>`. */
export function triggerOf(group: Pick<Group, 'trigger'>, assistantName: string): string {
  return group.trigger ?? `@${assistantName}`;
}

/**
 * Whether `text` calls the assistant: the trigger appears as a whole word, in any case.
 * "@Andy, hi" and "hey @andy" match; "@Andyman" and "x@Andy" do not.
 */
export function mentionsTrigger(text: string, trigger: string): boolean {
  const escaped = trigger.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^\\p{L}\\p{N}_@])${escaped}(?![\\p{L}\\p{N}_])`, 'iu').test(text);
}

/** Whether a message in this group starts a run (the admin group and direct chats always do). */
export function isTriggered(
  group: Pick<Group, 'isAdmin' | 'requiresTrigger' | 'trigger'>,
  text: string,
  assistantName: string,
): boolean {
  if (group.isAdmin || !group.requiresTrigger) return true;
  return mentionsTrigger(text, triggerOf(group, assistantName));
}
