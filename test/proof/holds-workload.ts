// Proof 3 — holds and refunds over HTTP, racing: accounts funded by deposits place
// holds (with and without a payee, some expiring during the run) while transfers
// move money between them; then every hold is raced by several captures and voids
// at once, transfers and withdrawals are raced by partial refunds that together ask
// for more than the original, and a deposit is refunded. Every logical op has its own
// Idempotency-Key and is retried with it (BankClient). Afterwards, from the outside:
// exactly one capture or void won each hold, refunds never exceed their original,
// `available` ≥ 0, `held` = the sum of the live holds listed, each account's
// `available + held` is what the acknowledged operations say, the total changed
// only by deposits − withdrawals − captures without payee + withdrawal refunds −
// deposit refunds, and each movement sits exactly once in each party's history.
import { randomUUID } from 'node:crypto';
import type { BankClient, Outcome } from '../support/bank-client';
import { CURRENCY, newOp, openBank, runConcurrently } from './bank-model';

export const HOLDS = { accounts: 8, initial: 6_000, holds: 48, transfers: 60, racers: 3, concurrency: 24 };

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON under test

interface Call {
  label: string;
  caller: string;
  admin?: boolean;
  method: string;
  path: string;
  body?: unknown;
  key: string;
  outcome?: Outcome;
}

const call = (label: string, caller: string, method: string, path: string, body?: unknown, admin = false): Call => ({
  label, caller, method, path, ...(body !== undefined && { body }), admin, key: `proof-${label}-${randomUUID()}`,
});

const runCalls = async (client: BankClient, calls: Call[], concurrency: number): Promise<void> => {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < calls.length) {
      const c = calls[next++] as Call;
      c.outcome = await client.send(c.method, c.path, { token: await client.token(c.caller, c.admin), idempotencyKey: c.key, ...(c.body !== undefined && { body: c.body }) });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, calls.length) }, worker));
};

const status = (c: Call): string => `${c.outcome?.status}${c.outcome?.body?.error?.code ? ` ${c.outcome.body.error.code}` : ''}`;
const fmt = (c: Call): string => `${c.label} ${c.method} ${c.path} ${JSON.stringify(c.body ?? {})} by ${c.caller}: ${status(c)} ${JSON.stringify(c.outcome?.body).slice(0, 200)}`;
const u = encodeURIComponent;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface HoldsReport {
  invariants: string[];
  outcomes: Record<string, number>;
  /** The workload's own accounts, and the ids of the deposits that funded them. */
  accounts: string[];
  deposits: string[];
}

