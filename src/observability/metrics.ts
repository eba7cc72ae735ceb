// CloudWatch metrics in Embedded Metric Format (JSON lines on stdout, no API calls).
// A single-metric instance writes its line on each addMetric, with its dimensions.
// POWERTOOLS_METRICS_DISABLED=true turns them off (tests, local runs).
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

export const metrics = new Metrics({ namespace: 'WalletService', serviceName: 'wallet-service' });
export { MetricUnit };

// Skip the work entirely while disabled. (isDisabled is protected in its types but is the library's own check.)
const enabled = (): boolean => !(metrics as unknown as { isDisabled(): boolean }).isDisabled();

let coldStart = true;

/** One line per request: the route and its outcome ('ok' or the error code). */
export const recordRequest = (route: string, outcome: string, extra: { replayed?: boolean } = {}): void => {
  if (!enabled()) return;
  const m = metrics.singleMetric();
  m.addDimensions({ route, outcome });
  m.addMetric('Requests', MetricUnit.Count, 1);
  if (outcome === 'insufficient_funds') m.addMetric('InsufficientFunds', MetricUnit.Count, 1);
  if (extra.replayed) m.addMetric('IdempotentReplays', MetricUnit.Count, 1);
  if (coldStart) {
    m.addMetric('ColdStart', MetricUnit.Count, 1);
    coldStart = false;
  }
};

/** Money that moved (completed transactions), in minor units, per type and currency. */
export const recordAmountMoved = (type: string, currency: string, amount: number): void => {
  if (!enabled()) return;
  const m = metrics.singleMetric();
  m.addDimensions({ type, currency });
  m.addMetric('AmountMoved', MetricUnit.NoUnit, amount);
};

/** Payment gateway calls: latency by operation and outcome; circuit_open when failing fast. */
export const recordGatewayCall = (operation: string, outcome: string, latencyMs: number): void => {
  if (!enabled()) return;
  const m = metrics.singleMetric();
  m.addDimensions({ operation, outcome });
  m.addMetric('GatewayLatency', MetricUnit.Milliseconds, latencyMs);
  if (outcome === 'circuit_open') m.addMetric('GatewayCircuitOpen', MetricUnit.Count, 1);
};
