-- Alerts and incidents, as the engine produced them.
CREATE TABLE alerts (
	id       TEXT    PRIMARY KEY,
	time     INTEGER NOT NULL,       -- Unix nanoseconds
	rule     TEXT    NOT NULL,
	severity TEXT    NOT NULL,
	identity TEXT    NOT NULL,
	incident TEXT    NOT NULL,
	body     TEXT    NOT NULL        -- the alert as JSON
);
CREATE INDEX alerts_incident ON alerts (incident, time);
CREATE INDEX alerts_identity ON alerts (identity, time);
CREATE INDEX alerts_time ON alerts (time);

CREATE TABLE incidents (
	id       TEXT    PRIMARY KEY,
	identity TEXT    NOT NULL,
	opened   INTEGER NOT NULL,
	updated  INTEGER NOT NULL,
	severity TEXT    NOT NULL,
	status   TEXT    NOT NULL DEFAULT 'open',
	body     TEXT    NOT NULL        -- the incident as JSON, without its alerts
);
CREATE INDEX incidents_updated ON incidents (updated);
CREATE INDEX incidents_identity ON incidents (identity, updated);

-- The outbox: every action is written here before it is sent.
CREATE TABLE actions (
	id        TEXT    PRIMARY KEY,   -- derived from incident, connector, kind, target
	connector TEXT    NOT NULL,
	kind      TEXT    NOT NULL,
	identity  TEXT    NOT NULL,
	incident  TEXT    NOT NULL,
	state     TEXT    NOT NULL,
	next_at   INTEGER NOT NULL,      -- Unix nanoseconds
	created   INTEGER NOT NULL,
	updated   INTEGER NOT NULL,
	body      TEXT    NOT NULL       -- the action as JSON
);
CREATE INDEX actions_due ON actions (state, next_at);
CREATE INDEX actions_incident ON actions (incident);
CREATE INDEX actions_identity ON actions (identity, created);

-- API tokens: only a hash of the secret is kept.
CREATE TABLE tokens (
	id        TEXT    PRIMARY KEY,
	name      TEXT    NOT NULL UNIQUE,
	role      TEXT    NOT NULL,
	hash      BLOB    NOT NULL,
	created   INTEGER NOT NULL,
	last_used INTEGER NOT NULL DEFAULT 0,
	revoked   INTEGER NOT NULL DEFAULT 0
);

-- The audit log: append-only, each entry chained to the previous by hash.
CREATE TABLE audit (
	seq    INTEGER PRIMARY KEY,
	time   INTEGER NOT NULL,
	actor  TEXT    NOT NULL,
	action TEXT    NOT NULL,
	target TEXT    NOT NULL,
	detail TEXT    NOT NULL,
	prev   BLOB    NOT NULL,
	hash   BLOB    NOT NULL
);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

-- Poller cursors and engine state that must survive restarts.
CREATE TABLE cursors (
	name    TEXT    PRIMARY KEY,
	value   TEXT    NOT NULL,
	updated INTEGER NOT NULL
);
CREATE TABLE state (
	name    TEXT    PRIMARY KEY,
	data    BLOB    NOT NULL,
	updated INTEGER NOT NULL
);
