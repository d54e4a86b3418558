"""Bantico: self-hostable attribution for tracked links and Dodo Payments revenue."""

__version__ = "0.1.0"
