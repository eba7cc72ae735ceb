// The bank workload (after Jepsen's "bank" test) and the checker shared by the proof
// suites: accounts funded by deposits, random transfers and withdrawals at high
// concurrency, each logical operation with its own Idempotency-Key (retried with the
// same key by BankClient), then every invariant checked from the outside, over HTTP.
import { randomUUID } from 'node:crypto';
import type { BankClient, Outcome } from '../support/bank-client';

export type OpKind = 'deposit' | 'withdrawal' | 'transfer';

export interface Op {
  n: number;
  kind: OpKind;
  /** The owner (deposit, withdrawal) or the sender (transfer). */
  from: string;
  to?: string;
  amount: number;
  key: string;
  outcome?: Outcome;
}

export const CURRENCY = 'USD';

export const newOp = (n: number, kind: OpKind, from: string, amount: number, to?: string): Op => ({
  n, kind, from, amount, key: `proof-${kind}-${n}-${randomUUID()}`, ...(to !== undefined && { to }),
});

export const runOp = async (client: BankClient, op: Op): Promise<Outcome> => {
  const token = await client.token(op.from);
  const u = encodeURIComponent(op.from);
  const outcome =
    op.kind === 'transfer'
      ? await client.send('POST', '/transfers', { token, idempotencyKey: op.key, body: { toUserId: op.to, amount: op.amount, currency: CURRENCY } })
      : await client.send('POST', `/users/${u}/${op.kind === 'deposit' ? 'deposits' : 'withdrawals'}`, {
        token,
        idempotencyKey: op.key,
        body: { amount: op.amount, currency: CURRENCY, ...(op.kind === 'deposit' && { paymentToken: 'tok_ok' }) },
      });
  op.outcome = outcome;
  return outcome;
};

/**
 * Runs `ops` with at most `concurrency` in flight; `onStart(i)` fires as op i starts
 * (fault schedules hang off it) and may hold the op back by returning a promise.
 */
export const runConcurrently = async (client: BankClient, ops: Op[], concurrency: number, onStart?: (started: number) => void | Promise<void>): Promise<void> => {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < ops.length) {
      const op = ops[next++] as Op;
      await onStart?.(next);
      await runOp(client, op);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, ops.length) }, worker));
};

/** Opens `count` accounts and funds each by one deposit of `initial`. */
export const openBank = async (client: BankClient, run: string, count: number, initial: number, concurrency = 8): Promise<{ accounts: string[]; deposits: Op[] }> => {
  const accounts = Array.from({ length: count }, (_, i) => `proof-${run}-acct-${String(i).padStart(2, '0')}`);
  for (let i = 0; i < accounts.length; i += concurrency) await Promise.all(accounts.slice(i, i + concurrency).map((a) => client.createUser(a)));
  const deposits = accounts.map((a, i) => newOp(-1 - i, 'deposit', a, initial));
  await runConcurrently(client, deposits, concurrency);
  return { accounts, deposits };
};

export interface WorkloadShape {
  ops: number;
  /** Fractions of the op stream; the rest are transfers. */
  withdrawals: number;
  deposits: number;
  maxTransfer: number;
  maxWithdrawal: number;
  maxDeposit: number;
}

export const randomOps = (random: () => number, accounts: string[], shape: WorkloadShape): Op[] => {
  const pick = (): string => accounts[Math.floor(random() * accounts.length)] as string;
  const upTo = (max: number): number => 1 + Math.floor(random() * max);
  return Array.from({ length: shape.ops }, (_, n) => {
    const r = random();
    const from = pick();
    if (r < shape.withdrawals) return newOp(n, 'withdrawal', from, upTo(shape.maxWithdrawal));
    if (r < shape.withdrawals + shape.deposits) return newOp(n, 'deposit', from, upTo(shape.maxDeposit));
    let to = pick();
    while (to === from) to = pick();
    return newOp(n, 'transfer', from, upTo(shape.maxTransfer), to);
  });
};

export interface BankReport {
  operations: number;
  acknowledged: number;
  refused: number;
  byKind: Record<string, { acknowledged: number; refused: number }>;
  /** Logical ops that needed more than one attempt. */
  retriedOps: number;
  finalStatuses: Record<string, number>;
  historyItemsChecked: number;
  historyPages: number;
  totalBalance: number;
  expectedTotal: number;
  acknowledgedDeposits: Op[];
  invariants: string[];
}

