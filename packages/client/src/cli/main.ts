import { readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, resolve as resolvePath } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { TRPCClientError } from '@trpc/client';
import WebSocket from 'ws';
import { createInkboardClient, type InkboardClient } from '../createClient.js';
import { addElements, exportBoard, InvalidElementsError, watchBoard } from '../helpers.js';
import { uploadImageInputs } from '../images.js';
import { joinAsGuest } from '../guests.js';
import { forgetLogin, readLogin, saveLogin } from './config.js';
import { signInForToken } from './login.js';
import { runChat } from './chat.js';
import { exportAt, historyCommand, restoreCommand, VersionError } from './history.js';
import { ago, describeEvent, table, terminalJson, terminalSafe } from './format.js';
import type { BoardEvent, PresenceEntry } from '@inkboard/protocol';

const USAGE = `Usage: inkboard <command> [options]

Accounts
  signup [--username U] [--password P]     create an account, save an API token
  login  [--username U] [--password P]     sign in, save an API token (also: signin)
  logout [--everywhere]                    revoke the saved token and forget it; with --everywhere
                                           also end every session and token of the account (signout)
  password [--password P] [--new-password N]  change your password (ends your other sessions)
Boards
  boards                                   list your boards
  boards create TITLE                      create a board, print its id
  boards rename ID TITLE                   rename a board (owner)
  boards rm ID                             delete a board (owner)
  draw BOARD FILE.json                     add the elements in FILE (an array) to BOARD
                                           (an image may name a local file: {"type":"image","file":"./a.png","x":0,"y":0})
  export BOARD --format svg|png|json [--out FILE] [--scale N] [--at VERSION|SEQ]
                                           (--at: the board as it was then, in any format)
  history BOARD [--limit N]                versions newest first: seqs, author, when, summary, names
  restore BOARD VERSION|SEQ                bring the whole board back to a version (editors; undoable)
  watch BOARD                              print live events until interrupted
  watch https://host/g/CODE [--name NAME]  the same through a public link, as a guest (no account)
  chat BOARD [MESSAGE]                     send a message, or chat interactively
Tokens
  token create NAME [--username U] [--password P]   a new token (asks for your password)
  token list | token revoke ID

Options: --server URL (or INKBOARD_SERVER; default http://localhost:3000), --json,
token from INKBOARD_TOKEN or the saved login.`;

/** Commands that need a token (signup and login are handled before). */
const COMMANDS = new Set(['logout', 'password', 'boards', 'draw', 'export', 'watch', 'chat', 'token', 'history', 'restore']);

/** A failure the user can act on: printed as one line, exit code 1. */
class CliError extends Error {}

const WS = WebSocket as unknown as typeof globalThis.WebSocket;

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      server: { type: 'string' },
      json: { type: 'boolean', default: false },
      username: { type: 'string' },
      password: { type: 'string' },
      'new-password': { type: 'string' },
      everywhere: { type: 'boolean', default: false },
      format: { type: 'string' },
      out: { type: 'string' },
      scale: { type: 'string' },
      at: { type: 'string' },
      limit: { type: 'string' },
      name: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [given, ...args] = positionals;
  const command = given === 'signout' ? 'logout' : given === 'signin' ? 'login' : given;
  if (!command || values.help) {
    console.log(USAGE);
    return;
  }
  const saved = readLogin();
  const server = (values.server ?? process.env.INKBOARD_SERVER ?? saved?.server ?? 'http://localhost:3000').replace(/\/+$/, '');
  const json = values.json ?? false;
  // Titles, names and chat come from other people: never let them drive the terminal.
  const print = (human: string, data: unknown) => console.log(json ? terminalJson(data, 2) : terminalSafe(human, true));

  if (command === 'signup' || command === 'login') {
    const { username, password } = await credentials(values.username, values.password);
    const login = await signInForToken(server, username, password, command === 'signup', `inkboard CLI on ${hostname()}`);
    const path = saveLogin({ server, token: login.token, tokenId: login.tokenId, username: login.username });
    print(`${command === 'signup' ? 'Created account' : 'Signed in as'} ${login.username}; token saved to ${path}`, { username: login.username, config: path });
    return;
  }

  // A token cannot create tokens: a new one takes the password (a session just for this).
  if (command === 'token' && args[0] === 'create') {
    const name = need(args[1], 'NAME');
    const { username, password } = await credentials(values.username ?? (saved?.server === server ? saved.username : undefined), values.password);
    const created = await signInForToken(server, username, password, false, name);
    print(`${created.token}\n(shown once: store it now; id ${created.tokenId})`, { id: created.tokenId, name, token: created.token });
    return;
  }

  // A public link (issue 18): watch as a guest, no account or token needed.
  if (command === 'watch' && args[0] && /\/g\/[A-Za-z0-9_-]{10,}/.test(args[0])) {
    const joined = await joinAsGuest(args[0], values.name ?? `CLI guest on ${hostname()}`.slice(0, 60), { WebSocket: WS, ...(values.server ? { url: server } : {}) });
    await run('watch', [joined.boardId], { client: joined.client, server, token: joined.token, json, print, values, saved });
    return;
  }

  // Before asking for a login: a typo should not be answered with "Not signed in".
  if (!COMMANDS.has(command)) throw new CliError(`Unknown command "${command}". See "inkboard --help".`);
  const token = process.env.INKBOARD_TOKEN ?? (saved && saved.server === server ? saved.token : undefined);
  if (!token) throw new CliError(`Not signed in to ${server}: run "inkboard login" or set INKBOARD_TOKEN.`);
  const client = createInkboardClient({ url: server, token, WebSocket: WS });
  try {
    await run(command, args, { client, server, token, json, print, values, saved });
  } finally {
    if (command !== 'watch' && command !== 'chat') await client.close();
  }
}

