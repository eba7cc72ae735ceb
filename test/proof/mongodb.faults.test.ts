// Gateway faults on MongoDB (storage faults for a replica set are out of scope of the local setup).
import { mongodbBackend } from './backends';
import { describeBankUnderFaults } from './bank-faults';

describeBankUnderFaults(mongodbBackend());
