import numpy as np

from cordon.geo.cells import CELL_METRES, cell_centre, cell_of, neighbours


def test_points_800_m_apart_fall_in_neighbouring_cells() -> None:
    lon, lat = 107.97, 21.55
    here = int(cell_of([lon], [lat])[0])
    east = int(cell_of([lon + 900 / 103_000], [lat])[0])  # ~900 m east
    assert east != here and east in neighbours(here)


def test_centre_lies_in_its_own_cell_and_cells_are_about_800_m() -> None:
    cells = cell_of(np.linspace(107.9, 108.2, 50), np.linspace(21.5, 21.7, 50))
    lon, lat = cell_centre(cells)
    assert (cell_of(lon, lat) == cells).all()
    _lon, lats = cell_centre(np.array([cells[0], cells[0] + 1]))
    assert abs((lats[1] - lats[0]) * 110_574 - CELL_METRES) < 1
