#!/usr/bin/env node
// Creates an empty PGlite data directory (initdb) for `npm start`'s first run, beside
// serverless-offline's own start-up instead of on the first request. It is built in a
// temporary folder and renamed into place, so an interrupted run leaves nothing half made;
// the app migrates it on first open, as it would a directory it created itself.
// Usage: node scripts/pglite-init.mjs <data directory>
import { PGlite } from '@electric-sql/pglite';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node scripts/pglite-init.mjs <data directory>');
  process.exit(2);
}
if (!existsSync(dir)) {
  const tmp = `${dir}.init-${process.pid}`;
  mkdirSync(dirname(dir), { recursive: true });
  rmSync(tmp, { recursive: true, force: true });
  const db = await PGlite.create(tmp);
  await db.close();
  // Another start may have created it meanwhile: keep theirs.
  if (existsSync(dir)) rmSync(tmp, { recursive: true, force: true });
  else renameSync(tmp, dir);
}
