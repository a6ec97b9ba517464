"""Telegram channel for 就业助手: python-telegram-bot in front of Rasa's REST channel."""

from connectors.telegram.app import (
    MAIN_MENU,
    TelegramChannel,
    build_application,
    install_token_filter,
    webhook_options,
)
from connectors.telegram.render import CallbackPayloads, Outgoing, render_messages, split_text

__all__ = [
    "MAIN_MENU",
    "CallbackPayloads",
    "Outgoing",
    "TelegramChannel",
    "build_application",
    "install_token_filter",
    "render_messages",
    "split_text",
    "webhook_options",
]
