# commandcenter-store: sourced by the postgres container's store scripts
# (". commandcenter-store"), after commandcenter-lock. It reads the store's
# keys from the secret file COMMANDCENTER_STORE_CREDENTIALS into shell
# variables (never exported, never printed), and keeps the project's lease:
# one object in the bucket (COMMANDCENTER_STORE_LEASE_KEY) that names the
# copy of the database that may write to the store. The store enforces it:
# a lease is created only if none exists (If-None-Match: *) and replaced
# only by whoever read its current version (If-Match: its ETag), so of two
# engines that race for it, one wins and the other is refused.
cc_tmp=${TMPDIR:-/tmp}/commandcenter-store.$$
mkdir -p "$cc_tmp"
trap 'rm -rf "$cc_tmp"' EXIT

# cc_dotenv FILE KEY: the value of KEY=... in a dotenv file (export and
# quotes allowed), or nothing. The file is read, never run.
cc_dotenv() {
	sed -n -e "s/^[[:space:]]*\(export[[:space:]]\{1,\}\)\{0,1\}$2[[:space:]]*=[[:space:]]*//p" "$1" |
		head -n 1 | sed -e 's/[[:space:]]*$//' -e 's/^"\(.*\)"$/\1/' -e "s/^'\(.*\)'\$/\1/"
}

# cc_store_keys: cc_key_id, cc_key_secret and cc_key_token from the
# credentials file; exits 2, naming the flag, when they are missing.
cc_store_keys() {
	cc_f=$COMMANDCENTER_STORE_CREDENTIALS
	cc_key_id=$(cc_dotenv "$cc_f" AWS_ACCESS_KEY_ID)
	cc_key_secret=$(cc_dotenv "$cc_f" AWS_SECRET_ACCESS_KEY)
	cc_key_token=$(cc_dotenv "$cc_f" AWS_SESSION_TOKEN)
	if [ -z "$cc_key_id" ] || [ -z "$cc_key_secret" ]; then
		echo "--store-credentials: the file needs two lines, AWS_ACCESS_KEY_ID=... and AWS_SECRET_ACCESS_KEY=... (AWS_SESSION_TOKEN=... is optional)" >&2
		exit 2
	fi
}

# cc_s3 METHOD KEY [CURL ARG...]: one request, signed with SigV4, for KEY in
# the bucket (empty: the bucket itself). Prints the HTTP status (000 when
# the store did not answer); the body is in $cc_tmp/body, the headers in
# $cc_tmp/head, curl's error in $cc_tmp/err. The keys reach curl on its
# stdin, as its configuration, never in an argument.
cc_s3() {
	cc_m=$1 cc_k=$2
	shift 2
	{
		printf 'user = "%s:%s"\n' "$cc_key_id" "$cc_key_secret"
		[ -z "$cc_key_token" ] || printf 'header = "x-amz-security-token: %s"\n' "$cc_key_token"
	} | curl -sS -K - ${COMMANDCENTER_STORE_CA:+--cacert "$COMMANDCENTER_STORE_CA"} \
		--connect-timeout 5 --max-time 30 --aws-sigv4 "aws:amz:$COMMANDCENTER_STORE_REGION:s3" \
		-X "$cc_m" -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' \
		-D "$cc_tmp/head" -o "$cc_tmp/body" -w '%{http_code}' "$@" \
		"$COMMANDCENTER_STORE_BUCKET_URL${cc_k:+/$cc_k}" 2>"$cc_tmp/err" || :
}

# cc_s3_error STATUS: what a failed request means, naming the flag to fix.
cc_s3_error() {
	cc_code=$(sed -n 's:.*<Code>\(.*\)</Code>.*:\1:p' "$cc_tmp/body" 2>/dev/null | head -n 1)
	case $1:$cc_code in
	000:*)
		if grep -qi 'certificate\|SSL\|TLS' "$cc_tmp/err"; then
			echo "the store's TLS certificate was not accepted ($(head -c 200 "$cc_tmp/err")): give its certificate authority with --store-ca file:./ca.pem"
		else
			echo "the store at $COMMANDCENTER_STORE_BUCKET_URL did not answer ($(head -c 200 "$cc_tmp/err")): check --store-endpoint, and that the store is up and reachable from the engine"
		fi ;;
	*:NoSuchBucket | 404:)
		echo "the bucket of --store $COMMANDCENTER_STORE does not exist at $COMMANDCENTER_STORE_BUCKET_URL: create it first (pgBackRest never creates one), or fix --store" ;;
	*:InvalidAccessKeyId | *:SignatureDoesNotMatch | *:AccessDenied | 403:* | 401:*)
		echo "the store refused the credentials of --store-credentials ($1 ${cc_code:-}): check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, and that they may read and write the bucket" ;;
	*:AuthorizationHeaderMalformed | *:InvalidRegion* | *:IllegalLocationConstraint*)
		echo "the store refused the region ($1 $cc_code): fix --store-region" ;;
	*)
		echo "the store answered $1 ${cc_code:-} for $COMMANDCENTER_STORE_BUCKET_URL" ;;
	esac
}

# cc_last_error FILE: the last non-blank line of FILE, cut to 300
# characters: a tool's error, for a record.
cc_last_error() {
	grep -v '^[[:space:]]*$' "$1" | tail -n 1 | cut -c 1-300
}

# cc_response_etag: the ETag of the last response.
cc_response_etag() {
	sed -n 's/^[Ee][Tt][Aa][Gg]:[[:space:]]*//p' "$cc_tmp/head" | tr -d '\r'
}

