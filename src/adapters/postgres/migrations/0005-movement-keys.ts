// A withdrawal or transfer claimed on the fast path keeps its idempotency key on its
// own row instead of a second row in idempotency_keys: the movement's INSERT is the
// record (one heap row and two index entries fewer per keyed movement). The replay is
// rebuilt from the row as it was created; `first_metadata` keeps the metadata it was
// created with once an admin replaces it. Keys kept this way do not expire.
//
// Claims and fast-path movements of one (caller, key) serialise on a transaction-level
// advisory lock whose number is `lock_hash` (the adapter's keyLock: the first 64 bits
// of SHA-256 over key, U+0001, caller). claim_idempotency_key takes it, then checks the
// transactions in a fresh snapshot and inserts the claim, in one call. The fast path
// takes it in its BEGIN and then looks for a claim by lock_hash (a later statement, so
// a fresh snapshot): one key, one record.
export const version = 5;
export const name = 'movement-keys';

export const sql = `
ALTER TABLE transactions ADD COLUMN idempotency_key text;
ALTER TABLE transactions ADD COLUMN idempotency_fingerprint text;
ALTER TABLE transactions ADD COLUMN first_metadata jsonb;
-- The owner is the caller of every fast-path movement (a withdrawal's owner, a transfer's sender).
CREATE UNIQUE INDEX transactions_idempotency ON transactions (user_id, idempotency_key)
  WHERE idempotency_key IS NOT NULL;

-- keyLock in SQL, for the keys stored before and for claims written by older code.
CREATE FUNCTION idempotency_lock_hash(p_key text, p_caller text) RETURNS bigint LANGUAGE sql STABLE AS $$
  SELECT ('x' || left(encode(sha256(convert_to(p_key || chr(1) || p_caller, 'UTF8')), 'hex'), 16))::bit(64)::bigint
$$;
ALTER TABLE idempotency_keys ADD COLUMN lock_hash bigint;
UPDATE idempotency_keys SET lock_hash = idempotency_lock_hash(key, caller_id);
ALTER TABLE idempotency_keys ALTER COLUMN lock_hash SET NOT NULL;
CREATE INDEX idempotency_keys_lock ON idempotency_keys (lock_hash);

-- While a deploy rolls out, code from before this migration may still run against
-- it: it writes claims without lock_hash and knows nothing of keys on movements.
-- Its claims get their lock_hash here (so the fast path sees them), and its claim of
-- a key a movement already carries fails as a serialization failure, which that code
-- retries and then answers 503: the client's retry reaches the new code and replays,
-- instead of the old code moving the money a second time.
CREATE FUNCTION idempotency_keys_before_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.lock_hash IS NULL THEN
    IF EXISTS (SELECT 1 FROM transactions WHERE user_id = NEW.caller_id AND idempotency_key = NEW.key) THEN
      RAISE EXCEPTION 'idempotency key is carried by a movement: retry against the current code'
        USING ERRCODE = '40001';
    END IF;
    NEW.lock_hash := idempotency_lock_hash(NEW.key, NEW.caller_id);
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER idempotency_keys_lock_hash BEFORE INSERT ON idempotency_keys
  FOR EACH ROW EXECUTE FUNCTION idempotency_keys_before_insert();

-- 'claimed' (a new in-flight claim), 'moved' (a movement carries the key; nothing
-- written) or 'exists' (the key has a record in idempotency_keys; nothing written).
CREATE FUNCTION claim_idempotency_key(
  p_caller text, p_key text, p_fingerprint text, p_lease_until timestamptz, p_expires_at timestamptz,
  p_token text, p_lock bigint
) RETURNS text LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(p_lock);
  -- A VOLATILE function's statements each take a fresh snapshot: this one sees every
  -- movement that committed while the lock was being waited for.
  IF EXISTS (SELECT 1 FROM transactions WHERE user_id = p_caller AND idempotency_key = p_key) THEN
    RETURN 'moved';
  END IF;
  INSERT INTO idempotency_keys (caller_id, key, fingerprint, state, lease_until, expires_at, claim_token, lock_hash)
  VALUES (p_caller, p_key, p_fingerprint, 'in_flight', p_lease_until, p_expires_at, p_token, p_lock)
  ON CONFLICT (caller_id, key) DO NOTHING;
  IF FOUND THEN RETURN 'claimed'; END IF;
  RETURN 'exists';
END
$$;
`;
