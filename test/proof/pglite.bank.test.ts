import { pgliteBackend } from './backends';
import { describeBankWorkload } from './bank-workload';

describeBankWorkload(pgliteBackend());
