import { Logger } from '@aws-lambda-powertools/logger';

/** Structured JSON logs. Never log tokens, secrets or payment details. */
export const logger = new Logger({ serviceName: 'wallet-service' });
