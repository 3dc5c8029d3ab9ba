import type { ProvenanceSource } from './provenance.js';

/** An inbound message as the guard judges it. */
export interface JudgedMessage {
  channel: string;
  sender: string;
  senderName: string;
}

/**
 * Whether a message is someone else's words (a source that can carry an injection), decided
 * by the host from where it came, never from what it says: the terminal and the web owner's
 * credential are the owner; on a chat platform only the owner's paired accounts are; mail is
 * never trusted (a From line is easy to forge).
 */
export function untrustedSourceOf(
  message: JudgedMessage,
  isPairedOwner: (channel: string, sender: string) => boolean,
): ProvenanceSource | undefined {
  const who = `${message.senderName || message.sender} on ${message.channel}`;
  switch (message.channel) {
    case 'terminal':
      return undefined;
    case 'web':
      return message.sender.startsWith('web:') ? undefined : { kind: 'chat-message', detail: who };
    case 'email':
      return { kind: 'email', detail: message.sender };
    default:
      return isPairedOwner(message.channel, message.sender)
        ? undefined
        : { kind: 'chat-message', detail: who };
  }
}
