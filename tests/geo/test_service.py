import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cordon.errors import ValidationFailed
from cordon.geo import rules, service
from cordon.geo.models import Division


def test_guangdong_counties_are_known_with_their_prefecture(session: Session) -> None:
    county = session.get(Division, "440803")
    assert county is not None and (county.name, county.level) == ("霞山区", "county")
    prefecture = session.get(Division, county.parent_code)
    assert prefecture is not None and (prefecture.name, prefecture.parent_code) == ("湛江市", "44")
    assert session.get(Division, "440102") is None  # 东山区, abolished in 2005


def test_hierarchy_from_guangxi_to_dongxing_villages(session: Session) -> None:
    assert (
        session.scalar(select(func.count()).select_from(Division)) == 126 + 46 - 1 + 144
    )  # 东兴市 is in both Guangxi files; Guangdong: 1 province, 21 prefectures, 122 counties
    chain = [session.get(Division, code) for code in rules.ancestors("450681100001")]
    assert [(d.name, d.level) for d in chain if d] == [
        ("广西壮族自治区", "province"),
        ("防城港市", "prefecture"),
        ("东兴市", "county"),
        ("东兴镇", "town"),
        ("东郊社区居委会", "village"),
    ]
    towns = service.children(session=session, code="450681")
    assert sorted(t.name for t in towns) == ["东兴镇", "江平镇", "马路镇"]
    counties = {d.code for d in service.children(session=session, code="4506")}
    assert counties == {"450602", "450603", "450621", "450681"}


def test_loading_twice_adds_nothing(session: Session) -> None:
    assert service.load_divisions(session=session) == 0


@pytest.mark.parametrize(
    ("given", "normal"), [("450000", "45"), ("450600", "4506"), ("450681", "450681")]
)
def test_gb2260_six_digit_forms_are_accepted(given: str, normal: str) -> None:
    assert rules.normalise_code(given) == normal


@pytest.mark.parametrize("code", ["45x", "4506811", "", "450699"])
def test_bad_or_unknown_codes_name_the_field(session: Session, code: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        service.require_division(session=session, code=code, field="jurisdiction")
    assert caught.value.problems[0].field == "jurisdiction"


def test_boundaries_and_town_seats_are_packaged() -> None:
    counties = service.boundary_geojson()
    assert {f["properties"]["adcode"] for f in counties["features"]} == {
        450602,
        450603,
        450621,
        450681,
    }
    assert set(service.town_seats()) == {"450681100", "450681101", "450681102"}
