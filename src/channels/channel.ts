/** A message as a channel hands it in, before it is stored. */
export interface InboundMessage {
  channel: string;
  chatId: string;
  /** Platform id of the sender. */
  sender: string;
  senderName: string;
  text: string;
}

/**
 * A chat platform. `start` begins delivering inbound messages to `onMessage`; a channel
 * acknowledges a message to its platform only after `onMessage` resolves (the message is
 * stored by then). `send` rejects when the platform did not take the message.
 */
export interface Channel {
  readonly name: string;
  start(onMessage: (message: InboundMessage) => Promise<void>): Promise<void>;
  send(chatId: string, text: string): Promise<void>;
  stop(): Promise<void>;
}
