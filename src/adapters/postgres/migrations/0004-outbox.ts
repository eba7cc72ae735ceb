// The transactional outbox: every change of a transaction or hold counts itself in
// `version` and, with events on, writes its event into `outbox` in the same
// statement. Relays claim entries oldest `seq` first with a lease and a token.
export const version = 4;
export const name = 'outbox';

export const sql = `
-- Rows that exist already count as their first version.
ALTER TABLE transactions ADD COLUMN version integer NOT NULL DEFAULT 1;
ALTER TABLE holds ADD COLUMN version integer NOT NULL DEFAULT 1;

CREATE TABLE outbox (
  seq          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id           uuid NOT NULL UNIQUE,
  type         text NOT NULL,
  occurred_at  timestamptz(3) NOT NULL,
  version      integer NOT NULL CHECK (version > 0),
  resource     jsonb NOT NULL,
  -- Set by the relay that claimed the entry; claimable again once lease_until has passed.
  lease_until  timestamptz(3),
  claim_token  text,
  CONSTRAINT outbox_claim CHECK ((lease_until IS NULL) = (claim_token IS NULL))
);
-- The backlog's oldest event (claims walk the primary key, oldest seq first).
CREATE INDEX outbox_occurred_at ON outbox (occurred_at);
`;
