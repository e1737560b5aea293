"""Gait and riding analysis from a sacrum IMU: initial contacts with side, cadence, activity, strides."""
from .contacts import InitialContacts, detect_initial_contacts

__all__ = ["InitialContacts", "detect_initial_contacts"]
