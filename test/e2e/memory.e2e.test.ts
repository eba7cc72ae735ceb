import { describeWalletE2E } from './wallet-e2e';

describeWalletE2E('memory', { primary: true });