const fmt = (op: Op): string =>
  `#${op.n} ${op.kind} ${op.amount} ${op.from}${op.to ? `→${op.to}` : ''} key=${op.key}: ${op.outcome?.status} ${JSON.stringify(op.outcome?.body).slice(0, 200)} attempts=${JSON.stringify(op.outcome?.attempts.map((a) => `${a.status}${a.code ? ` ${a.code}` : ''}`))}`;

/**
 * Checks every invariant of the bank against the API's own answers. Throws (via
 * expect) with the offending operations listed; returns what was checked.
 */
export const verifyBank = async (client: BankClient, accounts: string[], ops: Op[]): Promise<BankReport> => {
  const invariants: string[] = [];
  const acked = ops.filter((o) => o.outcome?.status === 201);
  const refused = ops.filter((o) => o.outcome?.status === 422 && o.outcome.body?.error?.code === 'insufficient_funds' && o.kind !== 'deposit');

  // 1. Every logical op ended in a final, contract-conforming outcome: no 5xx, no network failure, no lingering 409.
  const unfinished = ops.filter((o) => !acked.includes(o) && !refused.includes(o));
  expect(unfinished.map(fmt)).toEqual([]);
  invariants.push(`every one of ${ops.length} logical ops ended 201 or 422 insufficient_funds (no 5xx, no 409, no network failure as final outcome)`);

  // 2. Every acknowledgement describes the request it answers, completed, with its own transaction id.
  const badBodies = acked.filter((o) => {
    const b = o.outcome?.body;
    return b?.type !== o.kind || b?.status !== 'completed' || b?.amount !== o.amount || b?.currency !== CURRENCY || b?.userId !== o.from || (o.kind === 'transfer' ? b?.toUserId !== o.to : b?.toUserId !== undefined);
  });
  expect(badBodies.map(fmt)).toEqual([]);
  const ids = acked.map((o) => o.outcome?.body.id as string);
  expect(new Set(ids).size).toBe(ids.length);
  invariants.push(`${acked.length} acknowledgements each completed, matching their request, with distinct transaction ids`);

  // 3. Balances: the model of acknowledged ops predicts each account exactly; none negative; money is conserved.
  const model = new Map(accounts.map((a) => [a, 0]));
  const add = (a: string | undefined, d: number): void => void (a !== undefined && model.set(a, (model.get(a) ?? 0) + d));
  for (const o of acked) {
    if (o.kind === 'deposit') add(o.from, o.amount);
    if (o.kind === 'withdrawal') add(o.from, -o.amount);
    if (o.kind === 'transfer') {
      add(o.from, -o.amount);
      add(o.to, o.amount);
    }
  }
  const actual = new Map<string, number>();
  for (const a of accounts) actual.set(a, await client.balance(a, CURRENCY));
  const negative = accounts.filter((a) => (actual.get(a) ?? 0) < 0).map((a) => `${a}: ${actual.get(a)}`);
  expect(negative).toEqual([]);
  const totalBalance = [...actual.values()].reduce((s, v) => s + v, 0);
  const sum = (kind: OpKind): number => acked.filter((o) => o.kind === kind).reduce((s, o) => s + o.amount, 0);
  const expectedTotal = sum('deposit') - sum('withdrawal');
  expect(totalBalance).toBe(expectedTotal);
  const drift = accounts.filter((a) => actual.get(a) !== model.get(a)).map((a) => `${a}: balance ${actual.get(a)}, acknowledged ops say ${model.get(a)}`);
  expect(drift).toEqual([]);
  invariants.push(`no negative balance across ${accounts.length} accounts`);
  invariants.push(`sum of balances ${totalBalance} = completed deposits ${sum('deposit')} − completed withdrawals ${sum('withdrawal')}`);
  invariants.push('each account balance = its acknowledged deposits + transfers in − transfers out − withdrawals');

  // 4. Histories: each acknowledged op exactly once in each party's history; nothing else (refusals left no trace).
  const expectedIds = new Map(accounts.map((a) => [a, new Set<string>()]));
  const byId = new Map<string, Op>();
  for (const o of acked) {
    const id = o.outcome?.body.id as string;
    byId.set(id, o);
    expectedIds.get(o.from)?.add(id);
    if (o.to) expectedIds.get(o.to)?.add(id);
  }
  const historyProblems: string[] = [];
  let historyItemsChecked = 0;
  let historyPages = 0;
  for (const a of accounts) {
    const { items, pages } = await client.history(a, 100);
    historyPages += pages;
    historyItemsChecked += items.length;
    const seen = new Map<string, number>();
    for (const t of items) seen.set(t.id as string, (seen.get(t.id as string) ?? 0) + 1);
    for (const [id, count] of seen) if (count > 1) historyProblems.push(`${a}: ${id} listed ${count} times`);
    const want = expectedIds.get(a) ?? new Set<string>();
    for (const id of want) if (!seen.has(id)) historyProblems.push(`${a}: acknowledged ${fmt(byId.get(id) as Op)} missing from history`);
    for (const t of items) {
      const o = byId.get(t.id as string);
      if (!want.has(t.id as string)) historyProblems.push(`${a}: unacknowledged transaction in history ${JSON.stringify(t)}`);
      else if (o && (t.amount !== o.amount || t.type !== o.kind || t.status !== 'completed')) historyProblems.push(`${a}: ${t.id} differs from its acknowledgement: ${JSON.stringify(t)}`);
    }
    if (items.length !== want.size) historyProblems.push(`${a}: ${items.length} history items, ${want.size} acknowledged ops`);
    for (let i = 1; i < items.length; i++) {
      const [p, c] = [items[i - 1] as { createdAt: string; id: string }, items[i] as { createdAt: string; id: string }];
      if (p.createdAt < c.createdAt || (p.createdAt === c.createdAt && p.id < c.id)) historyProblems.push(`${a}: history not newest first at ${i}`);
    }
  }
  expect(historyProblems.slice(0, 50)).toEqual([]);
  invariants.push(`every acknowledged transfer exactly once in both parties' histories, every deposit and withdrawal once in its owner's (${historyItemsChecked} items over ${historyPages} cursor pages)`);
  invariants.push(`${refused.length} insufficient_funds refusals left no trace: history item count = acknowledged ops per account`);

  const byKind: BankReport['byKind'] = {};
  for (const o of ops) {
    const k = (byKind[o.kind] ??= { acknowledged: 0, refused: 0 });
    if (acked.includes(o)) k.acknowledged++;
    if (refused.includes(o)) k.refused++;
  }
  const finalStatuses: Record<string, number> = {};
  for (const o of ops) {
    const label = `${o.outcome?.status}${o.outcome?.body?.error?.code ? ` ${o.outcome.body.error.code}` : ''}`;
    finalStatuses[label] = (finalStatuses[label] ?? 0) + 1;
  }
  return {
    operations: ops.length,
    acknowledged: acked.length,
    refused: refused.length,
    byKind,
    retriedOps: ops.filter((o) => (o.outcome?.attempts.length ?? 0) > 1).length,
    finalStatuses,
    historyItemsChecked,
    historyPages,
    totalBalance,
    expectedTotal,
    acknowledgedDeposits: acked.filter((o) => o.kind === 'deposit'),
    invariants,
  };
};

export const printReport = (title: string, report: BankReport, client: BankClient, extra: Record<string, unknown> = {}): void => {
  const { acknowledgedDeposits: _d, invariants, ...numbers } = report;
  console.log(
    [
      `PROOF ${title}`,
      `  operations attempted: ${numbers.operations}, acknowledged (201): ${numbers.acknowledged}, refused (422 insufficient_funds): ${numbers.refused}`,
      `  by kind: ${JSON.stringify(numbers.byKind)}`,
      `  final outcomes: ${JSON.stringify(numbers.finalStatuses)}`,
      `  HTTP attempts: ${client.stats.attempts}, retries (same key): ${client.stats.retries}, logical ops retried: ${numbers.retriedOps}, network errors: ${client.stats.networkErrors}, timeouts: ${client.stats.timeouts}`,
      `  every attempt's status: ${JSON.stringify(client.stats.attemptStatuses)}`,
      ...Object.entries(extra).map(([k, v]) => `  ${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`),
      '  invariants checked:',
      ...invariants.map((i) => `    ✓ ${i}`),
    ].join('\n'),
  );
};
