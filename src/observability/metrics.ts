// CloudWatch metrics in Embedded Metric Format (one JSON line per publish, no API
// calls). POWERTOOLS_METRICS_DISABLED=true turns them off (tests, local runs).
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

export const metrics = new Metrics({ namespace: 'WalletService', serviceName: 'wallet-service' });
export { MetricUnit };

let coldStart = true;

/** One line per request: the route and its outcome ('ok' or the error code). */
export const recordRequest = (route: string, outcome: string, extra: { replayed?: boolean } = {}): void => {
  const m = metrics.singleMetric();
  m.addDimensions({ route, outcome });
  m.addMetric('Requests', MetricUnit.Count, 1);
  if (outcome === 'insufficient_funds') m.addMetric('InsufficientFunds', MetricUnit.Count, 1);
  if (extra.replayed) m.addMetric('IdempotentReplays', MetricUnit.Count, 1);
  if (coldStart) {
    m.addMetric('ColdStart', MetricUnit.Count, 1);
    coldStart = false;
  }
  m.publishStoredMetrics();
};

/** Money that moved (completed transactions), in minor units, per type and currency. */
export const recordAmountMoved = (type: string, currency: string, amount: number): void => {
  const m = metrics.singleMetric();
  m.addDimensions({ type, currency });
  m.addMetric('AmountMoved', MetricUnit.NoUnit, amount);
  m.publishStoredMetrics();
};

/** Payment gateway calls: latency by operation and outcome; circuit_open when failing fast. */
export const recordGatewayCall = (operation: string, outcome: string, latencyMs: number): void => {
  const m = metrics.singleMetric();
  m.addDimensions({ operation, outcome });
  m.addMetric('GatewayLatency', MetricUnit.Milliseconds, latencyMs);
  if (outcome === 'circuit_open') m.addMetric('GatewayCircuitOpen', MetricUnit.Count, 1);
  m.publishStoredMetrics();
};
