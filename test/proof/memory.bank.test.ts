import { memoryBackend } from './backends';
import { describeBankWorkload } from './bank-workload';

describeBankWorkload(memoryBackend());
