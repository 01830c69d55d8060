-- schema.sql - the database `sockcap analyze` writes (documented in docs/schema.md).
--
-- Times are nanoseconds since the Unix epoch (wall clock); durations are
-- nanoseconds.  Booleans are 0/1.  Text columns hold the bytes seen on the
-- wire (SQLite TEXT, not validated as UTF-8).  PRAGMA user_version holds the
-- schema version; sockcap refuses a database of another version.

CREATE TABLE IF NOT EXISTS captures (
	id             INTEGER PRIMARY KEY,
	path           TEXT NOT NULL UNIQUE,   -- absolute path of the analysed file
	format         TEXT NOT NULL,          -- 'skc', 'pcap', 'pcapng'
	hostname       TEXT,
	kernel         TEXT,
	tool           TEXT,                   -- the recorder and its version
	options        TEXT,                   -- the recorder's command line
	start_ns       INTEGER,
	end_ns         INTEGER,
	file_bytes     INTEGER,
	status         TEXT,                   -- 'complete', 'unfinished', 'damaged'
	bytes_captured INTEGER,                -- payload bytes in the file
	bytes_lost     INTEGER,                -- bytes the recorder knew it lost (LOSS records)
	damage         TEXT,                   -- what the reader had to skip, one line per region
	analyzer       TEXT,                   -- 'sockcap 0.1.0'
	analyzed_ns    INTEGER,
	connections    INTEGER,
	transactions   INTEGER,
	anomalies      INTEGER,
	-- pcap and pcapng only (NULL for .skc): frames read, the interfaces they
	-- came from, and what was not decoded, by reason.
	frames         INTEGER,
	interfaces     TEXT,                   -- one line per interface: link type, name, frames, TCP segments
	ip_fragments   INTEGER,                -- frames that were IP fragments
	reassembled    INTEGER,                -- IP datagrams reassembled from them
	skipped_non_ip INTEGER,                -- frames skipped: not IP (ARP, LLDP, PPP control ...)
	skipped_non_tcp INTEGER,               -- IP, not TCP (UDP, ICMP ...)
	skipped_truncated INTEGER,             -- cut by the snaplen inside the headers
	skipped_malformed INTEGER,             -- inconsistent headers
	skipped_link_type INTEGER,             -- of an interface whose link type sockcap does not decode
	skipped_fragments INTEGER,             -- fragments of datagrams that could not be reassembled
	skipped_tcp    INTEGER                 -- of the skipped frames, those that carried TCP: traffic lost
);

CREATE TABLE IF NOT EXISTS processes (
	capture_id     INTEGER NOT NULL REFERENCES captures(id),
	pid            INTEGER NOT NULL,
	ppid           INTEGER,
	comm           TEXT,
	PRIMARY KEY (capture_id, pid)
);

