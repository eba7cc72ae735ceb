import { redisBackend } from './backends';
import { describeBankUnderFaults } from './bank-faults';
import { redisFaults } from './storage-faults';

describeBankUnderFaults(redisBackend(), redisFaults());
