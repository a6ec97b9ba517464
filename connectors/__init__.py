"""Channels that talk to Rasa over HTTP: terminal, Telegram, kiosk (voice)."""
