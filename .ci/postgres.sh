# Start a throwaway PostgreSQL on localhost for the tuning tests and export its URL
# (TBP_TEST_POSTGRES_URL). Sourced by .ci/run; does nothing where no server is installed.
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -n "${pg_bin}" ] && [ -x "${pg_bin}/initdb" ] && [ -z "${TBP_TEST_POSTGRES_URL:-}" ]; then
    pg_data=$(mktemp -d /tmp/tbp-pg.XXXXXX)
    chown postgres "${pg_data}" 2>/dev/null || true
    as_pg() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi; }
    if as_pg "${pg_bin}/initdb -D ${pg_data} -A trust -U tbp >/dev/null" \
        && as_pg "${pg_bin}/pg_ctl -D ${pg_data} -o '-p 55432 -k /tmp -c listen_addresses=127.0.0.1' -l ${pg_data}/log -w start >/dev/null" \
        && as_pg "${pg_bin}/createdb -h 127.0.0.1 -p 55432 -U tbp tbp_test"; then
        export TBP_TEST_POSTGRES_URL="postgresql+psycopg2://tbp@127.0.0.1:55432/tbp_test"
        # Stopped when the sourcing script exits: a server left on the port would make the next
        # run's start fail and its PostgreSQL tests skip.
        trap "as_pg '${pg_bin}/pg_ctl -D ${pg_data} -m fast stop >/dev/null'; rm -rf ${pg_data}" EXIT
        echo "PostgreSQL for the tests at ${TBP_TEST_POSTGRES_URL}"
    else
        echo "PostgreSQL could not be started; its tests will skip" >&2
    fi
fi
