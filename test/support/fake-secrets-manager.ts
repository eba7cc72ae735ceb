// A local stand-in for AWS Secrets Manager that speaks the real wire protocol
// (JSON 1.1, X-Amz-Target) for GetSecretValue, so the real SDK and Powertools
// run unmodified against it. Point the SDK at it with
// AWS_ENDPOINT_URL_SECRETS_MANAGER=<endpoint>.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';

export type SecretsManagerErrorType =
  | 'ResourceNotFoundException'
  | 'AccessDeniedException'
  | 'DecryptionFailure'
  | 'InvalidRequestException'
  | 'InternalServiceError'
  | (string & {});

// AWS answers service faults with 500 (the SDK retries them), client errors with 400.
const STATUS: Record<string, number> = { InternalServiceError: 500 };

interface StoredSecret {
  name: string;
  arn: string;
  value: string;
  version: number;
  createdAt: Date;
}

export interface FakeSecretsManager {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  port: number;
  /** Creates or rotates a secret: a string as is, anything else JSON-encoded. */
  setSecret(id: string, value: unknown): void;
  /** Makes every GetSecretValue of `id` fail with this error type until cleared (`undefined`). */
  setError(id: string, type: SecretsManagerErrorType | undefined, message?: string): void;
  deleteSecret(id: string): void;
  /** GetSecretValue calls received, for one secret id or in total. */
  calls(id?: string): number;
  /** Sets the env vars the SDK reads (endpoint, region, dummy credentials). */
  sdkEnv(): Record<string, string>;
  close(): Promise<void>;
}

const randomSuffix = (): string => Math.random().toString(36).slice(2, 8).padEnd(6, 'x');

export const startFakeSecretsManager = async (options: { port?: number; host?: string } = {}): Promise<FakeSecretsManager> => {
  const secrets = new Map<string, StoredSecret>();
  const errors = new Map<string, { type: string; message: string }>();
  const callLog: string[] = [];

  const find = (id: string): StoredSecret | undefined =>
    secrets.get(id) ?? [...secrets.values()].find((s) => s.arn === id);

  const send = (res: ServerResponse, status: number, body: unknown, errorType?: string): void => {
    const headers: Record<string, string> = { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': crypto.randomUUID() };
    if (errorType) headers['x-amzn-errortype'] = errorType;
    res.writeHead(status, headers);
    res.end(JSON.stringify(body));
  };
  const fail = (res: ServerResponse, type: string, message: string): void =>
    send(res, STATUS[type] ?? 400, { __type: type, message }, type);

  const handle = (req: IncomingMessage, body: string, res: ServerResponse): void => {
    const target = req.headers['x-amz-target'];
    if (req.method !== 'POST' || target !== 'secretsmanager.GetSecretValue') {
      fail(res, 'UnknownOperationException', `Operation ${String(target)} is not supported by the fake`);
      return;
    }
    let secretId: unknown;
    try {
      secretId = (JSON.parse(body) as { SecretId?: unknown }).SecretId;
    } catch {
      fail(res, 'SerializationException', 'Body is not JSON');
      return;
    }
    if (typeof secretId !== 'string' || secretId === '') {
      fail(res, 'InvalidParameterException', 'SecretId is required');
      return;
    }
    callLog.push(secretId);
    const secret = find(secretId);
    const error = errors.get(secretId) ?? (secret ? errors.get(secret.name) : undefined);
    if (error) {
      fail(res, error.type, error.message);
      return;
    }
    if (!secret) {
      fail(res, 'ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
      return;
    }
    send(res, 200, {
      ARN: secret.arn,
      Name: secret.name,
      SecretString: secret.value,
      VersionId: `00000000-0000-4000-8000-${String(secret.version).padStart(12, '0')}`,
      VersionStages: ['AWSCURRENT'],
      CreatedDate: secret.createdAt.getTime() / 1000,
    });
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, Buffer.concat(chunks).toString('utf8'), res));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://${options.host ?? '127.0.0.1'}:${port}`;

  return {
    endpoint,
    port,
    setSecret(id, value) {
      const previous = secrets.get(id);
      secrets.set(id, {
        name: id,
        arn: previous?.arn ?? `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${id}-${randomSuffix()}`,
        value: typeof value === 'string' ? value : JSON.stringify(value),
        version: (previous?.version ?? 0) + 1,
        createdAt: new Date(),
      });
    },
    setError(id, type, message) {
      if (type === undefined) errors.delete(id);
      else errors.set(id, { type, message: message ?? `${type} for ${id}` });
    },
    deleteSecret(id) {
      secrets.delete(id);
    },
    calls(id) {
      return id === undefined ? callLog.length : callLog.filter((c) => c === id || find(c)?.name === id).length;
    },
    sdkEnv() {
      return {
        AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoint,
        AWS_REGION: REGION,
        AWS_ACCESS_KEY_ID: 'fake',
        AWS_SECRET_ACCESS_KEY: 'fake',
        // No instance metadata lookups when the credential chain is walked.
        AWS_EC2_METADATA_DISABLED: 'true',
      };
    },
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
    },
  };
};
