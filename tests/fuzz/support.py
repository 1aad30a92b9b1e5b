"""How hard the fuzzers try, and the things they share.

In CI (`make test`) every fuzz test runs 10 examples (per operation and role for the
Schemathesis test) from a fixed seed, so a run is repeatable and a green commit stays green.
A longer local run:

    BAZRES_FUZZ_EXAMPLES=200 BAZRES_TEST_DB=spatialite .venv/bin/python -m pytest tests/fuzz

draws at random (or from `BAZRES_FUZZ_SEED`; the seed is in pytest's header), and chains
up to `BAZRES_FUZZ_STEPS` requests along the OpenAPI links (Schemathesis's stateful phase).
"""

import os
import random

from hypothesis import HealthCheck, seed, settings

EXAMPLES = int(os.environ.get("BAZRES_FUZZ_EXAMPLES", "10"))
# A CI run replays the same examples; a long one explores, unless given a seed to replay.
SEED = int(os.environ.get("BAZRES_FUZZ_SEED")
           or (random.randrange(2**32) if "BAZRES_FUZZ_EXAMPLES" in os.environ else 1405))
# Requests in a chain along the OpenAPI links (each of EXAMPLES chains).
STEPS = int(os.environ.get("BAZRES_FUZZ_STEPS", "8"))

# Requests hit a real database on a shared machine: time is no signal here. The tests
# take the function-scoped `client` on purpose: every example runs in the test's one
# (rolled-back) transaction.
UNHURRIED = settings(deadline=None, suppress_health_check=[
    HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture])

settings.register_profile("bazres-fuzz", UNHURRIED, max_examples=EXAMPLES, database=None, print_blob=True)


def fuzz(test):
    """A Hypothesis test with this run's examples and seed."""
    return seed(SEED)(settings.get_profile("bazres-fuzz")(test))


# One demo user per role, all of district 6 where a district applies.
ROLES = {"inspector": "inspector-6a", "district_head": "head-6", "committee": "committee1", "admin": "admin",
         "feed": "feed-platform"}
