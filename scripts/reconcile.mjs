#!/usr/bin/env node
// `npm run reconcile`: runs the `reconcile-deposits` function once inside a running
// `npm start` (nothing schedules it under serverless-offline), through serverless-offline's
// Lambda Invoke endpoint on LAMBDA_PORT (3002), so it sees the same store as the API.
// It settles deposits pending longer than RECONCILE_OLDER_THAN_SECONDS (60 s by default;
// set it when starting the server, e.g. RECONCILE_OLDER_THAN_SECONDS=0 npm start).
const host = process.env.HOST || 'localhost';
const port = process.env.LAMBDA_PORT || '3002';
const url = `http://${host}:${port}/2015-03-31/functions/wallet-service-local-reconcile-deposits/invocations`;
try {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  const text = await res.text();
  if (!res.ok || res.headers.get('x-amz-function-error')) {
    console.error(`reconcile-deposits failed (${res.status}): ${text}`);
    process.exit(1);
  }
  console.log('reconcile-deposits ran; its report is in the `npm start` log ("reconciled deposits")');
} catch (err) {
  console.error(`Could not reach ${url} (${err.cause?.code ?? err.message}): is \`npm start\` running (LAMBDA_PORT ${port})?`);
  process.exit(1);
}
