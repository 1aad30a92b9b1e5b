#!/usr/bin/env bash
# The whole suite on SpatiaLite, then again on PostGIS when BAZRES_TEST_POSTGIS_URL is set.
# With BAZRES_REQUIRE_POSTGIS=1 (CI), a missing PostGIS leg is a failure, not a skip.
set -u
cd "$(dirname "$0")/.."
BIN=.venv/bin
mkdir -p .test-results

echo "=== Test leg 1/2: SQLite + SpatiaLite"
BAZRES_TEST_DB=spatialite "$BIN/python" -m pytest --junitxml=.test-results/spatialite.xml "$@"
spatialite=$?

if [ -n "${BAZRES_TEST_POSTGIS_URL:-}" ]; then
  echo "=== Test leg 2/2: PostgreSQL + PostGIS (${BAZRES_TEST_POSTGIS_URL%%\?*})"
  BAZRES_TEST_DB=postgis "$BIN/python" -m pytest --junitxml=.test-results/postgis.xml "$@"
  postgis=$?
else
  echo "=== Test leg 2/2: PostgreSQL + PostGIS SKIPPED: BAZRES_TEST_POSTGIS_URL is not set."
  echo "    To run it: BAZRES_TEST_POSTGIS_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bazres_test make test"
  postgis=0
  if [ -n "${BAZRES_REQUIRE_POSTGIS:-}" ]; then
    echo "    BAZRES_REQUIRE_POSTGIS is set: a skipped PostGIS leg fails the run."
    postgis=1
  fi
fi

echo "=== SpatiaLite leg: $([ $spatialite -eq 0 ] && echo passed || echo "FAILED ($spatialite)");" \
     "PostGIS leg: $([ -n "${BAZRES_TEST_POSTGIS_URL:-}" ] && { [ $postgis -eq 0 ] && echo passed || echo "FAILED ($postgis)"; } || echo skipped)"
[ $spatialite -eq 0 ] && [ $postgis -eq 0 ]
