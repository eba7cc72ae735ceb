// An in-memory imitation of the MongoDB driver calls the adapter makes, with MongoDB's
// transaction semantics as documented ("In-progress Transactions and Write Conflicts"):
// snapshot reads, a write to a document changed after the snapshot or written by another
// open transaction fails with a WriteConflict labelled TransientTransactionError, a write
// outside any transaction to a document an open transaction has written waits until that
// transaction ends, and an aborted transaction leaves nothing behind. Documents go through
// BSON as on the wire. Used by test/unit/mongodb-ledger.test.ts and mongodb-outbox.test.ts;
// the real thing is test/contract/mongodb.contract.test.ts (needs MONGODB_URI).
import { AsyncLocalStorage } from 'node:async_hooks';
import { BSON, Long, MongoError, MongoServerError, type ClientSession, type Document } from 'mongodb';
import type { MongoCollections } from '../../src/adapters/mongodb/mongo-collections';
import type { SessionSource } from '../../src/adapters/mongodb/mongo-transaction';


type Doc = Document & { _id: string };
/** `doc`: the bytes parsed once, shared by every read (never handed out: callers get their own copy). */
interface Version { ts: number; bytes: Buffer | null; doc?: Doc }
interface Txn { id: number; startTs: number; ended?: boolean; staged: Map<string, { coll: FakeCollection; id: string; bytes: Buffer | null }> }
export interface OpRecord { coll: string; op: string; filter?: Document; update?: Document; txn?: number }

const toBytes = (d: Doc): Buffer => Buffer.from(BSON.serialize(d));
const fromBytes = (b: Buffer): Doc => BSON.deserialize(b, { promoteLongs: false }) as Doc;
/** What a caller gets: its own copy, as off the wire. */
const handOut = <D extends Doc | null>(d: D): D => (d ? (fromBytes(toBytes(d)) as D) : d);
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
const writeConflict = (): MongoServerError =>
  new MongoServerError({ code: 112, codeName: 'WriteConflict', errmsg: 'WriteConflict', errorLabels: ['TransientTransactionError'] });
const duplicateKey = (): MongoServerError => new MongoServerError({ code: 11000, codeName: 'DuplicateKey', errmsg: 'E11000 duplicate key error' });

const asInteger = (x: unknown): bigint | undefined =>
  Long.isLong(x) ? x.toBigInt() : typeof x === 'bigint' ? x : typeof x === 'number' && Number.isInteger(x) ? BigInt(x) : undefined;
/** Order of two values of one comparable type; undefined across types (a filter never matches those). */
const compare = (a: unknown, b: unknown): number | undefined => {
  const [ia, ib] = [asInteger(a), asInteger(b)];
  if (ia !== undefined && ib !== undefined) return ia < ib ? -1 : ia > ib ? 1 : 0;
  if (a instanceof Date && b instanceof Date) return Math.sign(a.getTime() - b.getTime());
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  return undefined;
};
const isOperators = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date) && !Long.isLong(v) &&
  Object.keys(v).length > 0 && Object.keys(v).every((k) => k.startsWith('$'));

const matchValue = (value: unknown, cond: unknown): boolean => {
  if (Array.isArray(value) && !Array.isArray(cond)) return value.some((v) => matchValue(v, cond));
  // Equality with null matches a null and a missing field alike (MongoDB's rule).
  if (cond === null) return value === null || value === undefined;
  if (!isOperators(cond)) return compare(value, cond) === 0;
  return Object.entries(cond).every(([op, arg]) => {
    // A missing field is not null for $exists.
    if (op === '$exists') return (value !== undefined) === Boolean(arg);
    if (op === '$in') return (arg as unknown[]).some((x) => matchValue(value, x));
    const c = compare(value, arg);
    switch (op) {
      case '$eq': return c === 0;
      case '$lt': return c !== undefined && c < 0;
      case '$lte': return c !== undefined && c <= 0;
      case '$gt': return c !== undefined && c > 0;
      case '$gte': return c !== undefined && c >= 0;
      default: throw new Error(`the imitation does not know ${op}`);
    }
  });
};
const matches = (doc: Doc, filter: Document): boolean =>
  Object.entries(filter).every(([k, cond]) => {
    if (k === '$or') return (cond as Document[]).some((f) => matches(doc, f));
    if (k === '$and') return (cond as Document[]).every((f) => matches(doc, f));
    if (k.startsWith('$') || k.includes('.')) throw new Error(`the imitation does not know ${k}`);
    return matchValue(doc[k], cond);
  });

