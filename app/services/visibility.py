"""What a person may see: which districts (every one, or those assigned to them) and whose reports."""

from collections.abc import Iterable
from dataclasses import dataclass

from app.errors import Problem
from app.models import Role, User


@dataclass(frozen=True)
class Visibility:
    """The committee and admins see the whole city; a district head their districts, with
    every report, op and photo of them; an inspector their districts' places but only their
    own work (reports, and the cases, ops, photos and rounds that hold them)."""

    districts: frozenset[int] | None  # None: the whole city
    author_id: int | None = None  # not None: of reports, only this author's, wherever they are

    @classmethod
    def of(cls, user: User) -> "Visibility":
        if user.citywide:
            return cls(None)
        return cls(frozenset(user.districts), user.id if user.role == Role.INSPECTOR else None)

    def covers(self, district: int) -> bool:
        return self.districts is None or district in self.districts

    def covers_any(self, districts: Iterable[int]) -> bool:
        return self.districts is None or not self.districts.isdisjoint(districts)

    def sees_work(self, district: int, author_id: int) -> bool:
        """Whether one may see a report (or a round) of `district` by (or for) `author_id`."""
        if self.author_id is not None:
            return author_id == self.author_id
        return self.covers(district)

    def require(self, district: int, what: str = "district") -> None:
        if not self.covers(district):
            raise Problem("out-of-scope", f"This {what} is in district {district}, outside your districts.")

    def narrowed_to(self, district: int | None) -> frozenset[int] | None:
        """The districts to query for an optional `district` filter, checked against the visibility."""
        if district is None:
            return self.districts
        self.require(district)
        return frozenset({district})
