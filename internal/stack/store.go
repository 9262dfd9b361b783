package stack

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Store is the durable store of a project: an S3 bucket and prefix, where
// pgBackRest archives PostgreSQL's WAL and keeps its base backups, and
// where the project's lease is kept.
type Store struct {
	// URL is s3://BUCKET/PREFIX, or empty for no store.
	URL string
	// Endpoint is HOST[:PORT] of the S3 API; empty means AWS's regional one.
	Endpoint string
	// Region signs the requests (us-east-1, auto for R2, ...).
	Region string
	// URIStyle is "path" (https://HOST/BUCKET/KEY) or "host"
	// (https://BUCKET.HOST/KEY); empty chooses host for AWS, path otherwise.
	URIStyle string
	// LeaseSeconds is how long a lease lives without renewal.
	LeaseSeconds int
	// BackupInterval is the time between two base backups, a Go duration:
	// full when the newest full one is FullBackupEvery intervals old,
	// differential otherwise.
	BackupInterval string
}

// StoreGiven says which of the store's secrets and services the caller supplied.
type StoreGiven struct {
	Credentials, CA, EncryptionKey, Service bool
}

// Where the store's secrets are mounted in the postgres container, and where
// pgBackRest's configuration is.
var (
	StoreCredentialsFile = SecretPath("store-credentials")
	StoreCAFile          = SecretPath("store-ca.pem")
	StoreKeyFile         = SecretPath("store-key")
)

// StoreBasedMarker exists while postgres runs with a base backup in the
// store from which its archived WAL can be restored; the agent of
// commandcenter-pg-store writes it, and postgres's health check waits for it.
const StoreBasedMarker = LogDir + "/postgres.based"

// PgBackRestConf is where the module writes pgBackRest's configuration.
const PgBackRestConf = "/etc/pgbackrest/pgbackrest.conf"

// StoreSecretsDir is the directory inside PGDATA that holds copies of the
// generated database password and SECRET_KEY, so that the base backups
// carry them (encrypted with --store-encryption-key).
const StoreSecretsDir = PGData + "/commandcenter"

// ExitStoreRefused: the store's lease or copy forbids this start (another
// engine holds the project, or this engine's copy is older than the store's).
const ExitStoreRefused = 79

var (
	bucketName  = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	storePrefix = regexp.MustCompile(`^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$`)
	regionName  = regexp.MustCompile(`^[a-z0-9-]{1,32}$`)
)

// Enabled says whether the project has a durable store.
func (s Store) Enabled() bool { return s.URL != "" }

// StoreTarget is a parsed store: where its objects are and how to reach them.
type StoreTarget struct {
	Bucket, Prefix, Host string
	Port                 int
	Region, URIStyle     string
}

// Target parses the store's flags.
func (s Store) Target() (StoreTarget, error) {
	bucket, prefix, err := parseStoreURL(s.URL)
	if err != nil {
		return StoreTarget{}, err
	}
	if !regionName.MatchString(s.Region) {
		return StoreTarget{}, fmt.Errorf("--store-region %q: want a region name such as us-east-1 (or auto for Cloudflare R2)", s.Region)
	}
	host, port, err := parseEndpoint(s.Endpoint, s.Region)
	if err != nil {
		return StoreTarget{}, err
	}
	style := s.URIStyle
	switch style {
	case "":
		style = "path"
		if strings.HasSuffix(host, ".amazonaws.com") {
			style = "host"
		}
	case "path", "host":
	default:
		return StoreTarget{}, fmt.Errorf("--store-uri-style %q: want path (https://HOST/BUCKET/KEY) or host (https://BUCKET.HOST/KEY)", s.URIStyle)
	}
	return StoreTarget{Bucket: bucket, Prefix: prefix, Host: host, Port: port, Region: s.Region, URIStyle: style}, nil
}

func parseStoreURL(raw string) (bucket, prefix string, err error) {
	rest, ok := strings.CutPrefix(raw, "s3://")
	if !ok {
		return "", "", fmt.Errorf("--store %q: want an S3 URL, s3://BUCKET/PREFIX (e.g. s3://team-backups/commandcenter)", raw)
	}
	bucket, prefix, _ = strings.Cut(rest, "/")
	prefix = strings.Trim(prefix, "/")
	if !bucketName.MatchString(bucket) {
		return "", "", fmt.Errorf("--store %q: bucket %q is not an S3 bucket name (3-63 lowercase letters, digits, dots and hyphens)", raw, bucket)
	}
	if prefix != "" && (!storePrefix.MatchString(prefix) || strings.Contains("/"+prefix+"/", "/../") || strings.Contains("/"+prefix+"/", "/./")) {
		return "", "", fmt.Errorf("--store %q: prefix %q: want path segments of letters, digits, '.', '_' and '-'", raw, prefix)
	}
	return bucket, prefix, nil
}

