// The one "ask the gateway, settle from its answer" step the reconciler and the payment
// webhook share, over the memory ledger and a scripted gateway: what it asks, what it
// writes, and what it leaves alone.
import { makeMemoryLedger } from '../../src/adapters/memory/memory-ledger';
import { createMemoryState } from '../../src/adapters/memory/memory-state';
import { systemClock, uuidv7 } from '../../src/adapters/system/system-clock';
import { InvalidStateTransition, PaymentGatewayError } from '../../src/core/errors';
import type { Ledger, PaymentGateway, PaymentResult } from '../../src/core/ports';
import type { Transaction } from '../../src/core/transaction';
import { makeSettleFromGateway } from '../../src/core/use-cases/settle-from-gateway';

const setup = (answer: PaymentResult | null | Error) => {
  const ledger: Ledger = makeMemoryLedger(createMemoryState());
  const asked: unknown[] = [];
  const gateway: PaymentGateway = {
    charge: async () => { throw new Error('never charges'); },
    getPaymentStatus: async (ref) => {
      asked.push(ref);
      if (answer instanceof Error) throw answer;
      return answer;
    },
    refund: async () => { throw new Error('never refunds'); },
    getRefundStatus: async () => { throw new Error('not for deposits'); },
  };
  const settle = makeSettleFromGateway({ ledger, gateway, clock: systemClock });
  const deposit = async (createdAt = new Date().toISOString(), paymentRef?: string): Promise<Transaction> => {
    const tx = await ledger.createDeposit({
      id: uuidv7(), type: 'deposit', status: 'pending', userId: 'u1', amount: 700, currency: 'USD', metadata: {}, createdAt, updatedAt: createdAt,
    });
    if (paymentRef) await ledger.setPaymentRef(tx.id, paymentRef);
    return (await ledger.getTransaction(tx.id)) ?? tx;
  };
  const balance = async () => (await ledger.getBalances('u1')).find((b) => b.currency === 'USD')?.available ?? 0;
  return { ledger, asked, settle, deposit, balance };
};

describe('settle from the gateway', () => {
  it('completes and credits a pending deposit the gateway says succeeded, asking by paymentRef when known', async () => {
    const w = setup({ status: 'succeeded', paymentRef: 'pay_1' });
    const tx = await w.deposit(undefined, 'pay_1');
    const r = await w.settle(tx);
    expect(r).toMatchObject({ outcome: 'settled', transaction: { id: tx.id, status: 'completed' } });
    expect(w.asked).toEqual([{ depositId: tx.id, paymentRef: 'pay_1' }]);
    expect(await w.balance()).toBe(700);
  });

  it('fails a declined one, credits nothing', async () => {
    const w = setup({ status: 'declined', paymentRef: 'pay_2' });
    const tx = await w.deposit();
    expect(await w.settle(tx)).toMatchObject({ outcome: 'settled', transaction: { status: 'failed' } });
    expect(w.asked).toEqual([{ depositId: tx.id }]);
    expect(await w.balance()).toBe(0);
  });

  it('leaves it pending while the gateway says pending, or does not know it and nobody asked to give up', async () => {
    for (const answer of [{ status: 'pending', paymentRef: 'pay_3' } as const, null]) {
      const w = setup(answer);
      const tx = await w.deposit();
      expect((await w.settle(tx)).outcome).toBe('pending');
      expect((await w.ledger.getTransaction(tx.id))?.status).toBe('pending');
    }
  });

  it('gives up on a payment the gateway never heard of only when it was created before the cut-off', async () => {
    const w = setup(null);
    const old = await w.deposit('2026-01-01T00:00:00.000Z');
    const recent = await w.deposit();
    const cutOff = { abandonCreatedBeforeMs: Date.parse('2026-01-02T00:00:00.000Z') };
    expect(await w.settle(old, cutOff)).toMatchObject({ outcome: 'settled', transaction: { status: 'failed' } });
    expect((await w.settle(recent, cutOff)).outcome).toBe('pending');
    // A known payment is never abandoned, whatever its age.
    const known = setup({ status: 'pending', paymentRef: 'pay_4' });
    expect((await known.settle(await known.deposit('2026-01-01T00:00:00.000Z'), cutOff)).outcome).toBe('pending');
  });

  it('asks nothing about a transaction already final, or of a type the gateway does not settle', async () => {
    const w = setup({ status: 'succeeded', paymentRef: 'pay_5' });
    const tx = await w.deposit();
    const done = await w.ledger.settle({ id: tx.id, status: 'failed', now: systemClock.now() });
    expect(await w.settle(done)).toEqual({ outcome: 'already_settled', transaction: done });
    const withdrawal: Transaction = { ...tx, id: uuidv7(), type: 'withdrawal' };
    expect(await w.settle(withdrawal)).toEqual({ outcome: 'not_settleable', transaction: withdrawal });
    expect(w.asked).toEqual([]);
  });

  it('loses quietly to a settler who came first (stale read), and credits nothing more', async () => {
    const w = setup({ status: 'succeeded', paymentRef: 'pay_6' });
    const stale = await w.deposit();
    await w.ledger.settle({ id: stale.id, status: 'completed', now: systemClock.now() });
    const spy = jest.spyOn(w.ledger, 'settle');
    expect((await w.settle(stale)).outcome).toBe('already_settled');
    await expect(spy.mock.results[0]?.value).rejects.toBeInstanceOf(InvalidStateTransition);
    expect(await w.balance()).toBe(700);
  });

  it('lets a gateway failure through, changing nothing', async () => {
    const w = setup(new PaymentGatewayError('Payment gateway unreachable'));
    const tx = await w.deposit();
    await expect(w.settle(tx)).rejects.toBeInstanceOf(PaymentGatewayError);
    expect((await w.ledger.getTransaction(tx.id))?.status).toBe('pending');
  });
});
