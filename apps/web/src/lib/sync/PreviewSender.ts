import { LIMITS, pointsOf, type Element, type PreviewInput, type StrokePoint } from '@inkboard/protocol';

type PreviewMessage = Omit<PreviewInput, 'boardId'>;

interface Outgoing {
  /** The element still to send (first message, or a replacement of a shape). */
  element: Element | null;
  started: boolean;
  append: StrokePoint[];
  done: boolean;
  /** Points the receivers will hold once everything queued is sent (capped at a stroke's points). */
  total: number;
}

/** Points of previews sent a second: below the server's bucket (LIMITS.previewPointsPerSecond), which other tabs share. */
const POINTS_PER_SECOND = LIMITS.previewPointsPerSecond * 0.8;
const POINTS_BURST = 2 * POINTS_PER_SECOND;

/**
 * Sends one's own strokes and shapes while they are drawn, batched per animation frame: the first
 * message carries the element, later ones only the points to append (strokes) or the element again
 * (shapes, moves), and the last one `done`. It keeps to the server's preview budgets, so nothing it
 * sends is refused: at most LIMITS.pointsPerPreview points a message (a longer element goes as its
 * first points, the rest appended), a preview stroke stops growing at LIMITS.pointsPerStroke (the
 * committed stroke is still sent whole, by its op), and points go out at a steady rate: past it, a
 * frame's points wait for a later frame (a replaced element keeps only its latest version).
 */
export class PreviewSender {
  private readonly outgoing = new Map<string, Outgoing>();
  private frame = 0;
  private tokens = POINTS_BURST;
  private refilledAt = performance.now();

  constructor(private readonly send: (message: PreviewMessage) => void) {}

  /** Starts or replaces the preview of an element. */
  update(element: Element): void {
    const entry = this.outgoing.get(element.id);
    const total = Math.min(pointsOf(element), LIMITS.pointsPerStroke);
    if (entry) {
      entry.element = element;
      entry.append = [];
      entry.total = total;
    } else this.outgoing.set(element.id, { element, started: false, append: [], done: false, total });
    this.schedule();
  }

  /** Adds points to a stroke whose preview started with `update`; past a stroke's points, no more are previewed. */
  append(elementId: string, points: readonly StrokePoint[]): void {
    const entry = this.outgoing.get(elementId);
    if (!entry || entry.done) return;
    const room = LIMITS.pointsPerStroke - entry.total;
    if (room <= 0 || !points.length) return;
    const added = points.length > room ? points.slice(0, room) : points;
    entry.total += added.length;
    // An element not sent yet takes the points itself.
    if (entry.element?.type === 'stroke') entry.element = { ...entry.element, points: [...entry.element.points, ...added] };
    else entry.append.push(...added);
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

  /** Takes `points` from the budget when it holds them. */
  private spend(points: number): boolean {
    const now = performance.now();
    this.tokens = Math.min(POINTS_BURST, this.tokens + ((now - this.refilledAt) / 1000) * POINTS_PER_SECOND);
    this.refilledAt = now;
    if (points > this.tokens) return false;
    this.tokens -= points;
    return true;
  }

  /** Sends what the frame collected; public so a commit can flush before the op goes out. */
  flush(): void {
    cancelAnimationFrame(this.frame);
    this.frame = 0;
    let waiting = false;
    for (const [elementId, entry] of this.outgoing) {
      const message: PreviewMessage = { elementId };
      let rest: StrokePoint[] = [];
      if (entry.element) {
        let element = entry.element;
        if (element.type === 'stroke' && element.points.length > LIMITS.pointsPerPreview) {
          // The first points now, the others appended after it.
          rest = element.points.slice(LIMITS.pointsPerPreview);
          element = { ...element, points: element.points.slice(0, LIMITS.pointsPerPreview) };
        }
        if (pointsOf(element) <= LIMITS.pointsPerPreview) message.element = element;
      } else if (entry.append.length) {
        message.append = entry.append.slice(0, LIMITS.pointsPerPreview);
      }
      const points = (message.element ? pointsOf(message.element) : 0) + (message.append?.length ?? 0);
      const affordable = points === 0 || this.spend(points);
      if (entry.done && (!affordable || rest.length || entry.append.length > (message.append?.length ?? 0))) {
        // Ending: what did not go out yet is dropped (the committed op shows the whole element).
        delete message.element;
        delete message.append;
      } else if (!affordable) {
        waiting = true;
        continue;
      }
      if (entry.done) {
        // Nothing was ever shown: nothing to end.
        if (!entry.started && !message.element) {
          this.outgoing.delete(elementId);
          continue;
        }
        message.done = true;
        this.outgoing.delete(elementId);
      } else if (!message.element && !message.append) {
        // Nothing to send (e.g. a line longer than a message may carry is not previewed).
        entry.element = null;
        continue;
      }
      entry.started = true;
      if (message.element) {
        entry.element = null;
        entry.append = message.element.type === 'stroke' ? [...rest, ...entry.append] : [];
      } else if (message.append) entry.append = entry.append.slice(message.append.length);
      if (entry.append.length) waiting = true;
      this.send(message);
    }
    if (waiting) this.schedule();
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
