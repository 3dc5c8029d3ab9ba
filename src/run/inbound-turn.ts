import type { ContentBlock, ConversationMessage } from '../agent/model-provider.js';
import { groupFolderPath } from '../groups/group-folder.js';
import { mediaTurn, type MediaTurnDeps } from '../media/media-turn.js';
import type { Group } from '../store/groups.js';
import type { StoredMessage } from '../store/messages.js';

/**
 * One message of a shared turn: a header nanocell writes (`[NAME]`, `[NAME (owner)]` for the
 * owner at the terminal), then the text with every further line indented, so no text a sender
 * writes can start a line that looks like another speaker's header. Names are cleaned of
 * brackets when stored (router/sender-name.ts).
 */
function speakerLine(m: StoredMessage): string {
  const owner = m.channel === 'terminal' ? ' (owner)' : '';
  return `[${m.senderName}${owner}] ${m.text.replace(/\r\n?/g, '\n').replace(/\n/g, '\n  ')}`;
}

/**
 * The user turn of a messages run: the admin's single message as it is, otherwise a line per
 * message naming its sender; each file a message brought is a line after it, and its images
 * follow the text as image blocks (stored in the history, so later turns see them again).
 */
export async function inboundTurn(
  home: string,
  group: Group,
  pending: readonly StoredMessage[],
  media: MediaTurnDeps | undefined,
): Promise<ConversationMessage> {
  const images: ContentBlock[] = [];
  const parts: string[] = [];
  const plain = pending.length === 1 && group.isAdmin;
  for (const m of pending) {
    const lines = [plain ? m.text : speakerLine(m)];
    if (m.media.length > 0) {
      const turn = await mediaTurn(groupFolderPath(home, group.folder), m.media, {
        maxAttachmentBytes: media?.maxAttachmentBytes ?? 0,
        ...(media?.transcriber ? { transcriber: media.transcriber } : {}),
      });
      lines.push(...turn.lines);
      images.push(...turn.images);
    }
    parts.push(lines.join('\n'));
  }
  return { role: 'user', content: [{ type: 'text', text: parts.join('\n') }, ...images] };
}
