import type { Element, PreviewInput, StrokePoint } from '@inkboard/protocol';

type PreviewMessage = Omit<PreviewInput, 'boardId'>;

interface Outgoing {
  /** The element still to send (first message, or a replacement of a shape). */
  element: Element | null;
  started: boolean;
  append: StrokePoint[];
  done: boolean;
}

/**
 * Sends one's own strokes and shapes while they are drawn, batched per animation frame: the first
 * message carries the element, later ones only the points to append (strokes) or the element again
 * (shapes, moves), and the last one `done`.
 */
export class PreviewSender {
  private readonly outgoing = new Map<string, Outgoing>();
  private frame = 0;

  constructor(private readonly send: (message: PreviewMessage) => void) {}

  /** Starts or replaces the preview of an element. */
  update(element: Element): void {
    const entry = this.outgoing.get(element.id);
    if (entry) {
      entry.element = element;
      entry.append = [];
    } else this.outgoing.set(element.id, { element, started: false, append: [], done: false });
    this.schedule();
  }

  /** Adds points to a stroke whose preview started with `update`. */
  append(elementId: string, points: readonly StrokePoint[]): void {
    const entry = this.outgoing.get(elementId);
    if (!entry) return;
    // An element not sent yet takes the points itself.
    if (entry.element?.type === 'stroke') entry.element = { ...entry.element, points: [...entry.element.points, ...points] };
    else entry.append.push(...points);
    this.schedule();
  }

  /** Ends the preview (the committed op follows, or it was cancelled). */
  end(elementId: string): void {
    const entry = this.outgoing.get(elementId);
    if (!entry) return;
    entry.done = true;
    this.schedule();
  }

  dispose(): void {
    cancelAnimationFrame(this.frame);
    this.frame = 0;
    this.outgoing.clear();
  }

  private schedule(): void {
    this.frame ||= requestAnimationFrame(() => this.flush());
  }

  /** Sends what the frame collected; public so a commit can flush before the op goes out. */
  flush(): void {
    cancelAnimationFrame(this.frame);
    this.frame = 0;
    for (const [elementId, entry] of this.outgoing) {
      const message: PreviewMessage = { elementId };
      if (entry.element) message.element = entry.element;
      else if (entry.append.length) message.append = entry.append;
      if (entry.done) {
        // Nothing was ever shown: nothing to end.
        if (!entry.started && !message.element) {
          this.outgoing.delete(elementId);
          continue;
        }
        message.done = true;
        this.outgoing.delete(elementId);
      } else if (!message.element && !message.append) continue;
      entry.started = true;
      entry.element = null;
      entry.append = [];
      this.send(message);
    }
  }
}

/** Calls `send` at most every `ms`, always with the latest value (trailing call included). */
export class Throttle<T> {
  private last = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private value: T | null = null;

  constructor(
    private readonly ms: number,
    private readonly send: (value: T) => void,
  ) {}

  push(value: T): void {
    this.value = value;
    const wait = this.last + this.ms - performance.now();
    if (wait <= 0) this.fire();
    else this.timer ??= setTimeout(() => this.fire(), wait);
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private fire(): void {
    this.timer = null;
    if (this.value === null) return;
    this.last = performance.now();
    const value = this.value;
    this.value = null;
    this.send(value);
  }
}
