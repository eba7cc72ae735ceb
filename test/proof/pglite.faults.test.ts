// The embedded store runs inside the API process: the payment gateway's faults only.
import { pgliteBackend } from './backends';
import { describeBankUnderFaults } from './bank-faults';

describeBankUnderFaults(pgliteBackend());
