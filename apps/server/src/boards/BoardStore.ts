import { and, desc, eq, gt, lt, lte, sql } from 'drizzle-orm';
import type { ChatMessage, Element, Op, OpEvent, User } from '@inkboard/protocol';
import { boardMembers, boards, chatMessages, elements, ops, type BoardRow } from '../db/schema.js';
import type { Db } from '../plugins/db.js';

/** An op as stored: the op, its place, its author. */
export interface StoredOp {
  seq: number;
  op: Op;
  author: Pick<User, 'id' | 'name'>;
}

/**
 * All SQL of boards, elements, the op log and chat. Synchronous (better-sqlite3): callers group
 * writes with `transaction`.
 */
export class BoardStore {
  private readonly insertOp;
  private readonly findOpSeq;
  private readonly upsertElement;
  private readonly deleteElement;

  constructor(readonly db: Db) {
    this.insertOp = db
      .insert(ops)
      .values({
        boardId: sql.placeholder('boardId'),
        seq: sql.placeholder('seq'),
        opId: sql.placeholder('opId'),
        authorId: sql.placeholder('authorId'),
        authorName: sql.placeholder('authorName'),
        data: sql.placeholder('data'),
        createdAt: sql.placeholder('createdAt'),
      })
      .prepare();
    this.findOpSeq = db
      .select({ seq: ops.seq })
      .from(ops)
      .where(and(eq(ops.boardId, sql.placeholder('boardId')), eq(ops.opId, sql.placeholder('opId'))))
      .prepare();
    this.upsertElement = db
      .insert(elements)
      .values({ boardId: sql.placeholder('boardId'), id: sql.placeholder('id'), data: sql.placeholder('data') })
      .onConflictDoUpdate({ target: [elements.boardId, elements.id], set: { data: sql`excluded.data` } })
      .prepare();
    this.deleteElement = db
      .delete(elements)
      .where(and(eq(elements.boardId, sql.placeholder('boardId')), eq(elements.id, sql.placeholder('id'))))
      .prepare();
  }

  /** Runs `fn` in one SQLite transaction (one fsync at commit). */
  transaction<T>(fn: () => T): T {
    return this.db.$client.transaction(fn)();
  }

  /** Creates a board and makes `ownerId` its owner member, in one transaction. */
  createBoard(id: string, title: string, ownerId: string, now = Date.now()): BoardRow {
    return this.transaction(() => {
      const row = this.db.insert(boards).values({ id, title, ownerId, createdAt: now, updatedAt: now }).returning().get();
      this.db.insert(boardMembers).values({ boardId: id, userId: ownerId, role: 'owner', createdAt: now }).run();
      return row;
    });
  }

  getBoard(id: string): BoardRow | undefined {
    return this.db.select().from(boards).where(eq(boards.id, id)).get();
  }

  renameBoard(id: string, title: string): void {
    this.db.update(boards).set({ title, updatedAt: Date.now() }).where(eq(boards.id, id)).run();
  }

  deleteBoard(id: string): void {
    this.db.delete(boards).where(eq(boards.id, id)).run();
  }

  loadElements(boardId: string): Element[] {
    return this.db
      .select({ data: elements.data })
      .from(elements)
      .where(eq(elements.boardId, boardId))
      .all()
      .map((r) => JSON.parse(r.data) as Element);
  }

  /** The seq at which `opId` was applied on the board, if it is still in the log. */
  seqOfOp(boardId: string, opId: string): number | undefined {
    return this.findOpSeq.get({ boardId, opId })?.seq;
  }

  /** Appends an applied op to the log and brings the element rows to `after` for what it touched. */
  writeOp(boardId: string, stored: StoredOp, after: ReadonlyMap<string, Element>, now: number): void {
    const { op, seq, author } = stored;
    this.insertOp.run({ boardId, seq, opId: op.opId, authorId: author.id, authorName: author.name, data: JSON.stringify(op), createdAt: now });
    switch (op.type) {
      case 'add':
        for (const el of op.elements) this.upsertElement.run({ boardId, id: el.id, data: JSON.stringify(el) });
        break;
      case 'update':
        for (const id of new Set(op.updates.map((u) => u.id))) {
          const el = after.get(id);
          if (el) this.upsertElement.run({ boardId, id, data: JSON.stringify(el) });
        }
        break;
      case 'delete':
        for (const id of op.ids) this.deleteElement.run({ boardId, id });
        break;
      case 'clear':
        this.db.delete(elements).where(eq(elements.boardId, boardId)).run();
        break;
    }
  }

  setBoardSeq(boardId: string, seq: number, elementCount: number, now: number): void {
    this.db.update(boards).set({ seq, elementCount, updatedAt: now }).where(eq(boards.id, boardId)).run();
  }

  /** Forgets ops at or below `seq` (clients behind it resume from a snapshot). */
  trimOps(boardId: string, seq: number): void {
    this.db.delete(ops).where(and(eq(ops.boardId, boardId), lte(ops.seq, seq))).run();
  }

  /** Lowest seq still in the log, or undefined when the log is empty. */
  oldestOpSeq(boardId: string): number | undefined {
    return this.db
      .select({ seq: sql<number>`min(${ops.seq})` })
      .from(ops)
      .where(eq(ops.boardId, boardId))
      .get()?.seq ?? undefined;
  }

  /** Ops after `seq`, in order. */
  opsAfter(boardId: string, seq: number): OpEvent[] {
    return this.db
      .select()
      .from(ops)
      .where(and(eq(ops.boardId, boardId), gt(ops.seq, seq)))
      .orderBy(ops.seq)
      .all()
      .map((r) => ({ type: 'op' as const, seq: r.seq, author: { id: r.authorId, name: r.authorName }, op: JSON.parse(r.data) as Op }));
  }

  addChatMessage(boardId: string, user: Pick<User, 'id' | 'name' | 'color'>, text: string, now = Date.now()): ChatMessage {
    const row = this.db
      .insert(chatMessages)
      .values({ boardId, userId: user.id, userName: user.name, userColor: user.color, text, createdAt: now })
      .returning()
      .get();
    return toChatMessage(row);
  }

  /** Newest first: up to `limit` messages older than `before` (or the newest). */
  chatHistory(boardId: string, limit: number, before?: number): ChatMessage[] {
    const where = before === undefined ? eq(chatMessages.boardId, boardId) : and(eq(chatMessages.boardId, boardId), lt(chatMessages.id, before));
    return this.db.select().from(chatMessages).where(where).orderBy(desc(chatMessages.id)).limit(limit).all().map(toChatMessage);
  }
}

function toChatMessage(row: typeof chatMessages.$inferSelect): ChatMessage {
  return {
    id: row.id,
    boardId: row.boardId,
    user: { id: row.userId, name: row.userName, color: row.userColor },
    text: row.text,
    createdAt: row.createdAt,
  };
}
