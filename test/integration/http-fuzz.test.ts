// HTTP fuzzing on the memory store (the other stores: http-fuzz-*.test.ts).
import '../support/memory-http-env';

import { describeHttpFuzz } from './http-fuzz-suite';

describeHttpFuzz('memory', { runs: 120 });
