-- Shared Signals transmitter state: receivers' streams, their subjects, the
-- queue of signed SETs awaiting delivery, and the signing keys.
CREATE TABLE ssf_streams (
	id   TEXT PRIMARY KEY,
	body TEXT NOT NULL -- the ssf.Stream as JSON (holds the push Authorization header: a secret)
) STRICT;

CREATE TABLE ssf_subjects (
	stream  TEXT NOT NULL,
	subject BLOB NOT NULL, -- canonical JSON, compared bytewise
	PRIMARY KEY (stream, subject)
) STRICT;

CREATE TABLE ssf_queue (
	seq          INTEGER PRIMARY KEY AUTOINCREMENT, -- enqueue order
	stream       TEXT NOT NULL,
	jti          TEXT NOT NULL,
	event_type   TEXT NOT NULL,
	token        TEXT NOT NULL, -- the signed SET
	created      INTEGER NOT NULL,
	state        TEXT NOT NULL,
	attempts     INTEGER NOT NULL,
	next_attempt INTEGER NOT NULL,
	last_error   TEXT NOT NULL,
	UNIQUE (stream, jti)
) STRICT;
CREATE INDEX ssf_queue_state ON ssf_queue (stream, state, seq);

CREATE TABLE ssf_keys (
	id      TEXT PRIMARY KEY,
	alg     TEXT NOT NULL,
	private BLOB NOT NULL, -- PKCS #8 PEM
	created INTEGER NOT NULL,
	retired INTEGER NOT NULL
) STRICT;
