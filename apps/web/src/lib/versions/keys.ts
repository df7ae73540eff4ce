/** What the board page does with a key after the History panel saw it. */
export type KeyOutcome =
  /** The panel took it: the board's shortcuts do not see it, its default is prevented. */
  | 'taken'
  /** Nobody takes it (a board edit while a version is previewed): the board's shortcuts do not see it. */
  | 'ignored'
  /** The board's shortcuts decide (board/shortcuts.ts). */
  | 'board';

export interface VersionKeyState {
  open: boolean;
  previewing: boolean;
  /** Something on the board would take Escape first (a selection, a text being typed). */
  boardUsesEscape: boolean;
}

function typingInField(target: EventTarget | null): boolean {
  return typeof HTMLElement !== 'undefined' && target instanceof HTMLElement && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
}

export type VersionKeyAction = 'toggle' | 'end-preview' | 'close' | null;

/**
 * Ctrl+Shift+H opens and closes History; Escape ends a preview, then closes the panel. While a
 * version is previewed only the camera's keys reach the board (zoom, fit, pan with Space).
 */
export function versionKey(state: VersionKeyState, e: Pick<KeyboardEvent, 'key' | 'code' | 'ctrlKey' | 'metaKey' | 'shiftKey' | 'altKey' | 'target'>): { outcome: KeyOutcome; action: VersionKeyAction } {
  if (typingInField(e.target)) return { outcome: 'board', action: null };
  const mod = e.ctrlKey || e.metaKey;
  const key = e.key.toLowerCase();
  if (mod && e.shiftKey && !e.altKey && key === 'h') return { outcome: 'taken', action: 'toggle' };
  if (key === 'escape') {
    if (state.previewing) return { outcome: 'taken', action: 'end-preview' };
    if (state.open && !state.boardUsesEscape) return { outcome: 'taken', action: 'close' };
    return { outcome: 'board', action: null };
  }
  if (!state.previewing) return { outcome: 'board', action: null };
  const camera = key === ' ' || (mod && ['=', '+', '-', '0'].includes(key)) || (!mod && e.shiftKey && (e.code === 'Digit1' || e.code === 'Digit2'));
  return { outcome: camera ? 'board' : 'ignored', action: null };
}
