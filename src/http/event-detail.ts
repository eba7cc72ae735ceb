import type { EventDetail, WalletEvent } from '../core/events';
import { publicHold, publicTransaction } from './resources';

/** An outbox event as the bus shows it: `data` is the resource exactly as the API returns it. */
export const eventDetail = (event: WalletEvent): EventDetail => ({
  id: event.id,
  type: event.type,
  occurredAt: event.occurredAt,
  version: event.version,
  data: { ...(event.resource.kind === 'hold' ? publicHold(event.resource.hold) : publicTransaction(event.resource.transaction)) },
});
