// Memory has no storage to break: the payment gateway's faults only.
import { memoryBackend } from './backends';
import { describeBankUnderFaults } from './bank-faults';

describeBankUnderFaults(memoryBackend());
