// Every gateway operation, refunds included, is timed with its outcome (EMF GatewayLatency).
import { makeFakePaymentGateway } from '../../src/adapters/payment-gateway/fake-payment-gateway';
import { PaymentGatewayError } from '../../src/core/errors';
import type { PaymentGateway } from '../../src/core/ports';
import { instrumentGateway } from '../../src/observability/instrumented-gateway';
import * as metrics from '../../src/observability/metrics';

describe('instrumented payment gateway', () => {
  const record = jest.spyOn(metrics, 'recordGatewayCall');
  afterEach(() => record.mockClear());
  afterAll(() => record.mockRestore());
  const calls = (): Array<[string, string]> => record.mock.calls.map(([operation, outcome]) => [operation, outcome]);

  it('records refund and refund_status with the gateway answer, or unknown when it has none', async () => {
    const gateway = instrumentGateway(makeFakePaymentGateway());
    const { paymentRef } = await gateway.charge({ depositId: 'd1', amount: 100, currency: 'USD', paymentToken: 'tok_refund_pending' });
    expect((await gateway.refund({ refundId: 'r1', depositId: 'd1', paymentRef, amount: 100, currency: 'USD' })).status).toBe('pending');
    expect(await gateway.getRefundStatus({ refundId: 'r1' })).toMatchObject({ status: 'succeeded' });
    expect(await gateway.getRefundStatus({ refundId: 'r2' })).toBeNull();
    expect(calls()).toEqual([['charge', 'succeeded'], ['refund', 'pending'], ['refund_status', 'succeeded'], ['refund_status', 'unknown']]);
  });

  it('records a refund that failed by its error code and rethrows it', async () => {
    const failing: PaymentGateway = {
      ...makeFakePaymentGateway(),
      refund: async (req) => { throw new PaymentGatewayError('Payment gateway timed out', req.refundId); },
    };
    const gateway = instrumentGateway(failing);
    await expect(gateway.refund({ refundId: 'r1', depositId: 'd1', amount: 1, currency: 'USD' })).rejects.toBeInstanceOf(PaymentGatewayError);
    expect(calls()).toEqual([['refund', 'payment_gateway_error']]);
  });
});
