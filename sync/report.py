"""A report's client fields, declared once, and the canonical form the merge compares.

`FIELDS` is the one declaration of what a phone may write on a report (DESIGN §5.3). The
wire schemas and the fast create loader (schemas/sync.py), the merge's policies
(sync.merge), the canonical form kept for each version (sync/canonical.py) and the columns a push
writes (sync/push.py) are all derived from it; tests/unit/test_report_fields.py checks the
model's columns, and the two clients' field lists (sync/client.py, the app's sync.js),
against it. Adding a field is a line here, a column on
app.models.Report and a migration (CONTRIBUTING.md shows one).

Plain declarations and the standard library only, so that a client (sync/client.py) can
read them too; the canonical form and the columns, which need geometry, are in
sync/canonical.py.
"""

from dataclasses import dataclass

REPORT_STATES = ("open", "closed", "open_not_serving", "relocated", "permanently_closed", "inaccessible")

# The kinds of value a field holds: each has one wire form, one plain (fast) reader, one
# canonical form and one column form.
UUID = "uuid"
INSTANT = "instant"  # an ISO 8601 instant with its offset
POINT = "point"  # a GeoJSON Point, [lon, lat] on WGS 84
NUMBER = "number"  # a float within `range`
COUNT = "count"  # an integer within `range`
CHOICE = "choice"  # one of `choices`
CHECKLIST = "checklist"  # {item: true | false | null}, at most `most` items of 1-64 characters
TEXT = "text"  # at most `most` characters
PHOTOS = "photos"  # [{sha256, taken_at, caption}], at most `most`

# What happens to a field in an update (DESIGN §5.4, sync.merge).
IMMUTABLE = "immutable"  # fixed at creation: a change refuses the op
AT_CREATION = "at_creation"  # set at creation: an update's value is not merged (§5.3's round_id)
LATEST_EDIT = "latest_edit"  # both changed it: the later edit wins
PER_ITEM = "per_item"  # merged item by item, each by latest edit
MERGE_TEXT = "merge_text"  # both texts kept, the server's first
UNION = "union"  # a three-way set union (photos, by sha256)
MERGED = (LATEST_EDIT, PER_ITEM, MERGE_TEXT, UNION)

CHECKLIST_ITEM_MAX = 64  # characters in an item's name
CAPTION_MAX = 500


@dataclass(frozen=True)
class Field:
    name: str
    kind: str
    merge: str = LATEST_EDIT
    required: bool = False  # in a create; a field left out holds its kind's empty value
    range: tuple[float, float] | None = None  # NUMBER, COUNT
    choices: tuple[str, ...] | None = None  # CHOICE
    most: int | None = None  # TEXT: characters; CHECKLIST: items; PHOTOS: photos
    description: str | None = None

    @property
    def nullable(self) -> bool:
        """May the value be null? Not for a required field, nor for one whose empty value is
        a value of its own (no checklist is {}, no notes "", no photos [])."""
        return not self.required and self.kind not in EMPTY

    def empty(self):
        """What a create that leaves the field out holds."""
        return EMPTY[self.kind]() if self.kind in EMPTY else None


EMPTY = {CHECKLIST: dict, TEXT: str, PHOTOS: list}

FIELDS: tuple[Field, ...] = (
    Field("office_id", UUID, IMMUTABLE, required=True),
    Field("round_id", UUID, AT_CREATION),
    Field("observed_at", INSTANT, required=True, description="The phone's clock when the office was seen"),
    Field("gps_fix_at", INSTANT),
    Field("location", POINT),
    Field("accuracy_m", NUMBER, range=(0, 100_000)),
    Field("office_state", CHOICE, required=True, choices=REPORT_STATES),
    Field("staff_present", COUNT, range=(0, 10_000)),
    Field("checklist", CHECKLIST, PER_ITEM, most=100),
    Field("notes", TEXT, MERGE_TEXT, most=4000),
    Field("photos", PHOTOS, UNION, most=50),
)
BY_NAME = {f.name: f for f in FIELDS}
NAMES = tuple(BY_NAME)
MERGEABLE_FIELDS = tuple(f.name for f in FIELDS if f.merge in MERGED)


def most(name: str) -> int:
    return BY_NAME[name].most
