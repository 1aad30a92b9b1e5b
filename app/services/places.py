"""Reading the districts and offices the caller may see."""

import uuid
from dataclasses import dataclass

from app.errors import Problem
from app.models import District, Office, User
from app.repositories import districts as district_repo
from app.repositories import offices as office_repo
from app.repositories.offices import Near
from app.services.visibility import Visibility


# The furthest row a list skips to. Any page past the data is empty, however far past, but
# an offset beyond 64 bits overflows the database's integer (a 500 where an empty page is due).
MAX_OFFSET = 2**53


@dataclass(frozen=True)
class Page:
    offset: int
    limit: int

    def __post_init__(self):
        object.__setattr__(self, "offset", min(self.offset, MAX_OFFSET))


def list_districts(user: User, page: Page):
    return district_repo.list_with_office_counts(Visibility.of(user).districts, page.offset, page.limit)


def get_district(user: User, number: int) -> District:
    district = district_repo.get(number)
    if district is None:
        raise Problem("not-found", f"There is no district {number}; Tehran's are 1–22.")
    Visibility.of(user).require(number)
    return district


def list_offices(user: User, district: int | None, near: Near | None, page: Page):
    districts = Visibility.of(user).narrowed_to(district)
    return office_repo.list_page(districts, near, page.offset, page.limit)


def get_office(user: User, office_id: uuid.UUID) -> Office:
    office = office_repo.get(office_id)
    if office is None:
        raise Problem("not-found", f"There is no office {office_id}.")
    Visibility.of(user).require(office.district, "office")
    return office
