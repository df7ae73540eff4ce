import { elementSchema, idSchema, LIMITS, stripControlCharacters, unionBounds, type Element, type Text } from '@inkboard/protocol';

/** The wrapper of copied elements in the clipboard's text/plain (like Excalidraw's "excalidraw/clipboard"). */
export const CLIPBOARD_TYPE = 'inkboard/clipboard';

/** What the clipboard holds, once read: our elements (with the board they were copied on, when known), or some other text. */
export type Clipboard = { kind: 'elements'; elements: Element[]; source?: string } | { kind: 'text'; text: string };

/**
 * The clipboard text for copied elements (paint order kept). `source` is the board they come from:
 * pasted on another board, their images are read from it and uploaded there.
 */
export function serializeClipboard(elements: readonly Element[], source?: string): string {
  return JSON.stringify({ type: CLIPBOARD_TYPE, version: 1, ...(source ? { source } : {}), elements });
}

/**
 * Reads clipboard text: elements copied from any board or tab (each checked against the protocol's
 * schema; ones that fail are left out), or plain text. Null when there is nothing to paste.
 */
export function parseClipboard(text: string): Clipboard | null {
  const trimmed = text.trim();
  if (!trimmed) return null;
  if (trimmed.startsWith('{') && trimmed.includes(CLIPBOARD_TYPE)) {
    try {
      const data: unknown = JSON.parse(trimmed);
      if (data && typeof data === 'object' && 'type' in data && data.type === CLIPBOARD_TYPE) {
        const raw = 'elements' in data && Array.isArray(data.elements) ? (data.elements as unknown[]) : [];
        const elements = raw.slice(0, LIMITS.elementsPerOp).flatMap((e) => {
          const parsed = elementSchema.safeParse(e);
          return parsed.success ? [parsed.data] : [];
        });
        if (!elements.length) return null;
        const parsedSource = idSchema.safeParse('source' in data ? data.source : undefined);
        const source = parsedSource.success ? parsedSource.data : undefined;
        return source ? { kind: 'elements', elements, source } : { kind: 'elements', elements };
      }
    } catch {
      // Not our JSON after all: pasted as text.
    }
  }
  return { kind: 'text', text };
}

/**
 * How far to move pasted elements: centred on `at` (the pointer, in world coordinates) when given,
 * else a step down and right of where they were copied (so a paste never hides the original).
 */
export function pasteOffset(elements: readonly Element[], at: { x: number; y: number } | null, step = 20): [number, number] {
  const box = unionBounds(elements);
  if (!at || !box) return [step, step];
  return [Math.round(at.x - (box.minX + box.maxX) / 2), Math.round(at.y - (box.minY + box.maxY) / 2)];
}

/** A text element for pasted plain text (control characters dropped, cut to the longest text allowed); null when blank. */
export function textFromPaste(
  text: string,
  at: { x: number; y: number },
  style: { strokeColor: string; fontSize: number },
  ids: { id: string; z: string },
): Text | null {
  const value = stripControlCharacters(text.replace(/\r\n?/g, '\n')).replace(/\s+$/, '').slice(0, LIMITS.textLength);
  if (!value.trim()) return null;
  return { type: 'text', id: ids.id, z: ids.z, x: Math.round(at.x), y: Math.round(at.y), strokeColor: style.strokeColor, strokeWidth: 2, opacity: 1, text: value, fontSize: style.fontSize };
}