/** Runs the workload against a server and checks every invariant; throws (via expect) on the first broken one. */
export const runHoldsWorkload = async (client: BankClient, random: () => number): Promise<HoldsReport> => {
  const run = randomUUID().slice(0, 8);
  const { accounts, deposits } = await openBank(client, `${run}-h`, HOLDS.accounts, HOLDS.initial);
  expect(deposits.map((d) => d.outcome?.status)).toEqual(deposits.map(() => 201));
  const pick = (): string => accounts[Math.floor(random() * accounts.length)] as string;
  const other = (a: string): string => {
    let b = pick();
    while (b === a) b = pick();
    return b;
  };
  const upTo = (max: number): number => 1 + Math.floor(random() * max);

  // 1. Holds (a quarter expire after 1 s, a third without payee) mixed with transfers.
  const holdCalls: Call[] = Array.from({ length: HOLDS.holds }, (_, n) => {
    const payer = pick();
    const body = {
      amount: upTo(1_500),
      currency: CURRENCY,
      ...(n % 3 !== 0 && { toUserId: other(payer) }),
      expiresInSeconds: n % 4 === 0 ? 1 : 3_600,
    };
    return call(`hold-${n}`, payer, 'POST', `/users/${u(payer)}/holds`, body);
  });
  const transfers = Array.from({ length: HOLDS.transfers }, (_, n) => {
    const from = pick();
    return newOp(n, 'transfer', from, upTo(800), other(from));
  });
  await Promise.all([runCalls(client, holdCalls, HOLDS.concurrency / 2), runConcurrently(client, transfers, HOLDS.concurrency / 2)]);
  const expectFinal = (calls: Call[], allowed: string[]): void => {
    expect(calls.filter((c) => !allowed.includes(status(c))).map(fmt)).toEqual([]);
  };
  expectFinal(holdCalls, ['201', '422 insufficient_funds']);
  expect(transfers.filter((t) => ![201, 422].includes(t.outcome?.status ?? 0)).map((t) => t.key)).toEqual([]);
  const holds: Json[] = holdCalls.filter((c) => c.outcome?.status === 201).map((c) => c.outcome?.body);
  expect(holds.length).toBeGreaterThan(HOLDS.holds / 3);
  const invariants: string[] = [`${holds.length} of ${HOLDS.holds} holds placed (the rest refused for funds) alongside ${transfers.length} transfers`];

  // 2. Let the short holds expire, then race captures and voids on every hold.
  await sleep(1_100);
  const racers: Call[][] = holds.map((h: Json) => Array.from({ length: HOLDS.racers }, (_, r) => {
    const settler = h.toUserId ?? h.userId;
    const kind = r === 0 || random() < 0.5 ? 'capture' : 'void';
    const body = kind === 'capture' ? (random() < 0.5 ? { amount: upTo(h.amount) } : {}) : undefined;
    return call(`${kind}-${h.id}-${r}`, settler, 'POST', `/holds/${h.id}/${kind}`, body);
  }));
  await runCalls(client, racers.flat(), HOLDS.concurrency);
  const winners = new Map<string, Call>();
  const multiWin: string[] = [];
  for (const [i, group] of racers.entries()) {
    const h = holds[i];
    const expired = h.expiresAt <= new Date().toISOString();
    const won = group.filter((c) => c.outcome?.status === 201 || c.outcome?.status === 200);
    if (expired) expectFinal(group, ['422 hold_expired']);
    else expectFinal(group, ['200', '201', '422 invalid_state_transition']);
    if (!expired && won.length !== 1) multiWin.push(`${h.id}: ${won.length} winners ${group.map(fmt).join(' | ')}`);
    if (won[0]) winners.set(h.id, won[0]);
  }
  expect(multiWin).toEqual([]);
  invariants.push(`of ${HOLDS.racers} racing captures/voids per hold, exactly one won each unexpired hold (${winners.size}); expired holds answered 422 hold_expired to all`);

  // 3. Each hold's final state agrees with its winner (or with its expiry).
  const captures: Json[] = [];
  const holdProblems: string[] = [];
  for (const h of holds) {
    const w = winners.get(h.id);
    const r = await client.send('GET', `/holds/${h.id}`, { token: await client.token(h.userId) });
    const now: Json = r.body;
    if (!w) {
      if (now.status !== 'expired') holdProblems.push(`${h.id}: no winner but ${now.status}`);
    } else if (w.label.startsWith('capture')) {
      captures.push(w.outcome?.body);
      const tx = w.outcome?.body;
      if (now.status !== 'captured' || now.capturedAmount !== tx.amount || now.transactionId !== tx.id || tx.holdId !== h.id) holdProblems.push(`${h.id}: ${JSON.stringify(now)} vs capture ${JSON.stringify(tx)}`);
      if (tx.type !== (h.toUserId ? 'transfer' : 'withdrawal') || tx.status !== 'completed') holdProblems.push(`${h.id}: capture ${JSON.stringify(tx)}`);
    } else if (now.status !== 'voided' || w.outcome?.body.status !== 'voided') {
      holdProblems.push(`${h.id}: voided by ${fmt(w)} but reads ${JSON.stringify(now)}`);
    }
  }
  expect(holdProblems).toEqual([]);
  invariants.push('every hold reads as its winner left it: captured (capturedAmount, transactionId, holdId agree), voided, or expired');

  // 4. Partial refunds racing on acknowledged transfers (by their payee) and captures without payee (admin), asking for 1.5× each.
  const refundable: Json[] = [
    ...transfers.filter((t) => t.outcome?.status === 201).slice(0, 12).map((t) => t.outcome?.body),
    ...captures.filter((c) => c.type === 'withdrawal').slice(0, 6),
  ];
  const refundCalls: Call[][] = refundable.map((tx: Json) => {
    const part = Math.max(1, Math.ceil(tx.amount / 2));
    return Array.from({ length: 3 }, (_, i) => tx.type === 'transfer'
      ? call(`refund-${tx.id}-${i}`, tx.toUserId, 'POST', `/transactions/${tx.id}/refunds`, { amount: part })
      : call(`refund-${tx.id}-${i}`, 'proof-admin', 'POST', `/transactions/${tx.id}/refunds`, { amount: part }, true));
  });
  // And one deposit refunded in part by an admin: the gateway refunds it at once.
  const depositRefund = call('refund-deposit', 'proof-admin', 'POST', `/transactions/${deposits[0]?.outcome?.body.id}/refunds`, { amount: 100 }, true);
  await runCalls(client, [...refundCalls.flat(), depositRefund], HOLDS.concurrency);
  expectFinal(refundCalls.flat(), ['201', '422 refund_exceeds_amount', '422 insufficient_funds']);
  expectFinal([depositRefund], ['201', '422 insufficient_funds']);
  const refunds: Json[] = [...refundCalls.flat(), depositRefund].filter((c) => c.outcome?.status === 201).map((c) => c.outcome?.body);
  const overRefunded: string[] = [];
  for (const [i, tx] of refundable.entries()) {
    const won = (refundCalls[i] ?? []).filter((c) => c.outcome?.status === 201).reduce((s, c) => s + (c.outcome?.body.amount as number), 0);
    const r = await client.send('GET', `/transactions/${tx.id}`, { token: await client.token('proof-admin', true) });
    if (won > tx.amount || r.body.refundedAmount !== won || r.body.status !== 'completed') overRefunded.push(`${tx.id}: amount ${tx.amount}, refunds won ${won}, reads ${JSON.stringify(r.body)}`);
  }
  expect(overRefunded).toEqual([]);
  invariants.push(`racing partial refunds on ${refundable.length} transactions never exceeded the original; each original's refundedAmount = its acknowledged refunds, status unchanged`);

  // 5. Balances: the model of acknowledged operations predicts available + held per account.
  const model = new Map(accounts.map((a) => [a, HOLDS.initial]));
  const add = (a: string | undefined, d: number): void => void (a !== undefined && model.has(a) && model.set(a, (model.get(a) ?? 0) + d));
  for (const t of transfers) if (t.outcome?.status === 201) { add(t.from, -t.amount); add(t.to, t.amount); }
  for (const c of captures) { add(c.userId, -c.amount); add(c.toUserId, c.amount); }
  // A transfer's refund moves payee (userId) → sender (toUserId); a withdrawal's credits its owner; a deposit's debits it.
  for (const r of refunds) {
    add(r.userId, isWithdrawalRefund(r, captures) ? r.amount : -r.amount);
    add(r.toUserId, r.amount);
  }
  const liveHeld = new Map<string, number>();
  for (const h of holds) if (!winners.has(h.id) && h.expiresAt > new Date().toISOString()) liveHeld.set(h.userId, (liveHeld.get(h.userId) ?? 0) + h.amount);
  const drift: string[] = [];
  let total = 0;
  for (const a of accounts) {
    const r = await client.send('GET', `/users/${u(a)}`, { token: await client.token(a) });
    const b = (r.body.balances as Json[]).find((x) => x.currency === CURRENCY);
    const listed = await listAll(client, a, 'held');
    const listedHeld = listed.reduce((s, h) => s + (h.amount as number), 0);
    total += b.available + b.held;
    if (b.available < 0 || b.held < 0) drift.push(`${a}: negative ${JSON.stringify(b)}`);
    if (b.held !== listedHeld || b.held !== (liveHeld.get(a) ?? 0)) drift.push(`${a}: held ${b.held}, live holds listed ${listedHeld}, model ${liveHeld.get(a) ?? 0}`);
    if (b.available + b.held !== model.get(a)) drift.push(`${a}: available ${b.available} + held ${b.held} ≠ model ${model.get(a)}`);
  }
  expect(drift).toEqual([]);
  const capturedOut = captures.filter((c) => c.type === 'withdrawal').reduce((s, c) => s + c.amount, 0);
  const withdrawalRefunds = refunds.filter((r) => isWithdrawalRefund(r, captures)).reduce((s, r) => s + r.amount, 0);
  const depositRefunds = refunds.filter((r) => r.refundOf === depositRefund.path.split('/')[2]).reduce((s, r) => s + r.amount, 0);
  expect(total).toBe(HOLDS.accounts * HOLDS.initial - capturedOut + withdrawalRefunds - depositRefunds);
  invariants.push('available ≥ 0 and held = the sum of live holds listed (status=held) = the model, per account');
  invariants.push(`available + held per account = the acknowledged operations; total ${total} = deposits − captures without payee ${capturedOut} + withdrawal refunds ${withdrawalRefunds} − deposit refunds ${depositRefunds}`);

  // 6. Histories: every capture and refund once in each party's history; type=refund lists exactly the refunds.
  const historyProblems: string[] = [];
  for (const a of accounts) {
    const { items } = await client.history(a, 100);
    const ids = new Set(items.map((t) => t.id as string));
    for (const t of [...captures, ...refunds]) {
      const party = t.userId === a || t.toUserId === a;
      if (party !== ids.has(t.id)) historyProblems.push(`${a}: ${t.type} ${t.id} ${party ? 'missing from' : 'wrongly in'} history`);
    }
    const r = await client.send('GET', `/users/${u(a)}/transactions?type=refund&limit=100`, { token: await client.token(a) });
    const mine = refunds.filter((t) => t.userId === a || t.toUserId === a).map((t) => t.id).sort();
    const listed = (r.body.data as Json[]).map((t) => t.id).sort();
    if (JSON.stringify(listed) !== JSON.stringify(mine)) historyProblems.push(`${a}: type=refund lists ${listed.length}, expected ${mine.length}`);
  }
  expect(historyProblems).toEqual([]);
  invariants.push(`${captures.length} captures and ${refunds.length} refunds each exactly once in every party's history; type=refund lists exactly them`);

  const outcomes: Record<string, number> = {};
  for (const c of [...holdCalls, ...racers.flat(), ...refundCalls.flat(), depositRefund]) {
    const label = `${c.label.split('-')[0]} ${status(c)}`;
    outcomes[label] = (outcomes[label] ?? 0) + 1;
  }
  return { invariants, outcomes, accounts, deposits: deposits.map((d) => d.outcome?.body.id as string) };
};

/** A refund of a capture without payee (a withdrawal) credits its owner. */
const isWithdrawalRefund = (r: Json, captures: Json[]): boolean =>
  captures.some((c) => c.type === 'withdrawal' && c.id === r.refundOf);

export const listAll = async (client: BankClient, userId: string, status: string): Promise<Json[]> => {
  const items: Json[] = [];
  let cursor: string | null = null;
  do {
    const q = `status=${status}&limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const r = await client.send('GET', `/users/${u(userId)}/holds?${q}`, { token: await client.token(userId) });
    if (r.status !== 200) throw new Error(`GET holds of ${userId}: ${r.status} ${JSON.stringify(r.body)}`);
    items.push(...(r.body.data as Json[]));
    cursor = r.body.nextCursor as string | null;
  } while (cursor);
  return items;
};
