-- Run once by the postgres image when its data directory is new (docker-compose.yml mounts
-- it into /docker-entrypoint-initdb.d), as POSTGRES_USER: the tables' owner, which runs the
-- migrations. It adds the runtime role the portal's web, worker and beat connect as: it
-- owns nothing, so it cannot disable the append-only tables' triggers; after each migrate,
-- `manage.py grant_runtime_role portal` gives it the usual rights everywhere and only
-- SELECT and INSERT on the audit trail, the access log, the trip log and the ledger.
-- PORTAL_DB_PASSWORD unset, the statement does not parse and the first start fails.
\getenv runtime_password PORTAL_DB_PASSWORD
CREATE ROLE portal LOGIN PASSWORD :'runtime_password'
    NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS;
REVOKE ALL ON DATABASE portal FROM PUBLIC;
GRANT CONNECT ON DATABASE portal TO portal;
