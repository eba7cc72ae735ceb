// `serverless package --stage prod` works without AWS credentials and produces
// what a deployment needs: one artifact per function holding only its bundle,
// least-privilege IAM, throttling, log retention, and the optional JWT authorizer.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ROUTES } from '../support/invoke';

const root = resolve(__dirname, '../..');
const cli = require.resolve('serverless/bin/serverless.js', { paths: [root] });

interface Template {
  Resources: Record<string, { Type: string; Properties: Record<string, unknown>; DependsOn?: string[] }>;
}

/** The parts of a Fn::Join, flattened to text (Refs as ${Name}). */
const joined = (value: unknown): string => {
  const join = (value as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (!join) return String(value);
  return join[1].map((p) => (typeof p === 'string' ? p : `\${${(p as { Ref: string }).Ref}}`)).join(join[0]);
};

const packageStage = (params: string[] = []): { dir: string; template: Template } => {
  const dir = mkdtempSync(join(tmpdir(), 'wallet-package-'));
  const env: NodeJS.ProcessEnv = { ...process.env, WALLET_BUILD_DIR: '.build/package-test' };
  for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE']) delete env[name];
  execFileSync(process.execPath, [cli, 'package', '--stage', 'prod', '--package', dir, ...params], { cwd: root, env, stdio: 'pipe' });
  return { dir, template: JSON.parse(readFileSync(join(dir, 'cloudformation-template-update-stack.json'), 'utf8')) as Template };
};

const zipEntries = (file: string): string[] => {
  // The central directory lists every entry: signature 0x02014b50, name at offset 46.
  const buf = readFileSync(file);
  const names: string[] = [];
  for (let i = buf.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02])); i >= 0; i = buf.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]), i + 4)) {
    const nameLength = buf.readUInt16LE(i + 28);
    names.push(buf.subarray(i + 46, i + 46 + nameLength).toString('utf8'));
  }
  return names;
};

