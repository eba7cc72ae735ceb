// The Ledger's hold methods over Redis. Every change is one script
// (redis-hold-scripts.ts); reads are HGETALL (pipelined) and ZREVRANGEBYLEX, and a
// stored hold is shown as of `now` (holdAsOf).
import { ServiceUnavailable } from '../../core/errors';
import { captureMismatch, holdAsOf, type Hold } from '../../core/hold';
import type { Ledger } from '../../core/ports';
import {
  amountArg, claimSlots, expiryArgs, hashOf, MAX_CAS_ROUNDS, parseTransaction, transactionJson, transactionOutcomeJson, withClaim, withIdem, withToken,
  type RedisLedgerContext,
} from './redis-calls';
import { redisCall, scriptRefusal, toStorageError } from './redis-errors';
import { holdFields, holdOutcomeJson, parseHold } from './redis-hold';
import { historyMember, idOfMember } from './redis-keys';

type HoldMethods = Pick<Ledger, 'createHold' | 'captureHold' | 'voidHold' | 'releaseExpiredHolds' | 'getHold' | 'listHolds'>;

const tooBusy = (): ServiceUnavailable => new ServiceUnavailable('The hold is changing too often, try again shortly');

export const makeRedisHolds = ({ client, keys, run, read, outbox, seed }: RedisLedgerContext): HoldMethods => {
  const readHold = async (id: string): Promise<Hold | null> => parseHold(await redisCall(client.hgetall(keys.hold(id))));

  /** The holds of `ids`, in that order (null where there is none), in one round trip. */
  const readHolds = async (ids: string[]): Promise<(Hold | null)[]> => {
    if (ids.length === 0) return [];
    const pipeline = client.pipeline();
    for (const id of ids) pipeline.hgetall(keys.hold(id));
    const replies = (await redisCall(pipeline.exec())) ?? [];
    return replies.map(([err, value]) => {
      if (err) throw toStorageError(err);
      return parseHold(value as Record<string, string>);
    });
  };

  return {
    async createHold(hold, idem, claim) {
      const result = await run('createHold', {
        keys: withIdem(keys, [
          keys.hold(hold.id), keys.balances(hold.userId), keys.holds(hold.userId), keys.liveHolds(hold.userId), keys.holdExpiries(),
          keys.user(hold.userId), keys.user(hold.toUserId ?? hold.userId), ...outbox,
        ], idem),
        args: [hold.currency, amountArg(hold.amount), historyMember(hold), hold.id, String(Date.parse(hold.expiresAt)),
          ...expiryArgs(keys, hold.createdAt), holdOutcomeJson(hold), seed(), idem?.token ?? '', ...claimSlots(idem, claim), ...holdFields(hold)],
      });
      if (result === 'ok') return structuredClone(hold);
      if (result !== 'exists') throw scriptRefusal(result);
      // A lost reply's script did run: answer what it stored.
      const stored = await readHold(hold.id);
      if (!stored) throw new ServiceUnavailable();
      return stored;
    },

    async captureHold({ holdId, transaction: tx, now }, idem, claim) {
      // One script, no read first: the accounts are the transaction's (the hold's payer,
      // payee and currency, which never change); the script checks them against the hold.
      const payer = tx.userId;
      const payee = tx.toUserId;
      const json = transactionJson(tx);
      const result = await run('captureHold', {
        keys: withIdem(keys, [
          keys.hold(holdId), keys.balances(payer), keys.balances(payee ?? payer), keys.transaction(tx.id), keys.history(payer),
          keys.history(payee ?? payer), keys.liveHolds(payer), keys.holdExpiries(), ...outbox,
        ], idem),
        args: withClaim(withToken([now, amountArg(tx.amount), tx.currency, json, historyMember(tx), tx.id, payee ?? '',
          transactionOutcomeJson(json), payer, tx.status, seed()], idem), idem, claim),
      });
      if (Array.isArray(result)) {
        const hold = parseHold(hashOf(result as string[]));
        if (!hold) throw new ServiceUnavailable();
        return { hold, transaction: parseTransaction(json) };
      }
      if (result === 'exists') {
        // A lost reply's script did run: answer what it stored.
        const [hold, stored] = await Promise.all([readHold(holdId), read(tx.id)]);
        if (!hold || !stored) throw new ServiceUnavailable();
        return { hold, transaction: stored.tx };
      }
      if (result === 'not_its_hold') throw captureMismatch();
      throw scriptRefusal(result, 'captured');
    },

    async voidHold({ holdId, now }, idem) {
      for (let round = 0; round < MAX_CAS_ROUNDS; round++) {
        const hold = await readHold(holdId);
        const payer = hold?.userId ?? '';
        const voided: Hold | null = hold && { ...hold, status: 'voided', updatedAt: now };
        const result = await run('voidHold', {
          keys: withIdem(keys, [keys.hold(holdId), keys.balances(payer), keys.liveHolds(payer), keys.holdExpiries(), ...outbox], idem),
          args: withToken([now, hold?.currency ?? '', voided ? holdOutcomeJson(voided) : '', payer, seed()], idem),
        });
        if (result === 'ok' && voided) return voided;
        if (result !== 'conflict') throw scriptRefusal(result, 'voided');
      }
      throw tooBusy();
    },

    async releaseExpiredHolds({ now, limit }) {
      if (limit < 1) return 0;
      const ids = await redisCall(client.zrangebyscore(keys.holdExpiries(), '-inf', Date.parse(now), 'LIMIT', 0, limit));
      if (ids.length === 0) return 0;
      // Each hold's payer names its balance and live-set keys; the script checks every hold again.
      const holds = await readHolds(ids);
      const holdKeys = ids.flatMap((id, i) => {
        const payer = holds[i]?.userId ?? '';
        return [keys.hold(id), keys.balances(payer), keys.liveHolds(payer)];
      });
      return Number(await run('releaseExpiredHolds', { keys: [keys.holdExpiries(), ...outbox, ...holdKeys], args: [now, seed(), ...ids] }));
    },

    async getHold(id, now) {
      const hold = await readHold(id);
      return hold && holdAsOf(hold, now);
    },

    async listHolds(q) {
      // The status filter is applied here (as of now), so read bounded batches until `limit` holds match.
      const batch = q.status === undefined ? q.limit : Math.min(Math.max(q.limit * 2, 50), 500);
      const out: Hold[] = [];
      let max = q.before ? `(${historyMember(q.before)}` : '+';
      for (;;) {
        const members = await redisCall(client.zrevrangebylex(keys.holds(q.userId), max, '-', 'LIMIT', 0, batch));
        for (const stored of await readHolds(members.map(idOfMember))) {
          if (!stored) continue;
          const hold = holdAsOf(stored, q.now);
          if (q.status && hold.status !== q.status) continue;
          out.push(hold);
          if (out.length === q.limit) return out;
        }
        const last = members[members.length - 1];
        if (members.length < batch || last === undefined) return out;
        max = `(${last}`;
      }
    },
  };
};