interface Ctx {
  client: InkboardClient;
  server: string;
  token: string;
  json: boolean;
  print(human: string, data: unknown): void;
  values: { format?: string; out?: string; scale?: string; at?: string; limit?: string; password?: string; 'new-password'?: string; everywhere?: boolean };
  saved: ReturnType<typeof readLogin>;
}

function need(value: string | undefined, what: string): string {
  if (!value) throw new CliError(`Missing ${what}. See "inkboard --help".`);
  return value;
}

async function run(command: string, args: string[], ctx: Ctx): Promise<void> {
  const { client, print } = ctx;
  switch (command) {
    case 'logout': {
      if (ctx.values.everywhere) {
        const ended = await client.trpc.auth.signOutEverywhere.mutate();
        forgetLogin();
        print(`Signed out everywhere: ${ended.endedSessions} session(s) ended and ${ended.revokedTokens} API token(s) revoked (this one too).`, { ok: true, ...ended });
        return;
      }
      const revoked = ctx.saved
        ? await client.trpc.token.revoke.mutate({ tokenId: ctx.saved.tokenId }).then(
            () => true,
            () => false,
          )
        : false;
      forgetLogin();
      print(
        revoked ? 'Signed out; the saved token is revoked and forgotten.' : 'Forgot the saved token, but could not revoke it on the server: revoke it with "inkboard token revoke" or from the web app.',
        { ok: true, revoked },
      );
      return;
    }
    case 'boards': {
      const [sub, id, ...rest] = args;
      if (!sub) {
        const boards = await client.trpc.board.list.query();
        const rows = boards.map((b) => [b.id, b.title, b.role, `${b.elementCount}`, ago(b.updatedAt)]);
        print(boards.length ? table([['ID', 'TITLE', 'ROLE', 'ELEMENTS', 'CHANGED'], ...rows]) : 'No boards yet: inkboard boards create "My board"', boards.map(({ thumbnail: _t, ...b }) => b));
      } else if (sub === 'create') {
        const board = await client.trpc.board.create.mutate({ title: need([id, ...rest].filter(Boolean).join(' '), 'TITLE') });
        print(board.id, board);
      } else if (sub === 'rename') {
        const board = await client.trpc.board.rename.mutate({ boardId: need(id, 'board ID'), title: need(rest.join(' '), 'TITLE') });
        print(`Renamed ${board.id} to "${board.title}"`, board);
      } else if (sub === 'rm') {
        await client.trpc.board.delete.mutate({ boardId: need(id, 'board ID') });
        print(`Deleted ${id}`, { id, deleted: true });
      } else throw new CliError(`Unknown "boards ${sub}". Try: boards, boards create, boards rename, boards rm.`);
      return;
    }
    case 'draw': {
      const boardId = need(args[0], 'BOARD');
      const file = need(args[1], 'FILE.json');
      let inputs: unknown;
      try {
        inputs = JSON.parse(readFileSync(file, 'utf8'));
      } catch (err) {
        throw new CliError(`Cannot read ${file}: ${(err as Error).message}`);
      }
      if (!Array.isArray(inputs)) throw new CliError(`${file} must contain a JSON array of elements.`);
      // Images naming a local file ("file": "./photo.jpg", relative to FILE.json) are uploaded first.
      try {
        inputs = await uploadImageInputs({ url: ctx.server, token: ctx.token }, boardId, inputs, (path) => readFile(resolvePath(dirname(file), path)));
      } catch (err) {
        throw new CliError((err as Error).message);
      }
      const { elements, seq } = await addElements(client, boardId, inputs as unknown[]);
      print(`Added ${elements.length} element${elements.length === 1 ? '' : 's'} to ${boardId} (seq ${seq})`, { added: elements.map((e) => e.id), seq });
      return;
    }
    case 'export': {
      const boardId = need(args[0], 'BOARD');
      const format = ctx.values.format ?? 'svg';
      if (format !== 'svg' && format !== 'png' && format !== 'json') throw new CliError('--format must be svg, png or json.');
      const bytes = ctx.values.at
        ? await exportAt(client, { url: ctx.server, token: ctx.token }, boardId, ctx.values.at, format, ctx.values.scale ? Number(ctx.values.scale) : undefined)
        : format === 'json'
          ? new TextEncoder().encode(`${JSON.stringify((await client.trpc.board.snapshot.query({ boardId })).elements, null, 2)}\n`)
          : await exportBoard({ url: ctx.server, token: ctx.token }, boardId, format, ctx.values.scale ? Number(ctx.values.scale) : undefined);
      if (ctx.values.out) {
        writeFileSync(ctx.values.out, bytes);
        console.error(`Wrote ${bytes.length} bytes to ${ctx.values.out}`);
      } else process.stdout.write(bytes);
      return;
    }
    case 'history':
      await historyCommand(client, need(args[0], 'BOARD'), ctx.values.limit, print);
      return;
    case 'restore':
      await restoreCommand(client, need(args[0], 'BOARD'), need(args[1], 'VERSION or SEQ'), print);
      return;
    case 'watch': {
      const boardId = need(args[0], 'BOARD');
      // Over HTTP first: an unreachable server, a refused token or a missing board fails at once
      // instead of the WebSocket retrying silently.
      await client.trpc.board.byId.query({ boardId });
      // A resume replays missed ops but not chat: after a reconnect, print the messages said
      // meanwhile from the history (newer than the watch's start, not printed yet).
      // (A guest whose link has chat off reads none: nothing to catch up on.)
      const chatFloor = (await client.trpc.chat.history.query({ boardId, limit: 1 }).catch(() => ({ messages: [] as { id: number }[] }))).messages[0]?.id ?? 0;
      const chatPrinted = new Set<number>();
      let subscriptions = 0;
      await new Promise<void>((resolve, reject) => {
        let presence = new Map<string, PresenceEntry>();
        const show = (event: BoardEvent) => {
          if (event.type === 'chat') {
            if (event.message.id <= chatFloor || chatPrinted.has(event.message.id)) return;
            chatPrinted.add(event.message.id);
          }
          if (event.type === 'presence') presence = new Map(event.clients.map((c) => [c.clientId, c]));
          if (event.type === 'join') presence.set(event.client.clientId, event.client);
          if (ctx.json) {
            if (event.type !== 'cursor' && event.type !== 'preview') console.log(terminalJson(event));
          } else if (event.type === 'snapshot') console.log(`Watching ${boardId}: ${event.elements.length} elements at seq ${event.seq} (Ctrl+C to stop)`);
          else {
            const line = describeEvent(event, presence);
            if (line) console.log(line);
          }
          if (event.type === 'leave') presence.delete(event.clientId);
        };
        const stop = watchBoard(client, boardId, {
          onFrame: (frame) => {
            for (const event of frame.events) show(event);
            // The presence list opens every (re)subscription: catch up on chat after the first.
            if (frame.events.some((e) => e.type === 'presence') && subscriptions++ > 0) {
              void client.trpc.chat.history.query({ boardId, limit: 100 }).then(
                ({ messages }) => messages.reverse().forEach((message) => show({ type: 'chat', message })),
                () => undefined,
              );
            }
          },
          onError: (err) => reject(err),
        });
        process.once('SIGINT', () => {
          stop();
          void client.close().then(resolve);
        });
      });
      return;
    }
    case 'chat': {
      const boardId = need(args[0], 'BOARD');
      if (args.length > 1) {
        const message = await client.trpc.chat.send.mutate({ boardId, text: args.slice(1).join(' ') });
        print(`Sent (#${message.id})`, message);
        await client.close();
        return;
      }
      await runChat(client, boardId);
      return;
    }
    case 'password': {
      const currentPassword = ctx.values.password ?? (await ask('Current password: ', true));
      const newPassword = ctx.values['new-password'] ?? (await ask('New password: ', true));
      const { endedSessions } = await client.trpc.auth.changePassword.mutate({ currentPassword, newPassword });
      print(`Password changed; ${endedSessions} other session(s) signed out. API tokens still work: "inkboard logout --everywhere" ends them too.`, { ok: true, endedSessions });
      return;
    }
    case 'token': {
      const [sub, arg] = args;
      if (sub === 'list') {
        const tokens = await client.trpc.token.list.query();
        const rows = tokens.map((t) => [t.id, t.name, `${t.prefix}…`, ago(t.createdAt), t.lastUsedAt ? ago(t.lastUsedAt) : 'never']);
        print(table([['ID', 'NAME', 'PREFIX', 'CREATED', 'LAST USED'], ...rows]), tokens);
      } else if (sub === 'revoke') {
        await client.trpc.token.revoke.mutate({ tokenId: need(arg, 'token ID') });
        print(`Revoked ${arg}`, { id: arg, revoked: true });
      } else throw new CliError('Try: token create NAME, token list, token revoke ID.');
      return;
    }
    default:
      throw new CliError(`Unknown command "${command}". See "inkboard --help".`);
  }
}