describe('serverless package --stage prod (no AWS credentials)', () => {
  let plain: { dir: string; template: Template };

  beforeAll(() => {
    plain = packageStage();
  }, 120_000);

  it('produces one artifact per function, each holding only its own bundle', () => {
    const functions = readdirSync(join(root, 'functions')).filter((f) => f.endsWith('.ts')).map((f) => f.replace(/\.ts$/, ''));
    const zips = readdirSync(plain.dir).filter((f) => f.endsWith('.zip')).map((f) => f.replace(/\.zip$/, '')).sort();
    expect(zips).toEqual([...functions].sort());
    for (const name of functions) expect(zipEntries(join(plain.dir, `${name}.zip`))).toEqual([`.build/package-test/${name}.js`]);
  });

  it('gives every contract route its own API Gateway route, and nothing else but the $default catch-all', () => {
    const routes = Object.values(plain.template.Resources).filter((r) => r.Type === 'AWS::ApiGatewayV2::Route').map((r) => r.Properties.RouteKey).sort();
    const contract = Object.values(ROUTES).map((r) => `${r.method} ${r.path}`);
    expect(routes).toEqual([...contract, '$default'].sort());
  });

  it('gives a refund the time a deposit has (a deposit refund asks the gateway like a charge)', () => {
    const timeoutOf = (name: string) => Object.values(plain.template.Resources)
      .find((r) => r.Type === 'AWS::Lambda::Function' && r.Properties.FunctionName === `wallet-service-prod-${name}`)?.Properties.Timeout;
    expect(timeoutOf('create-refund')).toBe(timeoutOf('create-deposit'));
    expect(timeoutOf('create-refund')).toBe(25);
    for (const name of ['create-hold', 'get-hold', 'list-holds', 'capture-hold', 'void-hold']) expect([name, timeoutOf(name)]).toEqual([name, 15]);
  });

  it('publishes events to a bus of the stage: creates it, grants events:PutEvents on it only, schedules the relay, alarms on the outbox age', () => {
    const resources = plain.template.Resources;
    expect(resources.WalletEventBus).toMatchObject({ Type: 'AWS::Events::EventBus', Properties: { Name: 'wallet-prod' } });
    const role = Object.values(resources).find((r) => r.Type === 'AWS::IAM::Role');
    const statements = (role?.Properties.Policies as Array<{ PolicyDocument: { Statement: Array<{ Action: string[] | string; Resource: unknown }> } }>)
      .flatMap((p) => p.PolicyDocument.Statement);
    const put = statements.filter((st) => st.Action === 'events:PutEvents' || (Array.isArray(st.Action) && st.Action.includes('events:PutEvents')));
    expect(put.flatMap((st) => (Array.isArray(st.Resource) ? st.Resource : [st.Resource])).map(joined))
      .toEqual(['arn:aws:events:${AWS::Region}:${AWS::AccountId}:event-bus/wallet-prod']);
    const functions = Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::Function');
    for (const f of functions) expect((f.Properties.Environment as { Variables: Record<string, unknown> }).Variables.EVENT_BUS_NAME).toBe('wallet-prod');
    const rules = Object.values(resources).filter((r) => r.Type === 'AWS::Events::Rule').map((r) => r.Properties.ScheduleExpression);
    expect(rules.sort()).toEqual(['rate(1 minute)', 'rate(5 minutes)']);
    expect(resources.OutboxAgeAlarm).toMatchObject({
      Type: 'AWS::CloudWatch::Alarm',
      Properties: { Namespace: 'WalletService', MetricName: 'OutboxOldestAgeSeconds', Threshold: 300, ComparisonOperator: 'GreaterThanThreshold', TreatMissingData: 'breaching' },
    });
  });

  it('grants only secretsmanager:GetSecretValue on the stage secret (and events:PutEvents on its bus), throttles, keeps logs, runs nodejs22.x', () => {
    const resources = Object.values(plain.template.Resources);
    const role = resources.find((r) => r.Type === 'AWS::IAM::Role');
    const statements = (role?.Properties.Policies as Array<{ PolicyDocument: { Statement: Array<{ Action: string[] | string; Resource: unknown }> } }>)
      .flatMap((p) => p.PolicyDocument.Statement);
    const actions = statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
    expect(actions.filter((a) => !a.startsWith('logs:'))).toEqual(['secretsmanager:GetSecretValue', 'events:PutEvents']);
    // Exactly the stage secret: its name plus Secrets Manager's 6-character suffix.
    const secretStatements = statements.filter((s) => s.Action === 'secretsmanager:GetSecretValue' || (Array.isArray(s.Action) && s.Action.includes('secretsmanager:GetSecretValue')));
    const arns = secretStatements.flatMap((s) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource])).map(joined);
    expect(arns).toEqual(['arn:aws:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:wallet/prod/app-??????']);
    const stage = resources.find((r) => r.Type === 'AWS::ApiGatewayV2::Stage');
    expect(stage?.Properties.DefaultRouteSettings).toEqual({ ThrottlingRateLimit: 500, ThrottlingBurstLimit: 1000 });
    const logGroups = resources.filter((r) => r.Type === 'AWS::Logs::LogGroup');
    expect(logGroups.length).toBeGreaterThan(0);
    for (const g of logGroups) expect(g.Properties.RetentionInDays).toBe(365);
    for (const f of resources.filter((r) => r.Type === 'AWS::Lambda::Function')) expect(f.Properties.Runtime).toBe('nodejs22.x');
    expect(resources.some((r) => r.Type === 'AWS::ApiGatewayV2::Authorizer')).toBe(false);
  });

  it('tells each function its own timeout (the basis of the idempotency lease) and passes the gateway opt-in through', () => {
    const functions = Object.values(plain.template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
    expect(functions.length).toBeGreaterThan(0);
    const timeouts = new Set<number>();
    for (const f of functions) {
      const env = (f.Properties.Environment as { Variables: Record<string, string> }).Variables;
      expect(Number(env.FUNCTION_TIMEOUT_SECONDS)).toBe(f.Properties.Timeout);
      expect(env).toHaveProperty('PAYMENT_GATEWAY');
      timeouts.add(f.Properties.Timeout as number);
    }
    expect([...timeouts].sort((a, b) => a - b)).toEqual([15, 25, 60]);
  });

  it('routes POST /webhooks/payments to its own function, unauthorized by API Gateway, throttled for bursts, its secret only in the app secret', () => {
    const resources = plain.template.Resources;
    const routes = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::ApiGatewayV2::Route');
    const [routeId, route] = routes.find(([, r]) => r.Properties.RouteKey === 'POST /webhooks/payments') ?? [];
    expect(route?.Properties.AuthorizationType ?? 'NONE').toBe('NONE');
    const fnId = Object.keys(resources).find((id) => resources[id]?.Type === 'AWS::Lambda::Function' && String(resources[id]?.Properties.Handler).endsWith('/receive-payment-webhook.handler'));
    expect(JSON.stringify(route?.Properties.Target)).toContain('HttpApiIntegrationReceiveDashpaymentDashwebhook');
    expect(JSON.stringify(resources.HttpApiIntegrationReceiveDashpaymentDashwebhook?.Properties.IntegrationUri)).toContain(`"${fnId}"`);
    const stage = Object.values(resources).find((r) => r.Type === 'AWS::ApiGatewayV2::Stage');
    // Its own limits: a burst well above the sustained rate; the stage's default for the other routes.
    expect(stage?.Properties.RouteSettings).toEqual({ 'POST /webhooks/payments': { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 500 } });
    // The stage names the route's key, so the route must exist first.
    expect(stage?.DependsOn).toContain(routeId);
    expect(resources[fnId ?? '']?.Properties.Timeout).toBe(25);
    for (const f of Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::Function')) {
      const env = (f.Properties.Environment as { Variables: Record<string, string> }).Variables;
      expect(Object.keys(env).filter((k) => /SECRET|KEY|PASSWORD/.test(k) && k !== 'APP_SECRET_ID')).toEqual([]);
      expect(env.APP_SECRET_ID).toBe('wallet/prod/app');
    }
  });

  it('puts a Cognito JWT authorizer in front of every authenticated route when asked', () => {
    const { template } = packageStage([
      '--param=authorizer=cognito',
      '--param=jwtIssuerUrl=https://cognito-idp.us-east-1.amazonaws.com/us-east-1_example',
      '--param=jwtAudience=example-client',
    ]);
    const routes = Object.values(template.Resources).filter((r) => r.Type === 'AWS::ApiGatewayV2::Route');
    const open = routes.filter((r) => r.Properties.AuthorizationType !== 'JWT').map((r) => r.Properties.RouteKey).sort();
    expect(open).toEqual(['$default', 'GET /health', 'GET /openapi.json', 'POST /webhooks/payments']);
    expect(Object.values(template.Resources).find((r) => r.Type === 'AWS::ApiGatewayV2::Authorizer')?.Properties.JwtConfiguration)
      .toEqual({ Audience: ['example-client'], Issuer: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_example' });
  }, 120_000);
});
