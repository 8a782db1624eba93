"""Texting through Twilio: the one package that imports ``twilio``."""
