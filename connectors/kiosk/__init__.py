"""The kiosk: a local touch page with voice (Vosk in, espeak-ng out) in front of Rasa."""

from connectors.kiosk.app import KioskSession, create_app

__all__ = ["KioskSession", "create_app"]