const applyUpdate = (doc: Doc, update: Document, inserting: boolean): Doc => {
  const out: Doc = { ...doc };
  for (const [op, fields] of Object.entries(update)) {
    for (const [k, v] of Object.entries(fields as Document)) {
      if (k.includes('.') || k === '_id') throw new Error(`the imitation does not update ${k}`);
      switch (op) {
        case '$set': out[k] = v; break;
        case '$unset': delete out[k]; break;
        case '$setOnInsert': if (inserting) out[k] = v; break;
        case '$inc': {
          const cur = out[k];
          out[k] = cur === undefined ? v : Long.isLong(cur) || Long.isLong(v) ? Long.fromBigInt((asInteger(cur) ?? 0n) + (asInteger(v) ?? 0n)) : (cur as number) + (v as number);
          break;
        }
        default: throw new Error(`the imitation does not know ${op}`);
      }
    }
  }
  return out;
};

export class FakeCollection {
  readonly versions = new Map<string, Version[]>();
  constructor(readonly db: FakeMongo, readonly name: string) {}

  private key(id: string): string { return `${this.name}\u0000${id}`; }
  private latest(id: string): Version | undefined { const v = this.versions.get(id); return v?.[v.length - 1]; }
  private visible(id: string, txn: Txn | undefined): Doc | null {
    const staged = txn?.staged.get(this.key(id));
    if (staged) return staged.bytes ? fromBytes(staged.bytes) : null;
    const vs = this.versions.get(id) ?? [];
    for (let i = vs.length - 1; i >= 0; i--) {
      const v = vs[i] as Version;
      if (!txn || v.ts <= txn.startTs) return v.bytes ? (v.doc ??= fromBytes(v.bytes)) : null;
    }
    return null;
  }
  private all(txn: Txn | undefined): Doc[] {
    const ids = new Set([...this.versions.keys()]);
    for (const s of txn?.staged.values() ?? []) if (s.coll === this) ids.add(s.id);
    return [...ids].map((id) => this.visible(id, txn)).filter((d): d is Doc => d !== null);
  }
  /** The documents a filter can match: by `_id` straight away (as the server's _id index does), else all of them. */
  private candidates(filter: Document, txn: Txn | undefined): Doc[] {
    if (typeof filter._id !== 'string') return this.all(txn);
    const doc = this.visible(filter._id, txn);
    return doc ? [doc] : [];
  }
  /** A write as MongoDB does it: conflict inside a transaction, immediate outside (after waiting for locks). */
  private write(id: string, doc: Doc | null, txn: Txn | undefined): void {
    const key = this.key(id);
    const bytes = doc ? toBytes(doc) : null;
    if (!txn) {
      this.versions.set(id, [...(this.versions.get(id) ?? []), { ts: ++this.db.clock, bytes }]);
      return;
    }
    const holder = this.db.locks.get(key);
    if ((holder && holder !== txn) || (this.latest(id)?.ts ?? 0) > txn.startTs) throw writeConflict();
    this.db.locks.set(key, txn);
    txn.staged.set(key, { coll: this, id, bytes });
  }
  commit(id: string, bytes: Buffer | null, ts: number): void {
    this.versions.set(id, [...(this.versions.get(id) ?? []), { ts, bytes }]);
  }

  /** Every call: which transaction it belongs to; a call without the session inside a transaction body is a bug. */
  private async enter(op: string, opts: { session?: ClientSession } | undefined, filter?: Document, update?: Document): Promise<Txn | undefined> {
    const txn = (opts?.session as unknown as FakeSession | undefined)?.txn;
    if (!txn && this.db.als.getStore()?.ended === false) throw new Error(`${this.name}.${op} called without the session inside a transaction`);
    if (opts?.session && !txn) throw new Error(`${this.name}.${op} called with a session that has no transaction`);
    const rec: OpRecord = { coll: this.name, op, ...(filter && { filter }), ...(update && { update }), ...(txn && { txn: txn.id }) };
    this.db.log.push(rec);
    await tick();
    return txn;
  }
  /** Outside a transaction, a write to a document an open transaction has written waits for it to end. */
  private async unlocked(id: unknown, txn: Txn | undefined): Promise<void> {
    if (txn) return;
    if (typeof id !== 'string') throw new Error('the imitation needs an _id for a write outside a transaction');
    while (this.db.locks.has(this.key(id))) await tick();
  }
  private async afterOp(rec: OpRecord): Promise<void> {
    const hook = this.db.hook;
    if (hook) await this.db.als.exit(() => hook(rec));
  }

  private async insert(doc: Doc, txn: Txn | undefined): Promise<void> {
    await this.unlocked(doc._id, txn);
    const holder = this.db.locks.get(this.key(doc._id));
    if (txn && holder && holder !== txn) throw writeConflict();
    if (this.visible(doc._id, txn)) throw duplicateKey();
    this.write(doc._id, doc, txn);
  }

