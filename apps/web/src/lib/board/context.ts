import { createContext } from 'svelte';
import type { Chat } from '../chat/Chat.svelte.js';
import type { BoardSync } from '../sync/BoardSync.svelte.js';
import type { Versions } from '../versions/Versions.svelte.js';
import type { Editor } from './Editor.svelte.js';
import type { Follow } from './Follow.svelte.js';

/** The open board's state, provided by BoardView to the components inside it. */
export interface BoardContext {
  sync: BoardSync;
  editor: Editor;
  chat: Chat;
  follow: Follow;
  versions: Versions;
}

export const [getBoard, setBoard] = createContext<BoardContext>();
