package sqlite

// migrations are the schema, one step per version: the database's
// PRAGMA user_version is how many have run. A step is never edited once
// released; a change is a new step, tested from every earlier version
// (TestMigrateFromEveryVersion).
var migrations = []string{
	// 1: scans, the results they saw, findings and their transitions.
	`CREATE TABLE scans (
		id INTEGER PRIMARY KEY,
		schedule TEXT NOT NULL DEFAULT '',
		target TEXT NOT NULL DEFAULT '',
		tick INTEGER NOT NULL DEFAULT 0,
		started_at INTEGER NOT NULL,
		finished_at INTEGER,
		outcome TEXT NOT NULL,
		message TEXT NOT NULL DEFAULT '',
		accounts INTEGER NOT NULL DEFAULT 0,
		results INTEGER NOT NULL DEFAULT 0,
		calls INTEGER NOT NULL DEFAULT 0
	);
	CREATE UNIQUE INDEX scans_tick ON scans(schedule, tick) WHERE schedule <> '';
	CREATE INDEX scans_started ON scans(started_at);
	CREATE TABLE result_sets (
		hash INTEGER PRIMARY KEY,
		data BLOB NOT NULL
	);
	CREATE TABLE scan_accounts (
		scan_id INTEGER NOT NULL REFERENCES scans(id),
		account_id TEXT NOT NULL,
		recorded_at INTEGER NOT NULL,
		calls INTEGER NOT NULL DEFAULT 0,
		results_hash INTEGER,
		PRIMARY KEY (scan_id, account_id)
	) WITHOUT ROWID;
	CREATE TABLE findings (
		id TEXT PRIMARY KEY,
		account_id TEXT NOT NULL,
		account_name TEXT NOT NULL DEFAULT '',
		ou TEXT NOT NULL DEFAULT '',
		rule_id TEXT NOT NULL,
		title TEXT NOT NULL DEFAULT '',
		resource TEXT NOT NULL,
		state TEXT NOT NULL,
		status TEXT NOT NULL,
		severity INTEGER NOT NULL,
		message TEXT NOT NULL DEFAULT '',
		evidence BLOB,
		first_seen INTEGER NOT NULL,
		last_seen INTEGER NOT NULL,
		opened_at INTEGER NOT NULL,
		resolved_at INTEGER,
		regressions INTEGER NOT NULL DEFAULT 0,
		resolutions INTEGER NOT NULL DEFAULT 0,
		open_seconds INTEGER NOT NULL DEFAULT 0,
		unknown_since INTEGER,
		gap TEXT NOT NULL DEFAULT ''
	);
	CREATE INDEX findings_account ON findings(account_id, rule_id, resource);
	CREATE INDEX findings_state ON findings(state, severity);
	CREATE TABLE transitions (
		id INTEGER PRIMARY KEY,
		finding_id TEXT NOT NULL REFERENCES findings(id),
		scan_id INTEGER NOT NULL DEFAULT 0,
		kind TEXT NOT NULL,
		at INTEGER NOT NULL,
		status TEXT NOT NULL,
		severity INTEGER NOT NULL,
		message TEXT NOT NULL DEFAULT '',
		detail TEXT NOT NULL DEFAULT ''
	);
	CREATE INDEX transitions_finding ON transitions(finding_id, id);`,

	// 2: suppressions, and whether a transition was muted by one.
	`CREATE TABLE suppressions (
		id INTEGER PRIMARY KEY,
		rule_id TEXT NOT NULL,
		account_id TEXT NOT NULL,
		resource TEXT NOT NULL DEFAULT '',
		reason TEXT NOT NULL,
		owner TEXT NOT NULL,
		ticket TEXT NOT NULL DEFAULT '',
		expires INTEGER,
		created_at INTEGER NOT NULL,
		expiry_handled INTEGER NOT NULL DEFAULT 0
	);
	CREATE INDEX suppressions_match ON suppressions(account_id, rule_id);
	ALTER TABLE transitions ADD COLUMN suppressed INTEGER NOT NULL DEFAULT 0;`,

	// 3: the outbox. A transition is written pending in the transaction
	// that makes it; a flush groups pending transitions into deliveries.
	`ALTER TABLE transitions ADD COLUMN pending INTEGER NOT NULL DEFAULT 0;
	CREATE INDEX transitions_pending ON transitions(pending) WHERE pending = 1;
	CREATE TABLE deliveries (
		id TEXT PRIMARY KEY,
		channel TEXT NOT NULL,
		created_at INTEGER NOT NULL,
		attempts INTEGER NOT NULL DEFAULT 0,
		last_error TEXT NOT NULL DEFAULT '',
		delivered_at INTEGER
	);
	CREATE INDEX deliveries_pending ON deliveries(delivered_at) WHERE delivered_at IS NULL;
	CREATE TABLE delivery_items (
		delivery_id TEXT NOT NULL REFERENCES deliveries(id),
		transition_id INTEGER NOT NULL REFERENCES transitions(id),
		PRIMARY KEY (delivery_id, transition_id)
	) WITHOUT ROWID;`,

	// 4: list findings of a state in report order without sorting them.
	`CREATE INDEX findings_list ON findings(state, account_id, rule_id, resource);`,

	// 5: API tokens, by their public key, holding only the hash.
	`CREATE TABLE tokens (
		id INTEGER PRIMARY KEY,
		name TEXT NOT NULL,
		role TEXT NOT NULL,
		key TEXT NOT NULL UNIQUE,
		hash BLOB NOT NULL,
		created_at INTEGER NOT NULL,
		revoked_at INTEGER
	);
	CREATE UNIQUE INDEX tokens_name ON tokens(name) WHERE revoked_at IS NULL;`,

	// 6: what the dashboard, the API and the metrics read: the accounts
	// recorded (name, OU, latest scan; filled from the history), findings
	// most severe first without sorting, and the transitions after a time
	// (the trend of open findings).
	`CREATE TABLE accounts (
		account_id TEXT PRIMARY KEY,
		account_name TEXT NOT NULL DEFAULT '',
		ou TEXT NOT NULL DEFAULT '',
		last_scan_id INTEGER NOT NULL,
		last_recorded_at INTEGER NOT NULL
	);
	INSERT INTO accounts (account_id, account_name, ou, last_scan_id, last_recorded_at)
	SELECT sa.account_id,
		COALESCE((SELECT f.account_name FROM findings f WHERE f.account_id = sa.account_id AND f.account_name <> '' ORDER BY f.last_seen DESC LIMIT 1), ''),
		COALESCE((SELECT f.ou FROM findings f WHERE f.account_id = sa.account_id AND f.ou <> '' ORDER BY f.last_seen DESC LIMIT 1), ''),
		MAX(sa.scan_id), MAX(sa.recorded_at)
	FROM scan_accounts sa GROUP BY sa.account_id;
	CREATE INDEX findings_severity ON findings(state, severity DESC, account_id, rule_id, resource);
	CREATE INDEX transitions_at ON transitions(at, kind);`,

	// 7: root events from the events queue, and the AssumeRoot sessions
	// that label them (store/rootevents.go).
	`CREATE TABLE root_events (
		id INTEGER PRIMARY KEY,
		event_id TEXT NOT NULL UNIQUE,
		kind TEXT NOT NULL,
		account_id TEXT NOT NULL,
		region TEXT NOT NULL,
		event_time INTEGER NOT NULL,
		event_source TEXT NOT NULL,
		event_name TEXT NOT NULL,
		identity_arn TEXT NOT NULL,
		source_ip TEXT NOT NULL,
		user_agent TEXT NOT NULL,
		access_key_id TEXT NOT NULL,
		mfa TEXT NOT NULL,
		error_code TEXT NOT NULL,
		error_message TEXT NOT NULL,
		new_access_key_id TEXT NOT NULL,
		own INTEGER NOT NULL,
		session_principal TEXT NOT NULL,
		summary TEXT NOT NULL,
		received_at INTEGER NOT NULL,
		message_id TEXT NOT NULL,
		problem TEXT NOT NULL,
		body TEXT NOT NULL,
		receives INTEGER NOT NULL,
		alert TEXT NOT NULL
	);
	CREATE INDEX root_events_account ON root_events(account_id, event_time);
	CREATE INDEX root_events_time ON root_events(event_time);
	CREATE INDEX root_events_key ON root_events(access_key_id) WHERE access_key_id <> '';
	CREATE INDEX root_events_alert ON root_events(alert) WHERE alert = 'pending';
	CREATE TABLE root_sessions (
		access_key_id TEXT PRIMARY KEY,
		account_id TEXT NOT NULL,
		principal TEXT NOT NULL,
		task_policy TEXT NOT NULL,
		opened_at INTEGER NOT NULL,
		vigil INTEGER NOT NULL
	);`,

	// 8: how many accounts a scan is to record, once known: an
	// organisation's tick queues its accounts' jobs while it lists them,
	// and says how many there were at the end.
	`ALTER TABLE scans ADD COLUMN expected INTEGER NOT NULL DEFAULT 0;`,

	// 9: root events alert in bursts: the pending events of one account
	// grouped when their alerts are queued, one alert per burst and
	// channel (server/events.go). The burst is the row ID of its first
	// event, kept so that a stop between grouping and queueing queues the
	// same bursts again.
	`ALTER TABLE root_events ADD COLUMN alert_burst INTEGER NOT NULL DEFAULT 0;
	CREATE INDEX root_events_burst ON root_events(alert_burst) WHERE alert_burst <> 0;`,

	// 10: the findings counted per state and account, a column per
	// severity (rule.Severity, 0 to 4), kept by triggers in the
	// transaction that writes the findings (whatever statement does it),
	// so that the overview reads a count per account instead of counting
	// every open finding after each scan, and ranks the accounts by an
	// index (most critical first) instead of sorting them all. Findings
	// are never deleted; the delete trigger keeps the counts right
	// should a later step start to.
	`CREATE TABLE finding_counts (
		state TEXT NOT NULL,
		account_id TEXT NOT NULL,
		sev0 INTEGER NOT NULL DEFAULT 0,
		sev1 INTEGER NOT NULL DEFAULT 0,
		sev2 INTEGER NOT NULL DEFAULT 0,
		sev3 INTEGER NOT NULL DEFAULT 0,
		sev4 INTEGER NOT NULL DEFAULT 0,
		PRIMARY KEY (state, account_id)
	) WITHOUT ROWID;
	CREATE INDEX finding_counts_rank ON finding_counts(state, sev4 DESC, sev3 DESC, sev2 DESC, sev1 DESC, sev0 DESC, account_id);
	INSERT INTO finding_counts (state, account_id, sev0, sev1, sev2, sev3, sev4)
		SELECT state, account_id, SUM(severity = 0), SUM(severity = 1), SUM(severity = 2), SUM(severity = 3), SUM(severity = 4)
		FROM findings GROUP BY state, account_id;
	CREATE TRIGGER finding_counts_insert AFTER INSERT ON findings BEGIN
		INSERT INTO finding_counts (state, account_id, sev0, sev1, sev2, sev3, sev4)
			VALUES (new.state, new.account_id, new.severity = 0, new.severity = 1, new.severity = 2, new.severity = 3, new.severity = 4)
			ON CONFLICT (state, account_id) DO UPDATE SET sev0 = sev0 + excluded.sev0, sev1 = sev1 + excluded.sev1, sev2 = sev2 + excluded.sev2,
				sev3 = sev3 + excluded.sev3, sev4 = sev4 + excluded.sev4;
	END;
	CREATE TRIGGER finding_counts_update AFTER UPDATE OF state, severity, account_id ON findings
		WHEN old.state <> new.state OR old.severity <> new.severity OR old.account_id <> new.account_id BEGIN
		UPDATE finding_counts SET sev0 = sev0 - (old.severity = 0), sev1 = sev1 - (old.severity = 1), sev2 = sev2 - (old.severity = 2),
			sev3 = sev3 - (old.severity = 3), sev4 = sev4 - (old.severity = 4)
			WHERE state = old.state AND account_id = old.account_id;
		INSERT INTO finding_counts (state, account_id, sev0, sev1, sev2, sev3, sev4)
			VALUES (new.state, new.account_id, new.severity = 0, new.severity = 1, new.severity = 2, new.severity = 3, new.severity = 4)
			ON CONFLICT (state, account_id) DO UPDATE SET sev0 = sev0 + excluded.sev0, sev1 = sev1 + excluded.sev1, sev2 = sev2 + excluded.sev2,
				sev3 = sev3 + excluded.sev3, sev4 = sev4 + excluded.sev4;
	END;
	CREATE TRIGGER finding_counts_delete AFTER DELETE ON findings BEGIN
		UPDATE finding_counts SET sev0 = sev0 - (old.severity = 0), sev1 = sev1 - (old.severity = 1), sev2 = sev2 - (old.severity = 2),
			sev3 = sev3 - (old.severity = 3), sev4 = sev4 - (old.severity = 4)
			WHERE state = old.state AND account_id = old.account_id;
	END;`,

	// 11: admins' changes to the automatic fix policies (dashboard and
	// API), every one kept with who made it and when; a rule's latest is
	// the policy in force, replacing the serve config's, on every replica.
	`CREATE TABLE autofix_changes (
		id INTEGER PRIMARY KEY,
		rule_id TEXT NOT NULL,
		mode TEXT NOT NULL,
		min_idle INTEGER NOT NULL,
		accounts TEXT NOT NULL,
		ous TEXT NOT NULL,
		changed_by TEXT NOT NULL,
		changed_at INTEGER NOT NULL
	);
	CREATE INDEX autofix_changes_rule ON autofix_changes(rule_id, id);`,

	// 12: finding_counts kept by the statements that write findings
	// (sqlstore/counts.go: one multi-row upsert of the sums per batch),
	// not by a trigger per finding row; counted again from the findings
	// as the triggers go, so that the kept counts start exact. And
	// findings_state dropped: findings_severity begins with the same
	// columns, and each finding written updated both.
	`DROP TRIGGER finding_counts_insert;
	DROP TRIGGER finding_counts_update;
	DROP TRIGGER finding_counts_delete;
	DELETE FROM finding_counts;
	INSERT INTO finding_counts (state, account_id, sev0, sev1, sev2, sev3, sev4)
		SELECT state, account_id, SUM(severity = 0), SUM(severity = 1), SUM(severity = 2), SUM(severity = 3), SUM(severity = 4)
		FROM findings GROUP BY state, account_id;
	DROP INDEX findings_state;`,

	// 13: a result set may be a delta, compressed against a full set of
	// the same account, its base (sqlstore/resultset.go): a changed set
	// stored whole was most of a 90-day organisation's size. The base's
	// index serves pruning, which keeps a base a delta refers to, and the
	// foreign key's checks.
	`ALTER TABLE result_sets ADD COLUMN base INTEGER REFERENCES result_sets(hash);
	CREATE INDEX result_sets_base ON result_sets(base);`,

	// 14: every finding but its last_seen packed into one text, kept by
	// the statements that write findings (sqlstore/packed.go), so that
	// listing them reads two columns a row instead of 21: the driver's
	// calls per column were most of a listing's time. Filled here for
	// the findings written before; the expression is sqlstore.PackedExpr
	// as of this version (TestPackedMigration).
	`ALTER TABLE findings ADD COLUMN packed TEXT;
	UPDATE findings SET packed = concat(octet_length(id), ':', id, octet_length(account_id), ':', account_id, octet_length(account_name), ':', account_name, octet_length(ou), ':', ou, octet_length(rule_id), ':', rule_id, octet_length(title), ':', title, octet_length(resource), ':', resource, octet_length(state), ':', state, octet_length(status), ':', status, severity, ';', octet_length(message), ':', message, octet_length(evidence), ':', evidence, first_seen, ';', opened_at, ';', resolved_at, ';', regressions, ';', resolutions, ';', open_seconds, ';', unknown_since, ';', octet_length(gap), ':', gap);`,

	// 15: findings kept in the order they are listed, state first
	// (WITHOUT ROWID, clustered on the listing's key), so that listing
	// the open findings reads one range of the table rather than looking
	// each up by rowid from an index: in a file aged by months of churn
	// those lookups landed anywhere in it, and were most of the listing
	// (BENCHMARKS.md, issue 12). A finding whose state changes moves;
	// one merely seen again is updated in place. The id stays unique
	// (the transitions' foreign key, the upserts' conflict target);
	// findings_list was this order as an index and goes. Run with the
	// foreign keys off (foreignKeysOff): the table is rebuilt under the
	// transitions that refer to it, which are checked before commit.
	`CREATE TABLE findings_clustered (
		id TEXT NOT NULL UNIQUE,
		account_id TEXT NOT NULL,
		account_name TEXT NOT NULL DEFAULT '',
		ou TEXT NOT NULL DEFAULT '',
		rule_id TEXT NOT NULL,
		title TEXT NOT NULL DEFAULT '',
		resource TEXT NOT NULL,
		state TEXT NOT NULL,
		status TEXT NOT NULL,
		severity INTEGER NOT NULL,
		message TEXT NOT NULL DEFAULT '',
		evidence BLOB,
		first_seen INTEGER NOT NULL,
		last_seen INTEGER NOT NULL,
		opened_at INTEGER NOT NULL,
		resolved_at INTEGER,
		regressions INTEGER NOT NULL DEFAULT 0,
		resolutions INTEGER NOT NULL DEFAULT 0,
		open_seconds INTEGER NOT NULL DEFAULT 0,
		unknown_since INTEGER,
		gap TEXT NOT NULL DEFAULT '',
		packed TEXT,
		PRIMARY KEY (state, account_id, rule_id, resource)
	) WITHOUT ROWID;
	INSERT INTO findings_clustered (id, account_id, account_name, ou, rule_id, title, resource, state, status, severity, message, evidence, first_seen, last_seen, opened_at, resolved_at, regressions, resolutions, open_seconds, unknown_since, gap, packed)
		SELECT id, account_id, account_name, ou, rule_id, title, resource, state, status, severity, message, evidence, first_seen, last_seen, opened_at, resolved_at, regressions, resolutions, open_seconds, unknown_since, gap, packed FROM findings;
	DROP TABLE findings;
	ALTER TABLE findings_clustered RENAME TO findings;
	CREATE INDEX findings_account ON findings(account_id, rule_id, resource);
	CREATE INDEX findings_severity ON findings(state, severity DESC, account_id, rule_id, resource);`,
}

// foreignKeysOff are the steps (by index) that rebuild a table others
// refer to: they run on a connection whose foreign keys are off, as
// SQLite's procedure for a table rebuild asks, and the keys are checked
// (PRAGMA foreign_key_check) before the step commits.
var foreignKeysOff = map[int]bool{14: true}

// Version is the schema version this build writes.
var Version = len(migrations)
