"""Money for plugin authors: re-exported from the core (``backhaul.sdk.Money``)."""
from backhaul.core.money import CurrencyMismatch, Money, exponent

__all__ = ["CurrencyMismatch", "Money", "exponent"]
