import { notFoundHandler } from '../src/http/not-found';

/** The catch-all ($default) route: unknown paths and methods. */
export const handler = notFoundHandler;
