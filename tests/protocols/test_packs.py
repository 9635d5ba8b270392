"""Protocol packs load, differ where the editions differ, and are refused when wrong."""

from importlib import resources

import pytest
import yaml

from cordon.errors import ValidationFailed
from cordon.protocols import packs


def raw(name: str) -> dict[str, object]:
    text = (resources.files("cordon.protocols") / "packs" / f"{name}.yaml").read_text("utf-8")
    data: dict[str, object] = yaml.safe_load(text)
    return data


def test_the_default_pack_is_the_reference_scenario_s() -> None:
    pack = packs.load()
    assert pack.name == "guangxi-2021-12" and pack.edition == "E8 + GX21"
    assert pack.look_back.days_before_onset == 2
    assert pack.companion.cell_metres == 800 and pack.companion.min_minutes == 10
    close = pack.quarantine["close_contact"]
    assert (close.central_days, close.central_test_days, close.home_days) == (14, [1, 4, 7, 14], 7)


def test_editions_differ_where_the_protocol_changed() -> None:
    e8, e9 = packs.load("guangxi-2021-12"), packs.load("e9-2022-06")
    assert (e8.look_back.days_before_onset, e9.look_back.days_before_onset) == (2, 4)
    assert e9.quarantine["close_contact"].central_test_days == [1, 2, 3, 5, 7]
    assert "high_risk_area" in e9.quarantine and "high_risk_area" not in e8.quarantine


@pytest.mark.parametrize("name", ["guangxi-2021-12", "e9-2022-06"])
def test_both_editions_follow_protocol_section_1(name: str) -> None:
    """Secondary contacts live, eat, work or study with a close contact: household, co-workers
    of the same section, classmates, not venues; companions drop phones living in the cell."""
    pack = packs.load(name)
    secondary = pack.secondary_contact
    assert secondary is not None and secondary.settings == ["household", "work", "class"]
    assert secondary.within == {"household": "home", "work": "team", "class": "class"}
    assert secondary.min_overlap_minutes == {"household": 0, "work": 30, "class": 30}
    close = pack.close_contact
    assert close.within["class"] == "class" and close.within["venue"] == "section"
    assert set(close.within) == set(close.settings)
    residency = pack.companion.residency_filter
    assert residency is not None and (residency.min_hours, residency.within_days) == (30, 14)


def test_every_packaged_pack_loads() -> None:
    assert {"guangxi-2021-12", "e9-2022-06"} <= set(packs.available())
    for name in packs.available():
        assert packs.load(name).source


def test_unknown_pack_is_named() -> None:
    with pytest.raises(ValidationFailed) as caught:
        packs.load("e42")
    assert caught.value.problems[0].field == "pack"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            lambda d: d["close_contact"].update(settings=["household", "office"]),
            "close_contact.settings.1",
        ),
        (lambda d: d["close_contact"]["min_overlap_minutes"].pop("work"), "close_contact"),
        (lambda d: d["secondary_contact"]["within"].pop("work"), "secondary_contact"),
        (lambda d: d["close_contact"]["within"].update(household="class"), "close_contact"),
        (
            lambda d: d["close_contact"]["within"].update(work="building"),
            "close_contact.within.work",
        ),
        (
            lambda d: d["quarantine"]["close_contact"].update(central_test_days=[15]),
            "quarantine.close_contact",
        ),
        (lambda d: d["look_back"].update(days_before_onset=-1), "look_back.days_before_onset"),
        (lambda d: d.update(colour="red"), "colour"),
    ],
)
def test_invalid_packs_are_refused_with_the_field_named(change: object, field: str) -> None:
    data = raw("guangxi-2021-12")
    change(data)  # type: ignore[operator]
    with pytest.raises(ValidationFailed) as caught:
        packs.parse(data, source="test")
    assert field in {p.field for p in caught.value.problems}
