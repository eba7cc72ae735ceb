import { DomainError } from '../core/errors';
import type { PaymentGateway } from '../core/ports';
import { recordGatewayCall } from './metrics';

const outcomeOf = (err: unknown): string =>
  err instanceof DomainError ? (err.code === 'service_unavailable' ? 'circuit_open' : err.code) : 'error';

/** Decorates any PaymentGateway with latency and outcome metrics. */
export const instrumentGateway = (gateway: PaymentGateway): PaymentGateway => {
  const timed = async <T>(operation: string, call: () => Promise<T>, outcome: (r: T) => string): Promise<T> => {
    const started = performance.now();
    try {
      const result = await call();
      recordGatewayCall(operation, outcome(result), performance.now() - started);
      return result;
    } catch (err) {
      recordGatewayCall(operation, outcomeOf(err), performance.now() - started);
      throw err;
    }
  };
  return {
    charge: (req) => timed('charge', () => gateway.charge(req), (r) => r.status),
    getPaymentStatus: (ref) => timed('status', () => gateway.getPaymentStatus(ref), (r) => r?.status ?? 'unknown'),
    refund: (req) => timed('refund', () => gateway.refund(req), (r) => r.status),
    getRefundStatus: (ref) => timed('refund_status', () => gateway.getRefundStatus(ref), (r) => r?.status ?? 'unknown'),
  };
};
