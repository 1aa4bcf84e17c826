"""Helpers shared by the ProcessModels."""

from __future__ import annotations


def require_precision(model, expected: str) -> None:
    """Refuse to run a Process whose parameters are of the other precision."""
    got = model.proc_params["precision"]
    if got != expected:
        tag = "fixed_pt" if got == "fixed" else "floating_pt"
        raise ValueError(
            f"{type(model).__name__} runs {expected}-precision parameters, but this process "
            f"was built with {got} ones: run it with Loihi2SimCfg(select_tag={tag!r})"
        )
