"""The recipe's one error kind."""

from __future__ import annotations

from emolens.errors import EmolensError


class RecipeError(EmolensError):
    """A job of the recipe failed, or its state bundle is unsafe; the message names which."""