async function credentials(username?: string, password?: string): Promise<{ username: string; password: string }> {
  if (username && password) return { username, password };
  if (!process.stdin.isTTY) throw new CliError('Pass --username and --password (no terminal to ask on).');
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true });
  try {
    const u = username ?? (await rl.question('Username: '));
    // Hide the password as it is typed.
    const write = (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput;
    const p =
      password ??
      (await (async () => {
        (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = (s: string) => {
          if (s.includes('Password: ')) write.call(rl, s);
        };
        const answer = await rl.question('Password: ');
        (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = write;
        process.stdout.write('\n');
        return answer;
      })());
    return { username: u.trim(), password: p };
  } finally {
    rl.close();
  }
}

/** Asks one question on the terminal; with `hidden`, what is typed is not shown (passwords). */
async function ask(question: string, hidden = false): Promise<string> {
  if (!process.stdin.isTTY) throw new CliError(`No terminal to ask on: pass the ${question.replace(/:\s*$/, '').toLowerCase()} as an option (see "inkboard --help").`);
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true });
  const internals = rl as unknown as { _writeToOutput: (s: string) => void };
  const write = internals._writeToOutput;
  if (hidden) internals._writeToOutput = (s: string) => (s.includes(question) ? write.call(rl, s) : undefined);
  try {
    return await rl.question(question);
  } finally {
    internals._writeToOutput = write;
    if (hidden) process.stdout.write('\n');
    rl.close();
  }
}

/** One line on stderr, exit code 1. */
function fail(err: unknown): never {
  let message: string;
  // A refused connection comes as a TRPCClientError "fetch failed" too: check it first.
  if ((err as NodeJS.ErrnoException)?.code === 'ECONNREFUSED' || /fetch failed/.test(String((err as Error)?.message))) {
    message = 'Cannot reach the server: is it running? Set --server or INKBOARD_SERVER.';
  } else if (err instanceof TRPCClientError) {
    const code = (err.data as { code?: string } | undefined)?.code;
    message = code === 'UNAUTHORIZED' && !/Wrong username/.test(err.message) ? `${err.message} (run "inkboard login" to get a new token)` : err.message;
  } else if (err instanceof VersionError) {
    message = err.message;
  } else if (err instanceof InvalidElementsError) {
    message = `Nothing was added. Invalid elements:\n${err.problems.map((p) => `  element ${p.index}: ${p.reason}`).join('\n')}`;
  } else message = (err as Error)?.message ?? String(err);
  console.error(`inkboard: ${terminalSafe(message, true)}`);
  process.exit(1);
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (err: unknown) => fail(err),
);