CREATE TABLE IF NOT EXISTS connections (
	id             INTEGER PRIMARY KEY,
	capture_id     INTEGER NOT NULL REFERENCES captures(id),
	source_id      INTEGER NOT NULL,       -- .skc socket id, or pcap connection number
	pid            INTEGER,                -- the process that owned the socket (.skc)
	comm           TEXT,
	fd             INTEGER,
	role           TEXT NOT NULL,          -- the local end: 'client', 'server', 'network' (pcap), 'unknown'
	family         TEXT,                   -- 'ipv4', 'ipv6', 'unix'
	local_addr     TEXT,                   -- pcap: the client
	local_port     INTEGER,
	remote_addr    TEXT,                   -- pcap: the server
	remote_port    INTEGER,
	unix_path      TEXT,
	protocol       TEXT,                   -- 'http/1', 'h2', 'tls', 'unknown', 'none'
	open_ns        INTEGER,
	close_ns       INTEGER,                -- NULL: still open when the capture ended
	midstream      INTEGER NOT NULL,       -- joined an established connection
	client_bytes   INTEGER NOT NULL,       -- bytes seen from the client
	server_bytes   INTEGER NOT NULL,
	client_gaps    INTEGER NOT NULL,       -- stream gaps from the client side
	server_gaps    INTEGER NOT NULL,
	client_gap_bytes INTEGER NOT NULL,     -- bytes missing in those gaps
	server_gap_bytes INTEGER NOT NULL,
	transactions   INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS transactions (
	id             INTEGER PRIMARY KEY,
	capture_id     INTEGER NOT NULL REFERENCES captures(id),
	connection_id  INTEGER NOT NULL REFERENCES connections(id),
	stream_id      INTEGER,                -- HTTP/2 stream id; NULL for HTTP/1
	http_version   TEXT,                   -- 'HTTP/1.0', 'HTTP/1.1', 'HTTP/2'
	method         TEXT,                   -- NULL: the request was not seen
	scheme         TEXT,
	authority      TEXT,                   -- HTTP/2 :authority, or the HTTP/1 Host header
	path           TEXT,                   -- request target as sent
	status         INTEGER,                -- final status; NULL: no response seen
	reason         TEXT,
	interim_status INTEGER,                -- last 1xx before the final response
	req_start_ns   INTEGER,                -- first byte of the request
	req_end_ns     INTEGER,                -- last byte of the request
	resp_start_ns  INTEGER,
	resp_end_ns    INTEGER,
	latency_ns     INTEGER,                -- resp_end_ns - req_start_ns
	req_header_bytes  INTEGER,
	req_body_bytes    INTEGER,             -- decoded body (after de-chunking)
	resp_header_bytes INTEGER,
	resp_body_bytes   INTEGER,
	content_type   TEXT,                   -- of the response
	content_encoding TEXT,
	complete       INTEGER NOT NULL,       -- both messages whole and parsed
	truncated      INTEGER NOT NULL,       -- a message was cut (gap, end of stream)
	error          INTEGER NOT NULL,       -- a protocol error in this exchange
	headers_incomplete INTEGER NOT NULL,   -- some headers are known to exist but not their content
	rst_code       INTEGER,                -- HTTP/2 RST_STREAM error code
	promised_by    INTEGER,                -- HTTP/2 server push: the promising stream
	grpc_service   TEXT,
	grpc_method    TEXT,
	grpc_status    INTEGER,
	grpc_message   TEXT,
	grpc_req_msgs  INTEGER,
	grpc_resp_msgs INTEGER,
	grpc_req_msg_bytes  INTEGER,
	grpc_resp_msg_bytes INTEGER,
	grpc_compressed_msgs INTEGER,
	req_offset     INTEGER,                -- stream offset of the request's first byte
	resp_offset    INTEGER
);

-- Header fields are stored one row per transaction, each message's fields as a
-- JSON array, and read through the `headers` view below.  One row per field
-- (a million for 100k small transactions) was two thirds of the load time;
-- the view gives the same rows.  Each field is [name, value] or
-- [name, value, flags]: name/value null when unknown; flags as in
-- analyze/model.h (1 trailer, 2 HPACK never-indexed, 4/8 name/value refer to
-- HPACK state that was lost).  JSON strings hold the header bytes as seen.
CREATE TABLE IF NOT EXISTS header_blocks (
	transaction_id INTEGER PRIMARY KEY REFERENCES transactions(id),
	request        TEXT,                   -- JSON array of the request's fields, NULL: none
	response       TEXT                    -- the response's (trailers last)
);

CREATE VIEW IF NOT EXISTS headers AS
SELECT b.transaction_id AS transaction_id, 'request' AS direction, j.key AS idx,
       j.value ->> 0 AS name, j.value ->> 1 AS value,
       coalesce(j.value ->> 2, 0) & 1 AS is_trailer,
       (coalesce(j.value ->> 2, 0) >> 1) & 1 AS never_indexed,
       (coalesce(j.value ->> 2, 0) & 12) != 0 AS hpack_unknown
FROM header_blocks b, json_each(b.request) j WHERE j.type = 'array'
UNION ALL
SELECT b.transaction_id, 'response', j.key,
       j.value ->> 0, j.value ->> 1,
       coalesce(j.value ->> 2, 0) & 1,
       (coalesce(j.value ->> 2, 0) >> 1) & 1,
       (coalesce(j.value ->> 2, 0) & 12) != 0
FROM header_blocks b, json_each(b.response) j WHERE j.type = 'array';

-- The view can be edited like a table, for fixtures written by hand: an
-- inserted row is appended to its message (idx is the position it lands at);
-- an update changes a field in place (not its place: delete and insert to
-- move it); a deleted field leaves a 0 in the array so that the positions of
-- the others, and the idx of rows the same statement is still deleting, stay.
CREATE TRIGGER IF NOT EXISTS headers_insert INSTEAD OF INSERT ON headers
BEGIN
	INSERT OR IGNORE INTO header_blocks (transaction_id) VALUES (NEW.transaction_id);
	UPDATE header_blocks SET
		request = CASE WHEN NEW.direction = 'request'
			THEN json_insert(coalesce(request, '[]'), '$[#]', json(f.field)) ELSE request END,
		response = CASE WHEN NEW.direction = 'response'
			THEN json_insert(coalesce(response, '[]'), '$[#]', json(f.field)) ELSE response END
	FROM (SELECT CASE WHEN flags = 0 THEN json_array(NEW.name, NEW.value)
			  ELSE json_array(NEW.name, NEW.value, flags) END AS field
	      FROM (SELECT (CASE WHEN NEW.is_trailer THEN 1 ELSE 0 END) |
			   (CASE WHEN NEW.never_indexed THEN 2 ELSE 0 END) |
			   (CASE WHEN NOT NEW.hpack_unknown THEN 0
				 WHEN NEW.name IS NULL AND NEW.value IS NULL THEN 12
				 WHEN NEW.name IS NULL THEN 4 ELSE 8 END) AS flags)) AS f
	WHERE transaction_id = NEW.transaction_id;
END;

CREATE TRIGGER IF NOT EXISTS headers_update INSTEAD OF UPDATE ON headers
BEGIN
	SELECT RAISE(ABORT, 'headers: transaction_id, direction and idx cannot be updated (delete and insert instead)')
	WHERE NEW.transaction_id IS NOT OLD.transaction_id OR NEW.direction IS NOT OLD.direction OR NEW.idx IS NOT OLD.idx;
	UPDATE header_blocks SET
		request = CASE WHEN OLD.direction = 'request'
			THEN json_replace(request, '$[' || OLD.idx || ']', json(f.field)) ELSE request END,
		response = CASE WHEN OLD.direction = 'response'
			THEN json_replace(response, '$[' || OLD.idx || ']', json(f.field)) ELSE response END
	FROM (SELECT CASE WHEN flags = 0 THEN json_array(NEW.name, NEW.value)
			  ELSE json_array(NEW.name, NEW.value, flags) END AS field
	      FROM (SELECT (CASE WHEN NEW.is_trailer THEN 1 ELSE 0 END) |
			   (CASE WHEN NEW.never_indexed THEN 2 ELSE 0 END) |
			   (CASE WHEN NOT NEW.hpack_unknown THEN 0
				 WHEN NEW.name IS NULL AND NEW.value IS NULL THEN 12
				 WHEN NEW.name IS NULL THEN 4 ELSE 8 END) AS flags)) AS f
	WHERE transaction_id = OLD.transaction_id;
END;

CREATE TRIGGER IF NOT EXISTS headers_delete INSTEAD OF DELETE ON headers
BEGIN
	UPDATE header_blocks SET
		request = CASE WHEN OLD.direction = 'request'
			THEN json_replace(request, '$[' || OLD.idx || ']', 0) ELSE request END,
		response = CASE WHEN OLD.direction = 'response'
			THEN json_replace(response, '$[' || OLD.idx || ']', 0) ELSE response END
	WHERE transaction_id = OLD.transaction_id;
END;

CREATE TABLE IF NOT EXISTS bodies (
	transaction_id INTEGER NOT NULL REFERENCES transactions(id),
	direction      TEXT NOT NULL,          -- 'request' or 'response'
	data           BLOB,                   -- the decoded body, at most --max-body bytes
	length         INTEGER NOT NULL,       -- the decoded body's full length
	truncated      INTEGER NOT NULL        -- data holds fewer bytes than length
);

CREATE TABLE IF NOT EXISTS anomalies (
	id             INTEGER PRIMARY KEY,
	capture_id     INTEGER NOT NULL REFERENCES captures(id),
	connection_id  INTEGER REFERENCES connections(id),
	direction      TEXT,                   -- 'client', 'server', or NULL
	stream_id      INTEGER,
	kind           TEXT NOT NULL,          -- 'gap', 'parse_error', 'truncated', 'undecoded'
	stream_offset  INTEGER,
	length         INTEGER,
	ts_ns          INTEGER,
	message        TEXT NOT NULL
);

-- The questions users ask first.

-- Per endpoint (method, authority and path without the query): requests,
-- errors (status >= 500, or a protocol error), latency percentiles
-- (nearest rank) over the transactions whose latency is known.
CREATE VIEW IF NOT EXISTS endpoint_stats AS
WITH t AS (
	SELECT method, authority,
	       CASE WHEN instr(path, '?') > 0 THEN substr(path, 1, instr(path, '?') - 1) ELSE path END AS route,
	       status, error, latency_ns
	FROM transactions WHERE method IS NOT NULL
), counts AS (
	SELECT method, authority, route, count(*) AS requests,
	       sum(CASE WHEN status >= 500 OR error THEN 1 ELSE 0 END) AS errors,
	       sum(CASE WHEN status IS NULL THEN 1 ELSE 0 END) AS no_response
	FROM t GROUP BY method, authority, route
), ranked AS (
	SELECT method, authority, route, latency_ns,
	       row_number() OVER (PARTITION BY method, authority, route ORDER BY latency_ns) AS rn,
	       count(*) OVER (PARTITION BY method, authority, route) AS n
	FROM t WHERE latency_ns IS NOT NULL
), pct AS (
	SELECT method, authority, route,
	       max(CASE WHEN rn = (50 * n + 99) / 100 THEN latency_ns END) AS p50_ns,
	       max(CASE WHEN rn = (95 * n + 99) / 100 THEN latency_ns END) AS p95_ns,
	       max(CASE WHEN rn = (99 * n + 99) / 100 THEN latency_ns END) AS p99_ns,
	       max(latency_ns) AS max_ns
	FROM ranked GROUP BY method, authority, route
)
SELECT c.method, c.authority, c.route, c.requests, c.errors,
       round(1.0 * c.errors / c.requests, 4) AS error_rate, c.no_response,
       p.p50_ns, p.p95_ns, p.p99_ns, p.max_ns
FROM counts c LEFT JOIN pct p
  ON p.method IS c.method AND p.authority IS c.authority AND p.route IS c.route;

-- Per process: connections, bytes each way, transactions.
CREATE VIEW IF NOT EXISTS process_traffic AS
SELECT c.capture_id, c.pid, c.comm,
       count(*) AS connections,
       sum(CASE WHEN c.role = 'server' THEN c.server_bytes ELSE c.client_bytes END) AS bytes_sent,
       sum(CASE WHEN c.role = 'server' THEN c.client_bytes ELSE c.server_bytes END) AS bytes_received,
       sum(c.transactions) AS transactions,
       sum(c.client_gap_bytes + c.server_gap_bytes) AS bytes_missing
FROM connections c
GROUP BY c.capture_id, c.pid, c.comm;

-- Every transaction with its latency, slowest first.
CREATE VIEW IF NOT EXISTS slowest_transactions AS
SELECT t.id, t.connection_id, c.pid, c.comm, c.role, t.http_version, t.method, t.authority, t.path, t.status,
       t.latency_ns, round(t.latency_ns / 1e6, 3) AS latency_ms, t.req_start_ns
FROM transactions t JOIN connections c ON c.id = t.connection_id
WHERE t.latency_ns IS NOT NULL
ORDER BY t.latency_ns DESC;

-- @indexes: created after the bulk load of a capture (sockcap analyze runs
-- everything above when it opens a database, and this part at the end).
CREATE INDEX IF NOT EXISTS connections_capture ON connections(capture_id);
CREATE INDEX IF NOT EXISTS transactions_connection ON transactions(connection_id);
CREATE INDEX IF NOT EXISTS transactions_capture ON transactions(capture_id);
CREATE INDEX IF NOT EXISTS bodies_transaction ON bodies(transaction_id);
CREATE INDEX IF NOT EXISTS anomalies_connection ON anomalies(connection_id);
CREATE INDEX IF NOT EXISTS anomalies_capture ON anomalies(capture_id);
