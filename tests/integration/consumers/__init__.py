"""Consumers of the log that the tests add, each a module that registers itself when imported.

Only the processes of a test that names them in `CONSUMER_MODULES` import them; what the tests
themselves need of them is here, so that importing it registers nothing.
"""

RECORDER_MODULE = "tests.integration.consumers.recorder"
RECORDER = "test_recorder"
RECORDER_VERSION = 1
RECORDER_TABLE = "test_recorded_events"
# Made by the test as the projections role, which owns consumers' tables (migration 0004).
CREATE_RECORDER_TABLE = f"""
CREATE TABLE {RECORDER_TABLE} (
    seen bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    goal_id uuid NOT NULL,
    stream_version integer NOT NULL,
    position bigint NOT NULL
)
"""

REFUSER_MODULE = "tests.integration.consumers.refuser"
REFUSER = "test_refuser"
