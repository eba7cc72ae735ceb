// CloudWatch metrics in Embedded Metric Format (JSON lines on stdout, no API calls).
// A single-metric instance writes its line on each addMetric, with its dimensions.
// POWERTOOLS_METRICS_DISABLED=true turns them off (tests, local runs).
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

export const metrics = new Metrics({ namespace: 'WalletService', serviceName: 'wallet-service' });
export { MetricUnit };

// Skip the work entirely while disabled. (isDisabled is protected in its types but is the library's own check.)
const enabled = (): boolean => !(metrics as unknown as { isDisabled(): boolean }).isDisabled();

let coldStart = true;

// One single-metric instance for the process: building one per line (a new Metrics and
// its Console) cost about a sixth of a money route's CPU. Reusing it is safe: it flushes
// on addMetric and then forgets its dimensions, and JavaScript runs addDimensions and
// addMetric of one line with nothing in between.
let single: Metrics | undefined;

/** One EMF line with exactly these dimensions. */
const emit = (dimensions: Record<string, string>, name: string, unit: (typeof MetricUnit)[keyof typeof MetricUnit], value: number): void => {
  single ??= metrics.singleMetric();
  single.addDimensions(dimensions);
  single.addMetric(name, unit, value);
};

/** Per request: the route and its outcome ('ok' or the error code). */
export const recordRequest = (route: string, outcome: string, extra: { replayed?: boolean } = {}): void => {
  if (!enabled()) return;
  const dims = { route, outcome };
  emit(dims, 'Requests', MetricUnit.Count, 1);
  if (outcome === 'insufficient_funds') emit(dims, 'InsufficientFunds', MetricUnit.Count, 1);
  if (extra.replayed) emit(dims, 'IdempotentReplays', MetricUnit.Count, 1);
  if (coldStart) {
    emit(dims, 'ColdStart', MetricUnit.Count, 1);
    coldStart = false;
  }
};

/** Money that moved (completed transactions), in minor units, per type and currency. */
export const recordAmountMoved = (type: string, currency: string, amount: number): void => {
  if (!enabled()) return;
  emit({ type, currency }, 'AmountMoved', MetricUnit.NoUnit, amount);
};

/** Payment gateway calls: latency by operation and outcome; circuit_open when failing fast. */
export const recordGatewayCall = (operation: string, outcome: string, latencyMs: number): void => {
  if (!enabled()) return;
  emit({ operation, outcome }, 'GatewayLatency', MetricUnit.Milliseconds, latencyMs);
  if (outcome === 'circuit_open') emit({ operation, outcome }, 'GatewayCircuitOpen', MetricUnit.Count, 1);
};

/** The outbox after a relay run: events not yet published and the age of the oldest (the alarm watches it). */
export const recordOutboxBacklog = (count: number, oldestAgeSeconds: number): void => {
  if (!enabled()) return;
  emit({}, 'OutboxBacklog', MetricUnit.Count, count);
  emit({}, 'OutboxOldestAgeSeconds', MetricUnit.Seconds, oldestAgeSeconds);
};
