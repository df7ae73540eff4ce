import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { z } from 'zod';

const savedSchema = z.object({
  server: z.string(),
  token: z.string(),
  tokenId: z.string(),
  username: z.string(),
});
export type SavedLogin = z.infer<typeof savedSchema>;

/** `$XDG_CONFIG_HOME/inkboard/config.json` (default `~/.config/inkboard/config.json`). */
export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'inkboard', 'config.json');
}

export function readLogin(env: NodeJS.ProcessEnv = process.env): SavedLogin | null {
  try {
    const parsed = savedSchema.safeParse(JSON.parse(readFileSync(configPath(env), 'utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** Saves the login readable by the user only (mode 0600): it holds a token. */
export function saveLogin(login: SavedLogin, env: NodeJS.ProcessEnv = process.env): string {
  const path = configPath(env);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, `${JSON.stringify(login, null, 2)}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
  return path;
}

export function forgetLogin(env: NodeJS.ProcessEnv = process.env): void {
  rmSync(configPath(env), { force: true });
}