  async insertOne(doc: Doc, opts?: { session?: ClientSession }): Promise<{ insertedId: string }> {
    const txn = await this.enter('insertOne', opts, { _id: doc._id });
    const rec = this.db.log[this.db.log.length - 1] as OpRecord;
    await this.insert(doc, txn);
    await this.afterOp(rec);
    return { insertedId: doc._id };
  }

  /** Ordered, as the driver's default: the documents in turn, stopping at the first error. */
  async insertMany(docs: Doc[], opts?: { session?: ClientSession }): Promise<{ insertedCount: number }> {
    const txn = await this.enter('insertMany', opts, { _id: { $in: docs.map((d) => d._id) } });
    const rec = this.db.log[this.db.log.length - 1] as OpRecord;
    for (const doc of docs) await this.insert(doc, txn);
    await this.afterOp(rec);
    return { insertedCount: docs.length };
  }

  /**
   * A multi-document write is not atomic as a whole: each matching document is its own
   * atomic step, with other calls interleaving between them, and (outside a transaction)
   * waits for an open transaction that wrote it, then is matched against the filter again.
   */
  private async eachMatching(filter: Document, txn: Txn | undefined, write: (doc: Doc) => void): Promise<number> {
    let matched = 0;
    for (const seen of this.candidates(filter, txn).filter((d) => matches(d, filter))) {
      await tick();
      await this.unlocked(seen._id, txn);
      const doc = this.visible(seen._id, txn);
      if (!doc || !matches(doc, filter)) continue;
      write(doc);
      matched += 1;
    }
    return matched;
  }

  async updateMany(filter: Document, update: Document, opts?: { session?: ClientSession }) {
    const txn = await this.enter('updateMany', opts, filter, update);
    const rec = this.db.log[this.db.log.length - 1] as OpRecord;
    const matched = await this.eachMatching(filter, txn, (doc) => this.write(doc._id, applyUpdate(doc, update, false), txn));
    await this.afterOp(rec);
    return { acknowledged: true, matchedCount: matched, modifiedCount: matched, upsertedCount: 0 };
  }

  async deleteMany(filter: Document, opts?: { session?: ClientSession }) {
    const txn = await this.enter('deleteMany', opts, filter);
    const rec = this.db.log[this.db.log.length - 1] as OpRecord;
    const deleted = await this.eachMatching(filter, txn, (doc) => this.write(doc._id, null, txn));
    await this.afterOp(rec);
    return { acknowledged: true, deletedCount: deleted };
  }

  async countDocuments(filter: Document, opts?: { session?: ClientSession }): Promise<number> {
    const txn = await this.enter('countDocuments', opts, filter);
    const rec = this.db.log[this.db.log.length - 1] as OpRecord;
    const n = this.all(txn).filter((d) => matches(d, filter)).length;
    await this.afterOp(rec);
    return n;
  }

  async findOne(filter: Document, opts?: { session?: ClientSession }): Promise<Doc | null> {
    const txn = await this.enter('findOne', opts, filter);
    const rec = this.db.log[this.db.log.length - 1] as OpRecord;
    const found = this.candidates(filter, txn).find((d) => matches(d, filter)) ?? null;
    await this.afterOp(rec);
    return handOut(found);
  }

  find(filter: Document, opts?: { session?: ClientSession }) {
    let sortSpec: Record<string, 1 | -1> = {};
    let limit = Infinity;
    const cursor = {
      sort: (s: Record<string, 1 | -1>) => { sortSpec = s; return cursor; },
      // As the server reads it: 0 is no limit at all, a negative one a single batch of |n|.
      limit: (n: number) => { limit = n === 0 ? Infinity : Math.abs(n); return cursor; },
      toArray: async (): Promise<Doc[]> => {
        const txn = await this.enter('find', opts, filter);
        const rec = this.db.log[this.db.log.length - 1] as OpRecord;
        const docs = this.all(txn).filter((d) => matches(d, filter));
        docs.sort((a, b) => {
          for (const [k, dir] of Object.entries(sortSpec)) {
            const c = compare(a[k], b[k]) ?? 0;
            if (c !== 0) return c * dir;
          }
          return 0;
        });
        await this.afterOp(rec);
        return docs.slice(0, limit).map(handOut);
      },
    };
    return cursor;
  }

