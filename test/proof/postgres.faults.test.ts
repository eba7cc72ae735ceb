import { postgresBackend } from './backends';
import { describeBankUnderFaults } from './bank-faults';
import { postgresFaults } from './storage-faults';

const database = 'wallet_proof_faults';
describeBankUnderFaults(postgresBackend(database), postgresFaults(database));
