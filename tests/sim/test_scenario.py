"""Scenario files: every parameter written out with its source, and refused when wrong."""

from importlib import resources

import pytest
import yaml

from cordon.errors import ValidationFailed
from cordon.sim import scenario


def test_packaged_scenarios_are_complete_and_current() -> None:
    for name in scenario.available():
        text = (resources.files("cordon.sim") / "scenarios" / f"{name}.yaml").read_text("utf-8")
        assert text == scenario.render(scenario.load(name)), (
            f"regenerate: cordon sim scenario {name} > src/cordon/sim/scenarios/{name}.yaml"
        )


def test_epidemiological_parameters_name_their_source() -> None:
    fields = scenario.OutbreakParams.model_fields
    missing = [name for name, field in fields.items() if not field.description]
    assert missing == []


def test_bad_values_and_unknown_keys_are_refused_with_their_path() -> None:
    good = yaml.safe_load(scenario.render(scenario.load("dongxing-2021")))
    good["outbreak"]["incubation_mean_days"] = -1
    good["movement"]["no_such_knob"] = 3
    with pytest.raises(ValidationFailed) as caught:
        scenario.parse(good, source="test")
    assert {p.field for p in caught.value.problems} == {
        "outbreak.incubation_mean_days",
        "movement.no_such_knob",
    }
