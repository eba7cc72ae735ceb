// One route's Lambda handler served over HTTP on 127.0.0.1, standing in for API Gateway
// where something needs a URL to post to (the sandbox gateway's webhook sender): each
// request becomes a real v2 event, as invoke.ts builds them, and the result its answer.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { apiGatewayEvent } from './api-gateway-event';
import { invokeHandler, ROUTES, type RouteName } from './invoke';

export interface RouteServer {
  url: string;
  close(): Promise<void>;
}

export const serveRoute = async (route: RouteName): Promise<RouteServer> => {
  const def = ROUTES[route];
  const handler = def.load().handler as Parameters<typeof invokeHandler>[0];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : v]));
      const event = apiGatewayEvent({
        method: def.method, path: def.path, routeKey: `${def.method} ${def.path}`, headers,
        body: Buffer.concat(chunks).toString('utf8'), contentType: req.headers['content-type'] ?? null,
      });
      invokeHandler(handler, event).then(
        (answer) => res.writeHead(answer.status, answer.headers).end(answer.raw),
        () => res.writeHead(500).end(),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${def.path}`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
};
