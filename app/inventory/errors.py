from __future__ import annotations

from app.core.errors import Conflict


class OutOfStock(Conflict):
    type_slug = "out-of-stock"
    title = "Not enough stock"

    def __init__(self, skus: list[str]) -> None:
        super().__init__(f"not enough stock for {', '.join(skus)}", extra={"skus": skus})
        self.skus = skus
