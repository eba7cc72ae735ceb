// The shared contract suite for the PaymentGateway port: the built-in fake and the
// HTTP adapter against the sandbox run these exact cases.
import { uuidv7 } from '../../src/adapters/system/system-clock';
import { PaymentGatewayError } from '../../src/core/errors';
import type { ChargeRequest, PaymentGateway, RefundRequest } from '../../src/core/ports';

export interface GatewayFixture {
  gateway: PaymentGateway;
  /** How many times the gateway actually took money for this deposit id. */
  chargesFor(depositId: string): number;
  /** Money the gateway actually gave back for this refund id (minor units). */
  refundedFor(refundId: string): number;
  /** Only for a gateway that can fail: from now on it processes requests but their answers are lost; `clear` ends it. */
  faults?: { loseAnswers(): void; clear(): void };
  /** Called once after the suite. */
  close?: () => Promise<void>;
}

const request = (paymentToken: string, over: Partial<ChargeRequest> = {}): ChargeRequest => ({
  depositId: uuidv7(),
  amount: 1050,
  currency: 'USD',
  paymentToken,
  ...over,
});

interface Deposit {
  req: ChargeRequest;
  paymentRef: string;
}

const refundOf = ({ req, paymentRef }: Deposit, over: Partial<RefundRequest> = {}): RefundRequest => ({
  refundId: uuidv7(),
  depositId: req.depositId,
  paymentRef,
  amount: req.amount,
  currency: req.currency,
  ...over,
});

