// Imported first by the benches that build the app in process: metrics must be off
// before src/observability/metrics.ts is evaluated (Powertools reads the variable when
// it is constructed, and imports run before the importing module's own statements).
// Their stdout is a section of BENCHMARKS.md, so the app's INFO log lines (e.g. the
// outbox backlog) stay out of it too; warnings and errors still reach the terminal.
process.env.POWERTOOLS_METRICS_DISABLED = 'true';
process.env.POWERTOOLS_LOG_LEVEL = 'WARN';
