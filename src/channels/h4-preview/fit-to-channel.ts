import { describeSize } from './attachment.js';
import type { ChannelCapabilities, OutboundMessage } from './channel.js';

/**
 * The message as this channel can show it: what it cannot show becomes text. Actions turn
 * into "reply ..." lines (an action id is the reply that does the same, e.g. `yes K3F9`),
 * unless the text already says so; attachments become a line naming each file.
 */
export function fitToChannel(
  capabilities: ChannelCapabilities,
  message: OutboundMessage,
): OutboundMessage {
  const lines = [message.text];
  const fitted: OutboundMessage = { text: message.text };
  const actions = message.actions ?? [];
  if (actions.length > 0) {
    if (capabilities.actions) fitted.actions = actions;
    else {
      const missing = actions.filter((a) => !message.text.includes(a.id));
      if (missing.length > 0) {
        lines.push(
          `To answer, reply ${missing.map((a) => `"${a.id}" (${a.label})`).join(' or ')}.`,
        );
      }
    }
  }
  const attachments = message.attachments ?? [];
  if (attachments.length > 0) {
    if (capabilities.attachments) fitted.attachments = attachments;
    else {
      for (const a of attachments) {
        lines.push(
          `[file not shown in this chat: ${a.name} (${a.mime}, ${describeSize(a.bytes.length)})]`,
        );
      }
    }
  }
  fitted.text = lines.join('\n');
  return fitted;
}
