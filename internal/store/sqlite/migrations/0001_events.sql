-- Raw vendor records, compressed in blocks (see store.PackBlock).
CREATE TABLE blocks (
	id    INTEGER PRIMARY KEY,
	codec TEXT    NOT NULL,
	count INTEGER NOT NULL,
	data  BLOB    NOT NULL
);

-- One row per normalized event: the fields queries filter on, and where the
-- original record is. The full event is re-derived from the record.
CREATE TABLE events (
	id          INTEGER PRIMARY KEY,
	dedupe      BLOB    NOT NULL UNIQUE, -- store.EventKey
	source      TEXT    NOT NULL,
	vendor_id   TEXT    NOT NULL,
	time        INTEGER NOT NULL,        -- event time, Unix nanoseconds
	received    INTEGER NOT NULL,        -- receive time, Unix nanoseconds
	category    TEXT    NOT NULL,
	activity    TEXT    NOT NULL,
	vendor_type TEXT    NOT NULL,
	result      TEXT    NOT NULL,
	actor       TEXT    NOT NULL,
	actor_kind  TEXT    NOT NULL,
	session     TEXT,                    -- event.Session.Key()
	session_alt TEXT,                    -- another session key (root, token, access key)
	ip          TEXT,
	block       INTEGER NOT NULL,        -- blocks.id
	slot        INTEGER NOT NULL,        -- index of the record in the block
	part        INTEGER NOT NULL         -- index of the event in the record
);
CREATE INDEX events_time ON events (time);
CREATE INDEX events_actor_time ON events (actor, time);
CREATE INDEX events_session ON events (session) WHERE session IS NOT NULL;
CREATE INDEX events_session_alt ON events (session_alt) WHERE session_alt IS NOT NULL;

-- Records that could not be decoded, with the reason; kept once each.
CREATE TABLE quarantine (
	id       INTEGER PRIMARY KEY,
	digest   BLOB    NOT NULL UNIQUE,    -- store.RecordDigest of raw
	received INTEGER NOT NULL,
	origin   TEXT    NOT NULL,
	line     INTEGER NOT NULL,
	elem     INTEGER NOT NULL,
	source   TEXT    NOT NULL,
	reason   TEXT    NOT NULL,
	raw      BLOB    NOT NULL
);
CREATE INDEX quarantine_origin ON quarantine (origin, line);
