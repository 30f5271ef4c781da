-- Electronic-signature keys (internal/esign): one Ed25519 key per tenant
-- signs people's signatures of resource versions. The private key is
-- sealed with the tenant's data key (envelope encryption under the KEK);
-- the public key stays readable so that signatures verify without it.
-- Old keys are kept: signatures made with them must still verify.
CREATE TABLE signing_keys (
	tenant     TEXT    NOT NULL,
	kid        TEXT    NOT NULL,
	public_key BLOB    NOT NULL CHECK (length(public_key) = 32),
	sealed     BLOB    NOT NULL,
	created_ns INTEGER NOT NULL,
	PRIMARY KEY (tenant, kid)
) STRICT, WITHOUT ROWID;
