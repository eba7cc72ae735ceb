// Users, balances, transactions and idempotency keys. Amounts are bigint minor
// units; timestamps are timestamptz(3) so they round-trip as ISO strings with ms.
export const version = 1;
export const name = 'initial-schema';

export const sql = `
CREATE TABLE users (
  id          text PRIMARY KEY,
  email       text NOT NULL,
  name        text NOT NULL,
  created_at  timestamptz(3) NOT NULL
);

-- No foreign keys to users: the core checks profiles, and the ledger port does not
-- require one (reconciliation and operators may touch balances of any id).
CREATE TABLE balances (
  user_id    text   NOT NULL,
  currency   text   NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  available  bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (user_id, currency),
  -- The last line of defence against an overdraft, whatever the code does.
  CONSTRAINT balances_available_non_negative CHECK (available >= 0),
  -- Balances stay exact as a JS number (Number.MAX_SAFE_INTEGER).
  CONSTRAINT balances_available_max CHECK (available <= 9007199254740991)
);

CREATE TABLE transactions (
  id           uuid PRIMARY KEY,
  type         text NOT NULL CHECK (type IN ('deposit', 'withdrawal', 'transfer')),
  status       text NOT NULL CHECK (status IN ('pending', 'completed', 'failed')),
  user_id      text NOT NULL,
  to_user_id   text,
  amount       bigint NOT NULL CHECK (amount > 0),
  currency     text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  metadata     jsonb NOT NULL DEFAULT '{}'::jsonb,
  payment_ref  text,
  created_at   timestamptz(3) NOT NULL,
  updated_at   timestamptz(3) NOT NULL,
  CHECK ((type = 'transfer') = (to_user_id IS NOT NULL)),
  CHECK (to_user_id IS DISTINCT FROM user_id)
);

-- Keyset pagination, newest first, for each party: the history query is a UNION ALL
-- of one index range scan per index.
CREATE INDEX transactions_owner_history ON transactions (user_id, created_at DESC, id DESC);
CREATE INDEX transactions_recipient_history ON transactions (to_user_id, created_at DESC, id DESC)
  WHERE to_user_id IS NOT NULL;
-- Reconciliation: pending deposits, oldest first.
CREATE INDEX transactions_pending_deposits ON transactions (created_at, id)
  WHERE type = 'deposit' AND status = 'pending';

CREATE TABLE idempotency_keys (
  caller_id       text NOT NULL,
  key             text NOT NULL,
  fingerprint     text NOT NULL,
  state           text NOT NULL CHECK (state IN ('in_flight', 'open', 'done')),
  lease_until     timestamptz(3) NOT NULL,
  expires_at      timestamptz(3) NOT NULL,
  transaction_id  uuid,
  outcome         jsonb,
  PRIMARY KEY (caller_id, key)
);
-- For a purge of expired keys (DELETE ... WHERE expires_at < now()).
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);
`;
