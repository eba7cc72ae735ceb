// The shared contract suite for the PaymentGateway port: the built-in fake and the
// HTTP adapter against the sandbox run these exact cases.
import { uuidv7 } from '../../src/adapters/system/system-clock';
import type { ChargeRequest, PaymentGateway } from '../../src/core/ports';

export interface GatewayFixture {
  gateway: PaymentGateway;
  /** How many times the gateway actually took money for this deposit id. */
  chargesFor(depositId: string): number;
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

export const describePaymentGatewayContract = (name: string, makeFixture: () => Promise<GatewayFixture>): void => {
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
  });
};
