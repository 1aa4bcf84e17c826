"""Our tests/ folder must not collide with the top-level `tests` package lava-nc installs."""

import importlib.util
from pathlib import Path

HERE = Path(__file__).resolve().parent


def test_tests_folder_is_not_a_package():
    assert not (HERE / "__init__.py").exists()
    assert __name__ == "test_layout"  # imported by basename, not under any `tests` package


def test_test_basenames_are_unique():
    names = [p.name for p in HERE.rglob("test_*.py")]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)


def test_tests_name_resolves_to_lavas_package_not_ours():
    spec = importlib.util.find_spec("tests")
    if spec is not None:  # lava-nc's wheel ships one; ours must not shadow it or be shadowed
        origins = [Path(p).resolve() for p in (spec.submodule_search_locations or [])]
        assert HERE not in origins
