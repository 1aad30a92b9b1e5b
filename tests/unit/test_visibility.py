"""Who sees what: the one visibility rule each service builds from the caller."""

import pytest

from app.errors import Problem
from app.models import Role, User, UserDistrict
from app.services.visibility import Visibility


def person(role: str, *districts: int, id_: int = 7) -> User:
    return User(id=id_, role=role, district_links=[UserDistrict(district=d) for d in districts])


@pytest.mark.parametrize("role", [Role.COMMITTEE, Role.ADMIN])
def test_citywide_roles_see_every_district_and_every_report(role):
    seen = Visibility.of(person(role))
    assert seen == Visibility(None, None)
    assert seen.covers(22) and seen.covers_any([5]) and seen.sees_work(22, author_id=99)


def test_a_district_head_sees_the_work_of_their_districts_only():
    seen = Visibility.of(person(Role.DISTRICT_HEAD, 6))
    assert seen == Visibility(frozenset({6}), None)
    assert seen.sees_work(6, author_id=99) and not seen.sees_work(7, author_id=99)


def test_an_inspector_sees_their_districts_places_but_only_their_own_work():
    seen = Visibility.of(person(Role.INSPECTOR, 3, 4, id_=7))
    assert seen == Visibility(frozenset({3, 4}), author_id=7)
    assert seen.covers(4) and not seen.covers(5)
    assert not seen.sees_work(3, author_id=8)
    assert seen.sees_work(9, author_id=7)  # their own report, wherever it was made


def test_a_filter_outside_ones_districts_is_refused():
    seen = Visibility.of(person(Role.DISTRICT_HEAD, 6))
    assert seen.narrowed_to(None) == frozenset({6}) and seen.narrowed_to(6) == frozenset({6})
    with pytest.raises(Problem) as refused:
        seen.narrowed_to(7)
    assert refused.value.type.code == "out-of-scope"
    assert not seen.covers_any([1, 2]) and seen.covers_any([2, 6])
