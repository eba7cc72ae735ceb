import type { Config } from '../../config';
import type { PaymentGateway } from '../../core/ports';

// Placeholder until the HTTP gateway adapter lands.
export const makeHttpPaymentGateway = (_config: Config['payment']): PaymentGateway => {
  throw new Error('PAYMENT_API_URL is not supported yet');
};
