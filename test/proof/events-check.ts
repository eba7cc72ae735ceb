// The events side of the faults proof: after the workload (with the fake EventBridge
// refusing a share of entries), the relay drains the outbox; then, for every
// transaction in every account's history, the events delivered for it have versions
// 1..n with none missing, the highest one carries exactly what the API returns now,
// every delivery of one event id carried the same content, and no event names a
// transaction that did not commit.
import type { BankClient } from '../support/bank-client';
import type { FakeEventBridge, ReceivedEvent } from '../support/fake-eventbridge';
import type { OfflineServer } from '../support/offline';
import { listAll } from './holds-workload';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON under test
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs the scheduled relay until a run delivers nothing new (at most ~30 s). */
export const drainOutbox = async (server: OfflineServer, bus: FakeEventBridge, leaseMs: number): Promise<number> => {
  let runs = 0;
  let seen = -1;
  for (let quiet = 0; quiet < 2 && runs < 30; runs++) {
    await sleep(leaseMs + 100);
    await server.invoke('publish-events');
    const now = bus.events().length;
    quiet = now === seen ? quiet + 1 : 0;
    seen = now;
  }
  return runs;
};

export const verifyEvents = async (client: BankClient, bus: FakeEventBridge, accounts: string[]): Promise<string[]> => {
  const delivered = bus.events();
  const byResource = new Map<string, ReceivedEvent[]>();
  for (const e of delivered) {
    const id = (e.detail.data as Json).id as string;
    byResource.set(id, [...(byResource.get(id) ?? []), e]);
  }
  // Every delivery of one event carries the same content.
  const byEventId = new Map<string, string>();
  const inconsistent: string[] = [];
  for (const e of delivered) {
    const body = JSON.stringify([e.detailType, e.detail]);
    const prior = byEventId.get(e.detail.id as string);
    if (prior !== undefined && prior !== body) inconsistent.push(`${e.detail.id as string}: delivered with different content`);
    byEventId.set(e.detail.id as string, body);
  }
  expect(inconsistent).toEqual([]);

  // Every transaction in every account's history, and every hold they pay, as the API shows it now.
  const committed = new Map<string, Json>();
  for (const a of accounts) for (const t of (await client.history(a, 100)).items) committed.set(t.id as string, t);
  let holds = 0;
  for (const a of accounts) {
    for (const status of ['held', 'captured', 'voided', 'expired']) {
      for (const h of await listAll(client, a, status)) {
        committed.set(h.id as string, h);
        holds++;
      }
    }
  }
  const problems: string[] = [];
  for (const [id, tx] of committed) {
    const events = byResource.get(id) ?? [];
    const versions = [...new Set(events.map((e) => e.detail.version as number))].sort((x, y) => x - y);
    const top = versions.at(-1) ?? 0;
    if (versions.length === 0) problems.push(`${id} (${tx.type} ${tx.status}): no event delivered`);
    else if (versions.join() !== Array.from({ length: top }, (_, i) => i + 1).join()) problems.push(`${id}: versions ${versions.join()} have gaps`);
    const latest = events.find((e) => e.detail.version === top);
    if (latest && JSON.stringify(latest.detail.data) !== JSON.stringify(tx)) {
      problems.push(`${id}: highest version ${top} carries ${JSON.stringify(latest.detail.data)}, the API says ${JSON.stringify(tx)}`);
    }
    const kind = 'expiresAt' in tx ? 'hold' : 'transaction';
    const allowed = kind === 'hold' ? [tx.status === 'held' ? 'hold.created' : `hold.${tx.status as string}`] : [`transaction.${tx.status as string}`, 'transaction.updated'];
    if (latest && !allowed.includes(latest.detailType)) {
      problems.push(`${id}: highest version is ${latest.detailType}, the transaction is ${tx.status}`);
    }
  }
  // Nothing that did not commit: every transaction an event names is one the API has (accounts' histories hold every party's).
  const phantom = [...byResource.keys()].filter((id) => !committed.has(id));
  problems.push(...phantom.map((id) => `${id}: delivered but not committed (${JSON.stringify(byResource.get(id)?.[0]?.detail)})`));
  expect(problems.slice(0, 30)).toEqual([]);
  const duplicates = delivered.length - byEventId.size;
  return [
    `events: ${byEventId.size} distinct events for ${committed.size - holds} committed transactions and ${holds} holds delivered (${duplicates} deliveries repeated, ${bus.stats().entriesFailed} entries refused by the bus and sent again); for each, versions 1..n without gaps, the highest equal to what the API returns, none for anything that did not commit`,
  ];
};
