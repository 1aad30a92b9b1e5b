"""The city's slow-changing records as a pull sends them, written once per change and kept in
the process: districts, hours rules, holidays and offices.

Every phone's first pull of the morning carries its district's offices, the city's hours
rules and some ninety holidays; read and dumped through their schemas for each phone, they
were most of a first pull's CPU (issue 18's 08:00 rush). Each is kept here as its JSON,
keyed by the feed entry that announced it (entity, id, sequence number): every change to
one of these records puts a new entry on the feed (app.services.changefeed), so a record's
key changes whenever the record does, and a kept record is never older than the entry that
names it (it was read after that entry committed). Pages name a record by its latest entry,
so an entry superseded is simply no longer asked for; the oldest keys go first past
`KEPT`. A change made around the feed (a hand-made UPDATE) is not seen until the record's
next feed entry or a restart: as with the reports' stored records, write through the app.
The keys hold for one database's life: restart the servers after restoring or recreating
the database under them (its sequence numbers start again).
The tests' BAZRES_CHECK_STORED_RECORDS checks every record taken from here against a fresh
read.
"""

import threading
from collections import OrderedDict

import orjson

KEPT = 20_000  # records (a few hundred bytes to a few KB each: the districts' outlines)


class WrittenRecords:
    """(entity, id, seq) -> (district or None, the record's JSON); least recently used out first."""

    def __init__(self, kept: int = KEPT):
        self.kept = kept
        self._records: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get_many(self, entity: str, keys: list[tuple[str, int]]) -> dict:
        found = {}
        with self._lock:
            for key in keys:
                held = self._records.get((entity, *key))
                if held is not None:
                    self._records.move_to_end((entity, *key))
                    found[key] = held
        return found

    def put_many(self, entity: str, written: dict) -> dict:
        """`written`: (id, seq) -> (district or None, the record as a dict). Returns them as
        kept, (id, seq) -> (district, JSON): the caller's page needs them whatever other
        threads' puts have pushed out of the cache since."""
        made = {key: (district, orjson.Fragment(orjson.dumps(record))) for key, (district, record) in written.items()}
        with self._lock:
            self._records.update({(entity, *key): held for key, held in made.items()})
            while len(self._records) > self.kept:
                self._records.popitem(last=False)
        return made

    def clear(self) -> None:
        with self._lock:
            self._records.clear()


WRITTEN = WrittenRecords()
