/** How a task's output is labelled in its chat, so nobody takes it for a reply to them. */
export function labelTaskOutput(task: { id: number; prompt: string }, text: string): string {
  const words = task.prompt.replace(/\s+/g, ' ').trim();
  const title = words.length > 40 ? `${words.slice(0, 40)}…` : words;
  return `[task #${task.id}: ${title}] ${text}`;
}
