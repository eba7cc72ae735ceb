// Imported first by the benches that build the app in process: metrics must be off
// before src/observability/metrics.ts is evaluated (Powertools reads the variable when
// it is constructed, and imports run before the importing module's own statements).
process.env.POWERTOOLS_METRICS_DISABLED = 'true';
