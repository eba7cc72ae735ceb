// Holds (authorize now, capture or void later) and refunds. Balances gain `held`:
// the stored sum of holds still stored `held` (expired ones count until released).
export const version = 3;
export const name = 'holds-and-refunds';

export const sql = `
ALTER TABLE balances
  ADD COLUMN held bigint NOT NULL DEFAULT 0,
  ADD CONSTRAINT balances_held_non_negative CHECK (held >= 0),
  ADD CONSTRAINT balances_held_max CHECK (held <= 9007199254740991);

-- 0001 named these two constraints implicitly; a refund of a transfer carries to_user_id too.
ALTER TABLE transactions
  DROP CONSTRAINT transactions_type_check,
  DROP CONSTRAINT transactions_check,
  ADD CONSTRAINT transactions_type_check CHECK (type IN ('deposit', 'withdrawal', 'transfer', 'refund')),
  ADD CONSTRAINT transactions_recipient CHECK (
    CASE type WHEN 'transfer' THEN to_user_id IS NOT NULL WHEN 'refund' THEN true ELSE to_user_id IS NULL END),
  ADD COLUMN refunded_amount bigint NOT NULL DEFAULT 0,
  ADD COLUMN hold_id uuid,
  ADD COLUMN refund_of uuid,
  ADD CONSTRAINT transactions_refunded_amount CHECK (refunded_amount >= 0 AND refunded_amount <= amount),
  ADD CONSTRAINT transactions_refund_of CHECK ((type = 'refund') = (refund_of IS NOT NULL));

-- Reconciliation: pending (deposit) refunds, oldest first.
CREATE INDEX transactions_pending_refunds ON transactions (created_at, id)
  WHERE type = 'refund' AND status = 'pending';

CREATE TABLE holds (
  id               uuid PRIMARY KEY,
  user_id          text   NOT NULL,
  to_user_id       text,
  amount           bigint NOT NULL CHECK (amount > 0),
  currency         text   NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  captured_amount  bigint NOT NULL DEFAULT 0,
  status           text   NOT NULL,
  expires_at       timestamptz(3) NOT NULL,
  transaction_id   uuid,
  metadata         jsonb  NOT NULL DEFAULT '{}'::jsonb,
  created_at       timestamptz(3) NOT NULL,
  updated_at       timestamptz(3) NOT NULL,
  CONSTRAINT holds_status CHECK (status IN ('held', 'captured', 'voided', 'expired')),
  CONSTRAINT holds_captured_amount CHECK (captured_amount >= 0 AND captured_amount <= amount),
  CONSTRAINT holds_capture CHECK ((status = 'captured') = (transaction_id IS NOT NULL)),
  CONSTRAINT holds_payee CHECK (to_user_id IS DISTINCT FROM user_id)
);
-- The payer's listing, newest first (keyset pagination).
CREATE INDEX holds_payer_history ON holds (user_id, created_at DESC, id DESC);
-- A debit releasing the payer's expired holds in its currency.
CREATE INDEX holds_payer_live ON holds (user_id, currency, expires_at) WHERE status = 'held';
-- The scheduled release of holds nobody touches, oldest expiry first.
CREATE INDEX holds_due ON holds (expires_at) WHERE status = 'held';
`;
