import { createInterface } from 'node:readline';
import type { ChatMessage } from '@inkboard/protocol';
import type { InkboardClient } from '../createClient.js';
import { watchBoard } from '../helpers.js';
import { terminalSafe } from './format.js';

const TYPING_EVERY_MS = 2_000;

/** Interactive chat: history, then incoming messages and typing notices as they come; typed lines are sent. */
export async function runChat(client: InkboardClient, boardId: string): Promise<void> {
  const me = await client.trpc.auth.me.query();
  const { messages } = await client.trpc.chat.history.query({ boardId, limit: 20 });
  const time = (ms: number) => new Date(ms).toTimeString().slice(0, 5);
  // Names and messages come from other people: printed without escape sequences or controls, one line each.
  const line = (m: ChatMessage) => terminalSafe(`${time(m.createdAt)} ${m.user.name}: ${m.text}`);
  for (const m of messages.reverse()) console.log(line(m));
  console.log(`-- chatting on ${boardId}; type a message and press Enter, Ctrl+D to leave --`);
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: process.stdin.isTTY });
  const say = (text: string) => {
    // Print above the prompt without eating what the user is typing.
    process.stdout.write(`\r\x1b[K${terminalSafe(text)}\n`);
    rl.prompt(true);
  };
  const typingShown = new Map<string, number>();
  // Messages already on screen: a resume replays ops, not chat, so after a reconnect the history
  // fills in what was said meanwhile, each message once.
  const shown = new Set(messages.map((m) => m.id));
  const showMessage = (m: ChatMessage) => {
    if (shown.has(m.id) || m.user.id === me?.id) return;
    shown.add(m.id);
    say(line(m));
  };
  let subscriptions = 0;
  const stop = watchBoard(client, boardId, {
    onFrame: (frame) => {
      if (frame.events.some((e) => e.type === 'presence') && subscriptions++ > 0) {
        void client.trpc.chat.history.query({ boardId, limit: 100 }).then(
          ({ messages: recent }) => recent.reverse().forEach(showMessage),
          () => undefined,
        );
      }
      for (const event of frame.events) {
        if (event.type === 'chat') showMessage(event.message);
        if (event.type === 'typing' && event.user.id !== me?.id && Date.now() - (typingShown.get(event.user.id) ?? 0) > 5_000) {
          typingShown.set(event.user.id, Date.now());
          say(`   ${event.user.name} is typing…`);
        }
        if (event.type === 'join' && event.client.user.id !== me?.id) say(`   ${event.client.user.name} joined`);
      }
    },
    onError: (err) => say(`! ${err.message}`),
  });
  let lastTyping = 0;
  process.stdin.on('keypress', () => {
    if (Date.now() - lastTyping > TYPING_EVERY_MS) {
      lastTyping = Date.now();
      void client.trpc.chat.typing.mutate({ boardId }).catch(() => undefined);
    }
  });
  rl.setPrompt('> ');
  rl.prompt();
  for await (const line of rl) {
    const text = line.trim();
    if (text) {
      await client.trpc.chat.send.mutate({ boardId, text }).then(
        () => undefined,
        (err: Error) => say(`! not sent: ${err.message}`),
      );
    }
    rl.prompt();
  }
  stop();
  await client.close();
}
