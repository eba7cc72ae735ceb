// The MongoDB bundles replace the `whatwg-url` package with Node's own URL
// (scripts/shims/whatwg-url.cjs, aliased in scripts/build.mjs). The driver's
// connection-string parser must read every kind of URI the same way with either.
/** What the test reads of the driver's parser (its package's exports map hides its types from tsc here). */
interface Parsed {
  hosts: string[];
  pathname: string;
  username: string;
  password: string;
  searchParams: URLSearchParams;
  toString(): string;
}
interface Parser {
  ConnectionString: new (uri: string) => Parsed;
}

const URIS = [
  'mongodb://u:p%40ss@host1:27017,host2:27018/db?replicaSet=rs0&authSource=admin',
  'mongodb+srv://user:pw@cluster0.abcde.mongodb.net/wallet?retryWrites=true&w=majority',
  'mongodb://127.0.0.1:27017/?replicaSet=rs0',
  'mongodb://[::1]:27017/x?tls=true',
  'mongodb://bücher.example:27017/a',
  'mongodb://host/?readPreference=secondary&readPreferenceTags=dc:ny,rack:1&readPreferenceTags=',
];

const parse = (parser: Parser): unknown[] => URIS.map((uri) => {
  const c = new parser.ConnectionString(uri);
  return { hosts: c.hosts, path: c.pathname, user: c.username, password: c.password, search: [...c.searchParams.entries()], text: c.toString() };
});

it('parses connection strings the same with the shim as with whatwg-url', () => {
  let real: unknown[] = [];
  let shimmed: unknown[] = [];
  jest.isolateModules(() => {
    real = parse(require('mongodb-connection-string-url') as Parser);
  });
  jest.isolateModules(() => {
    jest.doMock('whatwg-url', () => require('../../scripts/shims/whatwg-url.cjs'));
    shimmed = parse(require('mongodb-connection-string-url') as Parser);
  });
  expect(shimmed).toEqual(real);
  expect(real).toHaveLength(URIS.length);
});
