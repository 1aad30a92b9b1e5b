"""What part of the city a person may see: every district, or the ones assigned to them."""

from dataclasses import dataclass

from app.errors import Problem
from app.models import User


@dataclass(frozen=True)
class Scope:
    districts: frozenset[int] | None  # None: the whole city

    @classmethod
    def of(cls, user: User) -> "Scope":
        return cls(None if user.citywide else frozenset(user.districts))

    def covers(self, district: int) -> bool:
        return self.districts is None or district in self.districts

    def require(self, district: int, what: str = "district") -> None:
        if not self.covers(district):
            raise Problem("out-of-scope", f"This {what} is in district {district}, outside your districts.")

    def narrowed_to(self, district: int | None) -> frozenset[int] | None:
        """The districts to query for an optional `district` filter, checked against scope."""
        if district is None:
            return self.districts
        self.require(district)
        return frozenset({district})