func parseEndpoint(raw, region string) (string, int, error) {
	if raw == "" {
		return "s3." + region + ".amazonaws.com", 443, nil
	}
	if strings.HasPrefix(raw, "http://") {
		return "", 0, fmt.Errorf("--store-endpoint %q: pgBackRest talks to S3 only over TLS: give https:// (or HOST[:PORT]), and --store-ca for a private certificate authority", raw)
	}
	hostPort := strings.TrimSuffix(strings.TrimPrefix(raw, "https://"), "/")
	host, portText, err := net.SplitHostPort(hostPort)
	if err != nil {
		host, portText = hostPort, "443"
	}
	port, perr := strconv.Atoi(portText)
	if host == "" || strings.ContainsAny(host, "/@?#") || perr != nil || port < 1 || port > 65535 {
		return "", 0, fmt.Errorf("--store-endpoint %q: want HOST[:PORT] or https://HOST[:PORT], e.g. minio.internal:9000", raw)
	}
	return host, port, nil
}

// Validate reports every problem of the store's flags at once.
func (s Store) Validate(g StoreGiven, db Given) error {
	if !s.Enabled() {
		if g.Credentials || g.CA || g.EncryptionKey || g.Service || s.Endpoint != "" || s.URIStyle != "" {
			return errors.New("--store-endpoint, --store-uri-style, --store-credentials, --store-ca, --store-encryption-key and --store-service configure a durable store: add --store s3://BUCKET/PREFIX, or leave them out")
		}
		return nil
	}
	var errs []error
	if _, err := s.Target(); err != nil {
		errs = append(errs, err)
	}
	if !g.Credentials {
		errs = append(errs, errors.New("--store needs --store-credentials: a dotenv file with AWS_ACCESS_KEY_ID=... and AWS_SECRET_ACCESS_KEY=... lines, e.g. --store-credentials file:./store.env"))
	}
	if (!db.DBPassword || !db.SecretKey) && !g.EncryptionKey {
		errs = append(errs, errors.New("--store keeps the generated database password and SECRET_KEY in its backups, so that they come back with the data; they must then be encrypted: give --store-encryption-key (e.g. env:CC_STORE_KEY; keep it safe, without it the store's copy cannot be read), or give both --db-password and --secret-key"))
	}
	if s.LeaseSeconds < 15 || s.LeaseSeconds > 120 {
		errs = append(errs, fmt.Errorf("--store-lease-seconds %d: want 15 to 120", s.LeaseSeconds))
	}
	if d, err := time.ParseDuration(s.BackupInterval); err != nil || d < time.Minute {
		errs = append(errs, fmt.Errorf("--store-backup-interval %q: want a Go duration of at least 1m, e.g. 24h", s.BackupInterval))
	}
	return errors.Join(errs...)
}

// RepoPath is the project's directory in the bucket: PREFIX/PROJECT.
func (t StoreTarget) RepoPath(project string) string {
	if t.Prefix == "" {
		return "/" + project
	}
	return "/" + t.Prefix + "/" + project
}

// BucketURL is the HTTPS URL of the bucket, in the store's URI style.
func (t StoreTarget) BucketURL() string {
	host := t.Host
	if t.Port != 443 {
		host = net.JoinHostPort(t.Host, strconv.Itoa(t.Port))
	}
	if t.URIStyle == "host" {
		return "https://" + t.Bucket + "." + host
	}
	return "https://" + host + "/" + t.Bucket
}

// LeaseKey is the key, in the bucket, of the project's lease object.
func (t StoreTarget) LeaseKey(project string) string {
	return strings.TrimPrefix(t.RepoPath(project), "/") + "/commandcenter/lease"
}

// StoreSpoolDir is pgBackRest's spool, on the data volume, inside PGDATA:
// the asynchronous archive-push writes there an acknowledgement for each
// segment it has stored in the store (PostgreSQL marks a segment archived
// only then), and the asynchronous archive-get queues the WAL a recovery
// will ask for. It goes with the data directory: whatever empties PGDATA
// (a restore, the drill, a reset) empties it, so no acknowledgement of
// another database's segment outlives it. The base backups leave it out.
const StoreSpoolDir = PGData + "/" + storeSpoolName

