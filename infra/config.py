"""Settings, read once from the environment.

Every setting is documented here and in docs/configuration.md; the defaults work against a
PostgreSQL and Redis on the local machine.
"""

import os
from email.utils import parseaddr
from functools import lru_cache
from typing import Literal

import msgspec

DEVELOPMENT_TOKEN_KEY = "development-only-token-hash-key"  # noqa: S105 - known, and warned about


class Settings(msgspec.Struct, frozen=True):
    database_url: str = "postgresql://goals_app@127.0.0.1:5432/therapy_goals"
    """`DATABASE_URL`: the PostgreSQL database that holds the event log and every consumer's
    state, as the API and the workers connect to it: as `goals_app`, or a login of the
    operator's that `goals migrate` makes a member of it. Not the owner, not a superuser."""

    migration_database_url: str = "postgresql://postgres@127.0.0.1:5432/therapy_goals"
    """`MIGRATION_DATABASE_URL`: the same database, as `goals migrate` and `goals projections
    rebuild` connect to it: a login that may create the database and the service's roles, or one
    that acts as `goals_owner` once they exist."""

    redis_url: str = "redis://127.0.0.1:6379/0"
    """`REDIS_URL`: the Redis that Dramatiq distributes work through. It holds no state that
    matters: losing it loses no event."""

    broker_namespace: str = "therapy_goals"
    """`BROKER_NAMESPACE`: the prefix of every Redis key the workers use, so that several
    deployments (or test runs) can share one Redis."""

    worker_processes: int = 2
    """`WORKER_PROCESSES`: Dramatiq worker processes that `goals worker` starts."""

    worker_threads: int = 4
    """`WORKER_THREADS`: threads per worker process."""

    worker_idle_poll_ms: int = 100
    """`WORKER_IDLE_POLL_MS`: the longest a worker process waits before it looks in Redis again
    for messages on a queue it found empty. Dramatiq's Redis broker polls, backing off from
    5 ms up to this (its own default is 1,000): a message sent to an idle queue waits up to this
    long before it is taken."""

    reconcile_after_seconds: float = 30
    """`RECONCILE_AFTER_SECONDS`: how old an event must be, and not yet projected, before the
    reconciler enqueues its goal again (a message lost in Redis, or held by a killed worker)."""

    relay_stale_after_seconds: float = 30
    """`RELAY_STALE_AFTER_SECONDS`: how long after the relay's last good pass (it passes every
    second) readiness and metrics call it stale: the worker service is down or frozen."""

    database_pool_min: int = 2
    """`DATABASE_POOL_MIN`: connections each process keeps open."""

    database_pool_max: int = 10
    """`DATABASE_POOL_MAX`: connections each process opens at most."""

    database_acquire_timeout_seconds: float = 5
    """`DATABASE_ACQUIRE_TIMEOUT_SECONDS`: how long a request or job waits to take a pool
    connection, and to open a new one, before it gives up (the API then answers 503)."""

    database_command_timeout_seconds: float = 10
    """`DATABASE_COMMAND_TIMEOUT_SECONDS`: how long the client waits for any one statement's
    answer before it gives up on the connection: what bounds a wait on a frozen server."""

    database_statement_timeout_seconds: float = 5
    """`DATABASE_STATEMENT_TIMEOUT_SECONDS`: PostgreSQL's `statement_timeout` for the API's and
    the workers' connections: the server cancels a statement (or a lock wait) that runs longer."""

    database_idle_in_transaction_timeout_seconds: float = 30
    """`DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_SECONDS`: PostgreSQL's
    `idle_in_transaction_session_timeout`: the server ends a session whose transaction has been
    idle this long (a client that hangs or was frozen), releasing the locks it held."""

    api_max_concurrent_requests: int = 256
    """`API_MAX_CONCURRENT_REQUESTS`: requests each API process serves at once; past it, a
    request answers 503 with `Retry-After` at once rather than queueing."""

    api_max_concurrent_streams: int = 4
    """`API_MAX_CONCURRENT_STREAMS`: answers each API process streams at once (clients' records,
    audit exports), each holding a pool connection while it streams; past it, such a request
    waits up to `DATABASE_ACQUIRE_TIMEOUT_SECONDS` for one to end, then answers 503. Keep it
    below `DATABASE_POOL_MAX`: the rest of the pool serves every other request."""

    log_level: str = "info"
    """`LOG_LEVEL`: debug, info, warning or error."""

    log_format: str = "auto"
    """`LOG_FORMAT`: `json`, `console`, or `auto` (console on a terminal, JSON elsewhere)."""

    api_host: str = "127.0.0.1"
    """`API_HOST`: the address the API listens on."""

    api_port: int = 8000
    """`API_PORT`: the port the API listens on."""

    api_workers: int = 0
    """`API_WORKERS`: API processes; 0 means one per CPU core."""

    token_hash_key: str = DEVELOPMENT_TOKEN_KEY
    """`TOKEN_HASH_KEY`: the secret that access tokens are hashed with before they are stored.
    Set a long random value in production and keep it out of the database's backups; the
    default is for development only, and the service warns when it runs with it."""

    max_body_bytes: int = 64 * 1024
    """`MAX_BODY_BYTES`: the largest request body the API accepts; larger ones answer 413."""

    local_servers: Literal["auto", "embedded", "off"] = "auto"
    """`LOCAL_SERVERS`: where PostgreSQL and Redis come from when no URL names them (see
    infra/local_servers.py): `auto` takes the servers on the default local ports, else runs
    embedded ones; `embedded` always runs embedded ones; `off` uses the default URLs as they
    are."""

    local_data_dir: str = ".data"
    """`LOCAL_DATA_DIR`: where embedded servers keep their data, relative to the working
    directory (the checkout, with `make run`)."""

    consumer_modules: str = ""
    """`CONSUMER_MODULES`: further consumers of the log, as Python modules separated by commas,
    each of which registers its consumer when imported (infra/projections/registry.py). The
    workers, the API's metrics and readiness, and `goals projections rebuild` all import them."""

    rate_limit_requests: int = 600
    """`RATE_LIMIT_REQUESTS`: requests one user (all their tokens together) may make per
    `RATE_LIMIT_WINDOW`, counted in Redis across every API process; past it, 429 with
    `Retry-After`. 0 turns the limits off. Health, metrics and the schema are never limited."""

    rate_limit_window: Literal["second", "minute", "hour", "day"] = "minute"
    """`RATE_LIMIT_WINDOW`: the window `RATE_LIMIT_REQUESTS` counts in: second, minute, hour or
    day, from the user's first request in it. Each request reads and writes the user's window
    whole, so keep the count in the hundreds; and a `second` window is ended at the turn of the
    clock's second, so it admits up to twice its count."""

    rate_limit_burst: int = 20
    """`RATE_LIMIT_BURST`: requests one user may make in any one second of the clock, within
    `RATE_LIMIT_REQUESTS`, so that a window's opening does not let its whole count through at
    once (up to twice this across the turn of a second). 0, or a count the window already
    bounds, leaves bursts to the window."""

    rate_limit_hold_seconds: float = 1.0
    """`RATE_LIMIT_HOLD_SECONDS`: how long a request waits before its 429 when its caller was
    already refused in the same window (a client ignoring `Retry-After`), never past the
    window's end. It costs no CPU and gives such a client one answer per connection per hold.
    0 answers at once."""

    webhook_allowed_networks: str = ""
    """`WEBHOOK_ALLOWED_NETWORKS`: CIDRs, separated by commas, that webhooks may be sent to even
    though they are internal (e.g. `10.20.0.0/16` for a receiver inside the clinic's network;
    `127.0.0.0/8` in tests). Empty by default: private, loopback, link-local, multicast and
    reserved addresses are refused (infra/webhooks/addresses.py)."""

    webhook_allow_http: bool = False
    """`WEBHOOK_ALLOW_HTTP`: `true` accepts `http://` webhook URLs; by default only `https`."""

    webhook_retry_delays: str = "5,300,1800,7200,18000,36000,50400,72000,86400"
    """`WEBHOOK_RETRY_DELAYS`: seconds to wait before each retry of a failed webhook delivery,
    separated by commas (each moved by up to ±20 %); one attempt more than there are delays."""

    webhook_timeout_seconds: float = 15
    """`WEBHOOK_TIMEOUT_SECONDS`: how long a receiver has to answer a delivery, in all, before
    the attempt counts as failed."""

    webhook_claim_seconds: float = 60
    """`WEBHOOK_CLAIM_SECONDS`: how long a sender holds the deliveries (and the endpoint) it
    claimed; a sender that dies leaves them to be sent again after this."""

    webhook_disable_after_seconds: float = 5 * 24 * 3600
    """`WEBHOOK_DISABLE_AFTER_SECONDS`: an endpoint whose every attempt failed for this long is
    disabled; its clinic is warned a day (or a fifth of this, if shorter) before."""

    webhook_scheduler_seconds: float = 0.25
    """`WEBHOOK_SCHEDULER_SECONDS`: how often the worker service looks for endpoints with
    deliveries due, and hands them to senders."""

    webhook_concurrency_per_endpoint: int = 8
    """`WEBHOOK_CONCURRENCY_PER_ENDPOINT`: requests in flight at once to one endpoint (more
    costs each request more of the sender's time than it saves in waiting)."""

    smtp_host: str = ""
    """`SMTP_HOST`: the SMTP server that e-mail goes out through (infra/mail/). While unset,
    e-mail is off: nothing is queued (infra/mail/outbox.py), and invitation codes are shown to
    the admin or the operator instead."""

    smtp_port: int = 0
    """`SMTP_PORT`: its port; 0 means the usual one for `SMTP_SECURITY`: 25, 587 or 465."""

    smtp_security: Literal["none", "starttls", "tls"] = "starttls"
    """`SMTP_SECURITY`: `none` (plain text, for a relay on the same host), `starttls` (upgrade
    a plain connection, refusing a server that cannot) or `tls` (TLS from the first byte)."""

    smtp_username: str = ""
    """`SMTP_USERNAME`: the login at the SMTP server; none when empty."""

    smtp_password: str = ""
    """`SMTP_PASSWORD`: its password."""

    smtp_ca_file: str = ""
    """`SMTP_CA_FILE`: certificates (PEM) to trust for the SMTP server besides the system's:
    a relay with a private certificate authority."""

    smtp_timeout_seconds: float = 30
    """`SMTP_TIMEOUT_SECONDS`: how long one e-mail's delivery (connecting included) may take
    before it counts as failed and is tried again later."""

    mail_from: str = ""
    """`MAIL_FROM`: the sender of every e-mail, `noreply@clinic.example` or
    `Clinic <noreply@clinic.example>`; required once `SMTP_HOST` is set. Its domain ends every
    Message-ID."""

    public_base_url: str = ""
    """`PUBLIC_BASE_URL`: where people reach the clinic's app, such as
    `https://goals.clinic.example`; e-mails link into it. When empty, an invitation e-mail
    carries the code alone, and nudges go in-app only (their e-mail needs its link and its
    unsubscribe link)."""

    mail_retry_first_seconds: float = 30
    """`MAIL_RETRY_FIRST_SECONDS`: the wait after an e-mail's first failed attempt; it doubles
    with each further failure, up to `MAIL_RETRY_MAX_SECONDS` (each wait varies by up to 20 %)."""

    mail_retry_max_seconds: float = 3600
    """`MAIL_RETRY_MAX_SECONDS`: the longest wait between two attempts."""

    mail_max_attempts: int = 30
    """`MAIL_MAX_ATTEMPTS`: attempts before an e-mail is given up on (`failed`); with the
    default waits, about a day of trying."""

    mail_lease_seconds: float = 120
    """`MAIL_LEASE_SECONDS`: how long a sender holds an e-mail it took: another sender takes it
    only after this, if the first never said how it went (killed, frozen, cut off). Longer than
    `SMTP_TIMEOUT_SECONDS`."""

    mail_poll_seconds: float = 1
    """`MAIL_POLL_SECONDS`: how often an idle sender looks for e-mail that is due."""

    nudge_scan_seconds: float = 60
    """`NUDGE_SCAN_SECONDS`: how often the worker service looks for nudges that are due (one
    worker service at a time scans, whichever holds the lock)."""

    nudge_due_soon_days: int = 3
    """`NUDGE_DUE_SOON_DAYS`: how many days before its due date a goal not yet achieved gets a
    "due soon" nudge."""

    audit_signing_key_file: str = ""
    """`AUDIT_SIGNING_KEY_FILE`: an Ed25519 private key in PEM (`openssl genpkey -algorithm
    ed25519 -out audit-signing.pem`) that the worker service and `goals audit checkpoint` sign
    the log's checkpoints with (docs/audit.md). Keep it, and a copy, away from the database and
    its backups: whoever holds it can sign a rewritten log. While unset, no checkpoints are
    made."""

    audit_verify_key_file: str = ""
    """`AUDIT_VERIFY_KEY_FILE`: the public half of that key in PEM (`openssl pkey -in
    audit-signing.pem -pubout`), which `goals audit verify` and `GET /v1/audit/verification`
    check checkpoints with. When unset, the signing key's public half is used; give the API
    only this one."""

    audit_checkpoint_seconds: float = 300
    """`AUDIT_CHECKPOINT_SECONDS`: how often the worker service signs a checkpoint of the log,
    when events came since the last one (one worker service at a time, whichever holds the
    lock). Whatever is written after the last checkpoint is held only by the hash chain."""

    def __post_init__(self) -> None:
        if self.smtp_host and not parseaddr(self.mail_from)[1].count("@") == 1:
            raise ValueError("MAIL_FROM must be an e-mail address once SMTP_HOST is set")
        if self.mail_lease_seconds <= self.smtp_timeout_seconds:
            raise ValueError("MAIL_LEASE_SECONDS must be longer than SMTP_TIMEOUT_SECONDS")
        if self.mail_max_attempts < 1:
            raise ValueError("MAIL_MAX_ATTEMPTS must be at least 1")

    @property
    def mail_enabled(self) -> bool:
        return bool(self.smtp_host)


_PREFIXLESS = {field.upper(): field for field in Settings.__struct_fields__}


def settings_from(environ: dict[str, str]) -> Settings:
    """Settings from a mapping of environment variables; unknown variables are ignored."""
    raw = {field: environ[name] for name, field in _PREFIXLESS.items() if name in environ}
    try:
        return msgspec.convert(raw, Settings, strict=False)
    except msgspec.ValidationError as error:
        raise SystemExit(f"invalid setting: {error}") from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return settings_from(dict(os.environ))