  private async modify(
    op: string, filter: Document, update: Document, opts: { session?: ClientSession; upsert?: boolean } | undefined,
  ): Promise<{ before: Doc | null; after: Doc | null; rec: OpRecord }> {
    const txn = await this.enter(op, opts, filter, update);
    const rec = this.db.log[this.db.log.length - 1] as OpRecord;
    await this.unlocked(filter._id, txn);
    const before = this.candidates(filter, txn).find((d) => matches(d, filter)) ?? null;
    if (before) {
      const after = applyUpdate(before, update, false);
      if (Buffer.from(BSON.serialize(after)).equals(Buffer.from(BSON.serialize(before)))) {
        // A no-op update writes nothing, so it takes no lock and meets no conflict.
        return { before, after, rec };
      }
      this.write(before._id, after, txn);
      return { before, after, rec };
    }
    if (!opts?.upsert) return { before: null, after: null, rec };
    const seed: Doc = { _id: filter._id as string };
    for (const [k, v] of Object.entries(filter)) if (!k.startsWith('$') && !isOperators(v)) seed[k] = v;
    if (txn && this.db.locks.get(this.key(seed._id)) && this.db.locks.get(this.key(seed._id)) !== txn) throw writeConflict();
    if (this.visible(seed._id, txn)) throw duplicateKey();
    const after = applyUpdate(seed, update, true);
    this.write(seed._id, after, txn);
    return { before: null, after, rec };
  }

  async updateOne(filter: Document, update: Document, opts?: { session?: ClientSession; upsert?: boolean }) {
    const { before, after, rec } = await this.modify('updateOne', filter, update, opts);
    await this.afterOp(rec);
    return { acknowledged: true, matchedCount: before ? 1 : 0, modifiedCount: before ? 1 : 0, upsertedCount: !before && after ? 1 : 0 };
  }

  async findOneAndUpdate(filter: Document, update: Document, opts?: { session?: ClientSession; upsert?: boolean; returnDocument?: 'before' | 'after' }) {
    const { before, after, rec } = await this.modify('findOneAndUpdate', filter, update, opts);
    await this.afterOp(rec);
    return handOut(opts?.returnDocument === 'after' ? after : before);
  }
}

interface FakeSession { txn?: Txn }

export class FakeMongo {
  clock = 0;
  txns = 0;
  commits = 0;
  aborts = 0;
  readonly locks = new Map<string, Txn>();
  readonly log: OpRecord[] = [];
  readonly als = new AsyncLocalStorage<Txn>();
  /** Runs after a driver call completes (outside any transaction): stages a concurrent request. */
  hook?: (rec: OpRecord) => Promise<void> | void;
  readonly colls = {
    users: new FakeCollection(this, 'users'),
    balances: new FakeCollection(this, 'balances'),
    transactions: new FakeCollection(this, 'transactions'),
    holds: new FakeCollection(this, 'holds'),
    idempotency: new FakeCollection(this, 'idempotency'),
    outbox: new FakeCollection(this, 'outbox'),
  };
  readonly collections = this.colls as unknown as MongoCollections;

  private end(txn: Txn, commit: boolean): void {
    txn.ended = true;
    const ts = commit ? ++this.clock : 0;
    for (const [key, s] of txn.staged) {
      if (commit) s.coll.commit(s.id, s.bytes, ts);
      if (this.locks.get(key) === txn) this.locks.delete(key);
    }
    if (commit) this.commits += 1;
    else this.aborts += 1;
  }

  /**
   * The session's core API, as the adapter drives it: startTransaction, then the body's
   * calls with the session, then commitTransaction or abortTransaction; endSession
   * aborts a transaction still open. The transaction started is also the async context
   * of what follows, so a call made without the session while it is open is caught.
   */
  readonly client: SessionSource = {
    startSession: () => {
      const session: FakeSession & Record<string, unknown> = {
        startTransaction: () => {
          if (session.txn) throw new MongoError('Transaction already in progress');
          const txn: Txn = { id: ++this.txns, startTs: this.clock, ended: false, staged: new Map() };
          session.txn = txn;
          this.als.enterWith(txn);
        },
        inTransaction: () => session.txn !== undefined,
        commitTransaction: async () => {
          const txn = session.txn;
          if (!txn) throw new MongoError('No transaction started');
          await tick();
          this.end(txn, true);
          session.txn = undefined;
        },
        abortTransaction: async () => {
          const txn = session.txn;
          if (!txn) return;
          this.end(txn, false);
          session.txn = undefined;
        },
        endSession: async () => {
          if (session.txn) await (session.abortTransaction as () => Promise<void>)();
        },
      };
      return session as unknown as ClientSession;
    },
  };

  /** Calls recorded for transaction `txn`. */
  opsOf(txn: number): OpRecord[] {
    return this.log.filter((r) => r.txn === txn);
  }
}
