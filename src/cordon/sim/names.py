"""Synthetic personal particulars, vectorised: names, identity numbers, mobiles, birth dates."""

from __future__ import annotations

from datetime import date

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

# Common surnames of Guangxi and of Dongxing's Jing community (阮, 武, 裴), with rough weights.
SURNAMES = "黄李陈梁刘韦莫覃张杨罗林蒙王何吴邓周苏谢唐蓝潘农廖卢钟冯曾朱赵许郑宁凌阮武裴龚吕庞"
SURNAME_WEIGHTS = np.array(
    [
        9, 8, 7, 6, 6, 5, 4, 4, 4, 4, 3.5, 3, 2.5, 3, 3, 3, 3, 2.5, 2.5, 2, 2, 1.5, 2, 1.5, 2,
        2, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1, 1, 1, 0.8, 0.5, 0.5, 0.5, 0.5,
    ],
    dtype=np.float64,
)  # fmt: skip
GIVEN_MALE = "伟强军勇杰涛明斌华建国志海文俊峰磊鹏飞超宇浩昊轩博晨鑫林东平荣德福贵生辉坤"
GIVEN_FEMALE = "芳娟敏静丽艳霞燕玲红梅兰琳婷雪颖慧萍秀英凤欣怡佳妍琪雨萱诗梦桂金"
# Mobile prefixes of the three mainland operators (all valid in libphonenumber's CN data).
MOBILE_PREFIXES = np.array(
    [
        130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 150, 151, 152, 153, 155, 156, 157,
        158, 159, 177, 180, 181, 182, 183, 184, 185, 186, 187, 188, 189, 198, 199,
    ],
    dtype=np.int64,
)  # fmt: skip
# GB 11643-1999 check digit: ISO 7064 MOD 11-2 (the same as stdnum.cn.ric.calc_check_digit,
# done on whole arrays; the tests compare every number with stdnum).
_WEIGHTS = np.array([pow(2, 17 - i, 11) for i in range(17)], dtype=np.int64)
_CHECK = pa.array(list("10X98765432"))


def birth_dates(
    age: npt.NDArray[np.int64], start_date: date, rng: np.random.Generator
) -> tuple[npt.NDArray[np.datetime64], npt.NDArray[np.int64]]:
    """Birth dates for people aged ``age`` on ``start_date``; returns them with the exact age in
    whole years on that date."""
    start = np.datetime64(start_date, "D")
    offset = np.floor((age + rng.random(len(age))) * 365.2425).astype(np.int64)
    birth = start - offset.astype("timedelta64[D]")
    by, bm, bd = _ymd(birth)
    sy, sm, sd = _ymd(np.array([start]))
    before = (bm > sm[0]) | ((bm == sm[0]) & (bd > sd[0]))
    exact = sy[0] - by - before.astype(np.int64)
    return birth, exact


def _ymd(
    days: npt.NDArray[np.datetime64],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    years = days.astype("datetime64[Y]")
    months = days.astype("datetime64[M]")
    year = years.astype(np.int64) + 1970
    month = (months - years).astype(np.int64) + 1
    day = (days - months).astype(np.int64) + 1
    return year, month, day


def person_names(
    sex: npt.NDArray[np.int8], surname_index: npt.NDArray[np.int64], rng: np.random.Generator
) -> pa.Array:
    """Surname + a one- or two-character given name drawn by sex."""
    n = len(sex)
    surnames = pa.array(list(SURNAMES)).take(pa.array(surname_index))
    male, female = list(GIVEN_MALE), list(GIVEN_FEMALE)
    pool = pa.array(male + female + [""])
    offset = np.where(sex == 1, 0, len(male))
    size = np.where(sex == 1, len(male), len(female))
    first = offset + (rng.random(n) * size).astype(np.int64)
    second = offset + (rng.random(n) * size).astype(np.int64)
    second = np.where(rng.random(n) < 0.25, len(male) + len(female), second)
    return pc.binary_join_element_wise(surnames, pool.take(first), pool.take(second), "")


def draw_surnames(n: int, rng: np.random.Generator) -> npt.NDArray[np.int64]:
    p = SURNAME_WEIGHTS / SURNAME_WEIGHTS.sum()
    return rng.choice(len(SURNAMES), size=n, p=p).astype(np.int64)


def _unique_draws(
    draw: int, high: int, rng: np.random.Generator, keys: npt.NDArray[np.int64] | None = None
) -> npt.NDArray[np.int64]:
    """``draw`` integers in [0, high), redrawn until (key, value) pairs are unique."""
    values = rng.integers(0, high, draw)
    base = np.zeros(draw, dtype=np.int64) if keys is None else keys * high
    for _ in range(100):
        _, first = np.unique(base + values, return_index=True)
        duplicate = np.ones(draw, dtype=bool)
        duplicate[first] = False
        if not duplicate.any():
            return values
        values[duplicate] = rng.integers(0, high, int(duplicate.sum()))
    raise RuntimeError("could not draw unique numbers: the range is too small")


def id_numbers(
    region: npt.NDArray[np.int64],
    birth: npt.NDArray[np.datetime64],
    sex: npt.NDArray[np.int8],
    rng: np.random.Generator,
) -> pa.Array:
    """Unique, valid GB 11643 numbers: region + YYYYMMDD + order (odd for men) + check digit."""
    year, month, day = _ymd(birth)
    yyyymmdd = year * 10_000 + month * 100 + day
    # The order number is unique among people of the same region, birth date and sex.
    key = (region * 100_000_000 + yyyymmdd) * 2 + sex
    order = _unique_draws(len(sex), 500, rng, key.astype(np.int64)) * 2 + sex
    first17 = (region * 100_000_000 + yyyymmdd) * 1000 + order
    total = np.zeros(len(sex), dtype=np.int64)
    rest = first17.copy()
    for position in range(16, -1, -1):
        total += (rest % 10) * _WEIGHTS[position]
        rest //= 10
    check = _CHECK.take(pa.array(total % 11))
    return pc.binary_join_element_wise(pc.cast(pa.array(first17), pa.string()), check, "")


def mobiles(n: int, rng: np.random.Generator) -> pa.Array:
    """``n`` distinct 11-digit mainland mobile numbers."""
    prefix = MOBILE_PREFIXES[rng.integers(0, len(MOBILE_PREFIXES), n)]
    subscriber = _unique_draws(n, 100_000_000, rng, prefix)
    return pc.cast(pa.array(prefix * 100_000_000 + subscriber), pa.string())
