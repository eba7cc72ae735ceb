import { redisBackend } from './backends';
import { describeBankWorkload } from './bank-workload';

describeBankWorkload(redisBackend());