const storeSpoolName = "pgbackrest-spool"

// PgBackRestConfig is pgBackRest's configuration for project: the stanza
// is the project, in the project's directory of the bucket. It holds no
// secret: commandcenter-pgbackrest gives pgBackRest the keys in its own
// environment. Every pgBackRest command, restore_command's too, runs
// through that wrapper (cmd).
//
// WAL is archived asynchronously (archive-async, two pushes in parallel),
// compressed with lz4 at level 1, its fastest. PostgreSQL still counts a
// segment archived only once it is in the store: archive-push returns
// when the asynchronous process has acknowledged that segment, and no
// archive-push-queue-max is set, the option that would acknowledge
// segments it drops. The store keeps two full backups, the differential
// ones that depend on them and the WAL from the oldest on (the schedule:
// commandcenter-pg-store's backup_type).
func PgBackRestConfig(project string, t StoreTarget, g StoreGiven) string {
	lines := []string{
		"[global]",
		"repo1-type=s3",
		"repo1-s3-bucket=" + t.Bucket,
		"repo1-s3-endpoint=" + t.Host,
		"repo1-storage-port=" + strconv.Itoa(t.Port),
		"repo1-s3-region=" + t.Region,
		"repo1-s3-uri-style=" + t.URIStyle,
		"repo1-path=" + t.RepoPath(project),
		"repo1-retention-full=2",
		"cmd=" + Script("pgbackrest"),
		"compress-type=lz4",
		"compress-level=1",
		"archive-async=y",
		"spool-path=" + StoreSpoolDir,
		"io-timeout=20",
		"archive-timeout=60",
		"log-level-console=warn",
		"log-level-stderr=warn",
		"log-level-file=off",
		"lock-path=/tmp/pgbackrest",
		"start-fast=y",
	}
	if g.CA {
		lines = append(lines, "repo1-storage-ca-file="+StoreCAFile)
	}
	if g.EncryptionKey {
		lines = append(lines, "repo1-cipher-type=aes-256-cbc")
	}
	lines = append(lines, "", "[global:archive-push]", "process-max=2", "", "[global:backup]", "exclude="+storeSpoolName)
	lines = append(lines, "", "["+project+"]", "pg1-path="+PGData, "pg1-socket-path=/var/run/postgresql", "pg1-user="+Superuser, "pg1-database="+DBName)
	return strings.Join(lines, "\n") + "\n"
}

// FullBackupEvery is how many backup intervals pass between two full base
// backups; the backups between are differential. With the default interval
// of 24 h: a full backup a week, a differential one each other day.
const FullBackupEvery = 7

// StoreEnv is what the postgres container's scripts need to know of the
// store, none of it secret.
func (c Config) StoreEnv(t StoreTarget, g StoreGiven) []EnvVar {
	interval, _ := time.ParseDuration(c.Store.BackupInterval)
	env := []EnvVar{
		{"COMMANDCENTER_STORE", c.Store.URL},
		{"COMMANDCENTER_STORE_BUCKET_URL", t.BucketURL()},
		{"COMMANDCENTER_STORE_REGION", t.Region},
		{"COMMANDCENTER_STORE_LEASE_KEY", t.LeaseKey(c.Project)},
		{"COMMANDCENTER_STORE_LEASE_SECONDS", strconv.Itoa(c.Store.LeaseSeconds)},
		{"COMMANDCENTER_STORE_BACKUP_SECONDS", strconv.Itoa(int(interval.Seconds()))},
		{"COMMANDCENTER_STORE_FULL_SECONDS", strconv.Itoa(int(interval.Seconds()) * FullBackupEvery)},
		{"COMMANDCENTER_STORE_CREDENTIALS", StoreCredentialsFile},
		{"COMMANDCENTER_GENERATED_DIR", GeneratedDBDir},
		{"PGBACKREST_CONFIG", PgBackRestConf},
		{"PGBACKREST_STANZA", c.Project},
	}
	if g.CA {
		env = append(env, EnvVar{"COMMANDCENTER_STORE_CA", StoreCAFile})
	}
	if g.EncryptionKey {
		env = append(env, EnvVar{"COMMANDCENTER_STORE_KEY_FILE", StoreKeyFile})
	}
	return env
}

// StoreFlushTimeout bounds the archiving of postgres's last WAL before its
// stop signal (commandcenter-pg-store flush); StoreStopGrace is the time it
// then has to write its shutdown checkpoint and archive what remains.
const (
	StoreFlushTimeout = 20 * time.Second
	StoreStopGrace    = 30 * time.Second
)
