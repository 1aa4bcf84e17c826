"""Shared by the bundle tests: one small trained model per network and its deploy bundle,
built once per session (the engine's compile dominates the cost)."""

import pytest
from bundles import train_and_deploy


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("deploy")
    return {net: train_and_deploy(root, net) for net in ("diehl-cook", "tinysnn")}
