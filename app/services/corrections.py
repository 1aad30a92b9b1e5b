"""Office corrections that inspectors propose from the field, and the admin's decision on them."""

import uuid

from app.database import utcnow
from app.errors import Problem, invalid
from app.models import OfficeCorrection, User
from app.repositories import corrections as repo
from app.repositories import districts as district_repo
from app.repositories import offices as office_repo
from app.services import changefeed, unit_of_work
from app.services.office_import import move
from app.services.visibility import Visibility
from geo.geometry import lon_lat, to_shapely


def list_corrections(user: User, status: str | None, page):
    """The corrections of offices the caller may see, newest first, with the total."""
    return repo.list_page(Visibility.of(user).districts, status, page.offset, page.limit)


def decide(user: User, correction_id: uuid.UUID, decision: str, note: str) -> OfficeCorrection:
    with unit_of_work():
        changefeed.lock(None)
        correction = repo.get_correction(correction_id)
        if correction is None:
            raise Problem("not-found", f"There is no office correction {correction_id}.")
        if correction.status != "pending":
            raise Problem("correction-decided", f"This correction was already {correction.status}.")
        if decision == "accept":
            _apply(correction)
        correction.status = "accepted" if decision == "accept" else "rejected"
        correction.decided_by = user.id
        correction.decided_at = utcnow()
        correction.decision_note = note
    return correction


def _apply(correction: OfficeCorrection) -> None:
    office = office_repo.get(correction.office_id)
    if correction.kind == "moved":
        lon, lat = lon_lat(correction.location)
        district = district_repo.number_at(lon, lat)
        if district is None:
            raise invalid("location", "The proposed location is outside Tehran's 22 districts.")
        move(office, to_shapely(correction.location), district)
        return
    if correction.kind == "phone":
        values = {"phone": correction.phone}
    else:
        values = {"status": "closed_permanently"}
    move(office, to_shapely(office.location), office.district, values)
