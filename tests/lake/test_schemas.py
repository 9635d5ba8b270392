from cordon.lake import schemas


def test_every_table_has_a_schema_and_day_partitions_have_a_day_column() -> None:
    assert set(schemas.TABLES) >= schemas.BY_DAY
    for name in schemas.BY_DAY:
        assert schemas.TABLES[name].field("day").type.bit_width == 16


def test_times_are_utc_seconds() -> None:
    for schema in schemas.TABLES.values():
        for field in schema:
            if str(field.type).startswith("timestamp"):
                assert field.type == schemas.TIME, field.name