/** `canFail`: the fixture has `faults`, and the cases that need them run. */
export const describePaymentGatewayContract = (
  name: string, makeFixture: () => Promise<GatewayFixture>, { canFail = false }: { canFail?: boolean } = {},
): void => {
  describe(`payment gateway contract: ${name}`, () => {
    let f: GatewayFixture;
    let gateway: PaymentGateway;

    beforeAll(async () => {
      f = await makeFixture();
      ({ gateway } = f);
    });
    afterAll(async () => {
      await f?.close?.();
    });

    it('tok_ok succeeds and is then known by deposit id and by payment ref', async () => {
      const req = request('tok_ok');
      const result = await gateway.charge(req);
      expect(result.status).toBe('succeeded');
      expect(result.paymentRef).toEqual(expect.any(String));
      expect(await gateway.getPaymentStatus({ depositId: req.depositId })).toEqual(result);
      expect(await gateway.getPaymentStatus({ depositId: req.depositId, paymentRef: result.paymentRef })).toEqual(result);
      expect(f.chargesFor(req.depositId)).toBe(1);
    });

    it('charges once per deposit id, however often and concurrently it is called', async () => {
      const req = request('tok_ok');
      const results = await Promise.all([gateway.charge(req), gateway.charge(req), gateway.charge(req)]);
      const again = await gateway.charge(req);
      for (const r of [...results, again]) expect(r).toEqual(results[0]);
      expect(f.chargesFor(req.depositId)).toBe(1);
    });

    it('different deposit ids are different payments', async () => {
      const a = await gateway.charge(request('tok_ok'));
      const b = await gateway.charge(request('tok_ok'));
      expect(a.paymentRef).not.toBe(b.paymentRef);
    });

    it('tok_pending is pending, then succeeds on its first status poll', async () => {
      const req = request('tok_pending');
      const result = await gateway.charge(req);
      expect(result.status).toBe('pending');
      expect(await gateway.getPaymentStatus({ depositId: req.depositId, paymentRef: result.paymentRef }))
        .toEqual({ status: 'succeeded', paymentRef: result.paymentRef });
      expect(await gateway.getPaymentStatus({ depositId: req.depositId }))
        .toEqual({ status: 'succeeded', paymentRef: result.paymentRef });
      // Charging it again answers the settled payment and takes nothing more.
      expect((await gateway.charge(req)).status).toBe('succeeded');
      expect(f.chargesFor(req.depositId)).toBe(1);
    });

    it('tok_declined is declined, stays declined and takes nothing', async () => {
      const req = request('tok_declined');
      const result = await gateway.charge(req);
      expect(result.status).toBe('declined');
      expect((await gateway.charge(req)).status).toBe('declined');
      expect((await gateway.getPaymentStatus({ depositId: req.depositId }))?.status).toBe('declined');
      expect(f.chargesFor(req.depositId)).toBe(0);
    });

    it('a deposit the gateway never saw is unknown (null), by deposit id or by a made-up ref', async () => {
      const depositId = uuidv7();
      expect(await gateway.getPaymentStatus({ depositId })).toBeNull();
      expect(await gateway.getPaymentStatus({ depositId, paymentRef: 'pay_unknown' })).toBeNull();
      expect(f.chargesFor(depositId)).toBe(0);
    });

    /** A charged deposit (the refund tokens charge like tok_ok). */
    const deposit = async (paymentToken = 'tok_ok'): Promise<Deposit> => {
      const req = request(paymentToken);
      const { status, paymentRef } = await gateway.charge(req);
      expect(status).toBe('succeeded');
      return { req, paymentRef };
    };

    it('a refund succeeds and is then known by refund id and by its own ref', async () => {
      const d = await deposit();
      const r = refundOf(d);
      const result = await gateway.refund(r);
      expect(result.status).toBe('succeeded');
      expect(result.paymentRef).toEqual(expect.any(String));
      expect(result.paymentRef).not.toBe(d.paymentRef);
      expect(await gateway.getRefundStatus({ refundId: r.refundId })).toEqual(result);
      expect(await gateway.getRefundStatus({ refundId: r.refundId, paymentRef: result.paymentRef })).toEqual(result);
      expect(f.refundedFor(r.refundId)).toBe(d.req.amount);
    });

    it('a refund without the payment ref finds the payment by the deposit id', async () => {
      const d = await deposit();
      const r = refundOf(d, { amount: 300, paymentRef: undefined });
      expect((await gateway.refund(r)).status).toBe('succeeded');
      expect(f.refundedFor(r.refundId)).toBe(300);
    });

    it('tok_refund_pending: the deposit succeeds, its refund is pending, then succeeds on its first status poll', async () => {
      const d = await deposit('tok_refund_pending');
      const r = refundOf(d);
      const result = await gateway.refund(r);
      expect(result.status).toBe('pending');
      expect(await gateway.refund(r)).toEqual(result); // asking again is no poll
      expect(await gateway.getRefundStatus({ refundId: r.refundId, paymentRef: result.paymentRef }))
        .toEqual({ status: 'succeeded', paymentRef: result.paymentRef });
      expect(await gateway.getRefundStatus({ refundId: r.refundId })).toEqual({ status: 'succeeded', paymentRef: result.paymentRef });
      expect(await gateway.refund(r)).toEqual({ status: 'succeeded', paymentRef: result.paymentRef });
      expect(f.refundedFor(r.refundId)).toBe(d.req.amount);
    });

    it('tok_refund_declined: the deposit succeeds, its refunds are declined and give nothing back', async () => {
      const d = await deposit('tok_refund_declined');
      const r = refundOf(d);
      expect((await gateway.refund(r)).status).toBe('declined');
      expect((await gateway.refund(r)).status).toBe('declined');
      expect((await gateway.getRefundStatus({ refundId: r.refundId }))?.status).toBe('declined');
      expect(f.refundedFor(r.refundId)).toBe(0);
    });

    it('refunds once per refund id, however often and concurrently it is called', async () => {
      const d = await deposit();
      const r = refundOf(d, { amount: 700 });
      const results = await Promise.all([gateway.refund(r), gateway.refund(r), gateway.refund(r)]);
      const again = await gateway.refund(r);
      for (const x of [...results, again]) expect(x).toEqual(results[0]);
      expect(results[0]?.status).toBe('succeeded');
      expect(f.refundedFor(r.refundId)).toBe(700);
      // Only 700 is gone: what is left of the payment can still be refunded.
      expect((await gateway.refund(refundOf(d, { amount: d.req.amount - 700 }))).status).toBe('succeeded');
    });

    it('refunds never exceed what was charged: an over-refund is declined and gives nothing back', async () => {
      const d = await deposit();
      const first = refundOf(d, { amount: 600 });
      const tooMuch = refundOf(d, { amount: d.req.amount - 600 + 1 });
      const rest = refundOf(d, { amount: d.req.amount - 600 });
      const more = refundOf(d, { amount: 1 });
      expect((await gateway.refund(first)).status).toBe('succeeded');
      expect((await gateway.refund(tooMuch)).status).toBe('declined');
      expect((await gateway.refund(rest)).status).toBe('succeeded');
      expect((await gateway.refund(more)).status).toBe('declined');
      expect([first, tooMuch, rest, more].map((r) => f.refundedFor(r.refundId))).toEqual([600, 0, d.req.amount - 600, 0]);

      const whole = refundOf(await deposit(), { amount: d.req.amount + 1 });
      expect((await gateway.refund(whole)).status).toBe('declined');
      expect(f.refundedFor(whole.refundId)).toBe(0);
    });

    it('a refund of a declined or unknown payment is declined', async () => {
      const declined = request('tok_declined');
      const { paymentRef } = await gateway.charge(declined);
      const ofDeclined = refundOf({ req: declined, paymentRef });
      expect((await gateway.refund(ofDeclined)).status).toBe('declined');
      const ofUnknown = refundOf({ req: request('tok_ok'), paymentRef: 'pay_unknown' }, { paymentRef: undefined });
      expect((await gateway.refund(ofUnknown)).status).toBe('declined');
      expect(f.refundedFor(ofDeclined.refundId) + f.refundedFor(ofUnknown.refundId)).toBe(0);
    });

    it('a refund the gateway never saw is unknown (null), by refund id or by a made-up ref', async () => {
      const refundId = uuidv7();
      expect(await gateway.getRefundStatus({ refundId })).toBeNull();
      expect(await gateway.getRefundStatus({ refundId, paymentRef: 're_unknown' })).toBeNull();
      expect(f.refundedFor(refundId)).toBe(0);
    });

    (canFail ? it : it.skip)('a refund whose answers are lost is an unknown outcome (PaymentGatewayError naming it); a retry with the same id refunds once', async () => {
      const faults = f.faults;
      if (!faults) throw new Error('canFail needs fixture.faults');
      const d = await deposit();
      const r = refundOf(d);
      faults.loseAnswers();
      const err = await gateway.refund(r).then(() => undefined, (e: unknown) => e);
      faults.clear();
      expect(err).toBeInstanceOf(PaymentGatewayError);
      expect((err as PaymentGatewayError).depositId).toBe(r.refundId);
      expect(f.refundedFor(r.refundId)).toBe(d.req.amount); // the gateway did refund
      expect((await gateway.refund(r)).status).toBe('succeeded');
      expect(await gateway.getRefundStatus({ refundId: r.refundId })).toMatchObject({ status: 'succeeded' });
      expect(f.refundedFor(r.refundId)).toBe(d.req.amount);
    });
  });
};
