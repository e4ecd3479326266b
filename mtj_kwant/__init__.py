"""Spin-transfer torques in magnetic tunnel junctions from quantum transport."""
__version__ = "0.1.0"
