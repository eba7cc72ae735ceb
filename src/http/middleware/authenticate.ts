// Authentication first: an anonymous caller learns nothing about bodies. The
// verified caller (and the app it was checked against) go on the request context.
import { app, type App } from '../../composition-root';
import { makeVerifier, type VerifyCaller } from '../auth';
import { header, type Middleware } from './request-context';

/** Verifiers are cached per App, so JWKS keys are fetched once per warm process. */
const verifiers = new WeakMap<App, VerifyCaller>();
const verifierFor = (a: App): VerifyCaller => {
  let v = verifiers.get(a);
  if (!v) verifiers.set(a, (v = makeVerifier(a.config.auth)));
  return v;
};

export const authenticate = (): Middleware => ({
  before: async ({ event, context }) => {
    const application = await app();
    context.caller = await verifierFor(application)(header(event, 'authorization'));
    context.app = application;
  },
});
