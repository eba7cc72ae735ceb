import { postgresBackend } from './backends';
import { describeBankWorkload } from './bank-workload';

describeBankWorkload(postgresBackend('wallet_proof_bank'));
