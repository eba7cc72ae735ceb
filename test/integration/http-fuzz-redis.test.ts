// HTTP fuzzing on Redis (the shared local server, a key prefix of its own, deleted after).
import '../support/memory-http-env';

import { randomUUID } from 'node:crypto';
import { deleteKeysWithPrefix, redisTestConfig } from '../support/redis-test-env';
import { describeHttpFuzz } from './http-fuzz-suite';

const PREFIX = `wallet:test-http-fuzz-${randomUUID()}:`;
process.env.STORAGE = 'redis';
process.env.REDIS_KEY_PREFIX = PREFIX;

afterAll(() => deleteKeysWithPrefix(redisTestConfig(), PREFIX));

describeHttpFuzz('Redis', { runs: 40 });