# cc_lease_get: reads the lease into $cc_tmp/lease and its ETag into
# cc_etag. Returns 0 when there is one, 1 when there is none, 2 when the
# store could not be read (cc_error says why).
cc_lease_get() {
	cc_status=$(cc_s3 GET "$COMMANDCENTER_STORE_LEASE_KEY")
	case $cc_status in
	200)
		cc_etag=$(cc_response_etag)
		cp "$cc_tmp/body" "$cc_tmp/lease"
		return 0 ;;
	404)
		if grep -q NoSuchBucket "$cc_tmp/body"; then
			cc_error=$(cc_s3_error "$cc_status")
			return 2
		fi
		cc_etag=
		: >"$cc_tmp/lease"
		return 1 ;;
	esac
	cc_error=$(cc_s3_error "$cc_status")
	return 2
}

# cc_lease_put COPY STATE: replaces the lease read last (or creates it, when
# there was none) with one for COPY in STATE (held, released), which
# carries this engine's lease lifetime (ttl=), for the engines that wait. Returns 0
# when the store took it, 1 when another writer came first (412), 2 when
# the store could not be written (cc_error says why). cc_sent_ms is when
# the request was sent (cc_uptime_ms): the lease lives from then at least.
cc_lease_put() {
	cc_sent_ms=$(cc_uptime_ms)
	cc_write "$cc_tmp/mine" "copy=$1" "state=$2" "instance=${COMMANDCENTER_INSTANCE:-}" \
		"host=$(hostname 2>/dev/null || :)" "at=$(cc_now)" "ttl=${COMMANDCENTER_STORE_LEASE_SECONDS:-}"
	if [ -n "$cc_etag" ]; then
		cc_status=$(cc_s3 PUT "$COMMANDCENTER_STORE_LEASE_KEY" -H "If-Match: $cc_etag" -T "$cc_tmp/mine")
	else
		cc_status=$(cc_s3 PUT "$COMMANDCENTER_STORE_LEASE_KEY" -H 'If-None-Match: *' -T "$cc_tmp/mine")
	fi
	case $cc_status in
	200)
		cc_etag=$(cc_response_etag)
		cp "$cc_tmp/mine" "$cc_tmp/lease"
		return 0 ;;
	412 | 409) return 1 ;;
	esac
	cc_error=$(cc_s3_error "$cc_status")
	return 2
}

# cc_lease_record STATE [ERROR [FENCE_MS]]: notes the lease as this
# container holds it (held, fenced, lost, released), for the renewer, the
# agent and Status; FENCE_MS is the cc_uptime_ms from which this copy may
# no longer write to the store (see cc_fenced).
cc_lease_record() {
	cc_write "$cc_dir/postgres.lease" "copy=$copy" "etag=$cc_etag" "state=$1" "at=$(cc_now)" "error=${2:-}" \
		"fence_ms=${3:-}"
}

# cc_start_renewer: the lease's renewal (commandcenter-pg-store renew)
# for $copy, which the last cc_lease_put claimed, from now on, beside the
# restore, the server and its backups (or the catch-up's push), which
# cannot delay it. One left by an earlier start in this container ends.
cc_start_renewer() {
	cc_stop_renewer
	rm -f "$cc_dir/postgres.server"
	cc_lease_record held "" "$(cc_fence_ms "$cc_sent_ms")"
	commandcenter-pg-store renew </dev/null &
	echo $! >"$cc_dir/postgres.renewer"
}

cc_stop_renewer() {
	cc_pid=$(cat "$cc_dir/postgres.renewer" 2>/dev/null) || return 0
	if grep -q renew "/proc/$cc_pid/cmdline" 2>/dev/null; then kill -s KILL "$cc_pid" 2>/dev/null || :; fi
	rm -f "$cc_dir/postgres.renewer"
}

# cc_fence_ms SENT_MS: until when a copy whose lease renewal was sent at
# SENT_MS may write to the store: for the lease's lifetime less a quarter.
# A waiting engine takes a lease over only after seeing it unchanged for
# the whole lifetime and 5 s more, so a writer has that quarter and 5 s
# to be stopped (fenced) before anyone else may write.
cc_fence_ms() {
	echo $(($1 + COMMANDCENTER_STORE_LEASE_SECONDS * 750))
}

# cc_fenced: true when the serving copy must not write to the store (it
# fenced itself): its lease is not noted held, or it was last renewed too
# long ago (fence_ms passed). Only the server, its agent and the
# pgBackRest they run are fenced (COMMANDCENTER_LEASE_FENCE set by
# commandcenter-pg-store serve); cc_fence_reason says why.
cc_fenced() {
	[ -n "${COMMANDCENTER_LEASE_FENCE:-}" ] || return 1
	cc_f=$(cc_field "$cc_dir/postgres.lease" fence_ms)
	cc_s=$(cc_field "$cc_dir/postgres.lease" state)
	if [ "$cc_s" = held ] && [ -n "$cc_f" ] && [ "$(cc_uptime_ms)" -lt "$cc_f" ]; then
		return 1
	fi
	cc_e=$(cc_field "$cc_dir/postgres.lease" error)
	cc_fence_reason="fenced: this engine could not renew the store's lease within its lifetime less a quarter${cc_e:+ ($cc_e)}, so it writes nothing to the store until it has renewed the lease, unchanged"
	[ "$cc_s" != lost ] || cc_fence_reason="fenced: another copy took the store's lease, so this engine writes nothing to the store any more"
	return 0
}

# cc_ready_segments: the WAL segments of this engine's copy that wait to be
# archived (archive_status/*.ready), on one line.
cc_ready_segments() {
	ls "$PGDATA/pg_wal/archive_status" 2>/dev/null | sed -n 's/\.ready$//p' | tr '\n' ' ' | sed 's/ $//'
}
