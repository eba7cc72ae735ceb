import { mongodbBackend } from './backends';
import { describeBankWorkload } from './bank-workload';

describeBankWorkload(mongodbBackend());
