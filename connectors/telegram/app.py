"""The Telegram channel: a python-telegram-bot ``Application`` that forwards every update to Rasa."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import weakref
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import quote, urlsplit

from telegram import BotCommand, Message, Update
from telegram.constants import ChatAction
from telegram.error import BadRequest, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    BaseRateLimiter,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from connectors.rasa_client import RASA_DOWN_REPLY, BotMessage, Button, RasaClient, RasaUnavailable
from connectors.telegram.render import (
    DONE_MARK,
    CallbackPayloads,
    mark_pressed,
    render_messages,
)
from connectors.telegram.voice import VoiceNotUnderstood, VoiceTranscriber, VoiceUnavailable
from knowledge.settings import Settings

logger = logging.getLogger(__name__)

MAIN_MENU: tuple[Button, ...] = (
    Button("找工作", "/search_job"),
    Button("问政策", "/ask_policy"),
    Button("查补贴", "/check_eligibility"),
    Button("附近服务站", "/find_service_station"),
    Button("人工服务", "/human_handoff"),
)
WELCOME = (
    "您好！我是就业助手，可以帮您找工作、问就业政策、查能领哪些补贴、找附近的就业服务站，"
    "也可以帮您转人工服务。\n请点下面的按钮，或者直接打字、发语音告诉我您想办什么。"
)
HELP = (
    "您可以这样用我：\n"
    "• 直接打字提问，比如“杭州余杭区有没有仓库的活”“失业保险金怎么领”\n"
    "• 按住麦克风发语音，我会先把听到的内容发给您确认\n"
    "• 点📎→位置，发送您的位置，我帮您找最近的服务站\n"
    "命令：/start 主菜单　/help 帮助　/cancel 重新开始"
)
CANCELLED = "好的，已经重新开始。请问还需要办什么？"
VOICE_UNAVAILABLE = "抱歉，这里暂时不能识别语音，请直接打字告诉我。"
VOICE_TOO_LONG = "语音有点长，请分成一分钟以内的几段，或者直接打字。"
VOICE_UNCLEAR = "抱歉，没有听清，请再说一遍，或者直接打字。"
VOICE_BAD_AUDIO = "抱歉，这段语音打不开，请重新录一段，或者直接打字。"
VOICE_HEARD = "您说的是：{text}"
VOICE_UNSURE = "（没太听清，如果不对，请再说一遍或直接打字。）"
BUTTON_EXPIRED = "这个按钮已经过期了，请重新选择或直接打字。"
UNSUPPORTED = "目前我能看懂文字、语音和位置，请用这几种方式告诉我。"
UNKNOWN_COMMAND = "没有这个命令。" + HELP
SOMETHING_WENT_WRONG = "抱歉，刚才出了点问题，请再说一次。"

MAX_VOICE_SECONDS = 60
MAX_CONCURRENT_UPDATES = 1024
"""Updates handled at once. Updates waiting for their chat's lock hold a slot too, so this is
well above PTB's default 256: one chat sending a burst must not stall every other chat."""
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]
BOT_COMMANDS = (
    BotCommand("start", "主菜单"),
    BotCommand("help", "使用帮助"),
    BotCommand("cancel", "重新开始对话"),
)


class _SecretFilter(logging.Filter):
    """Masks secrets (the bot token) in every record; PTB and httpx log URLs that contain it."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = {s for secret in secrets if secret for s in (secret, quote(secret))}

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not stop logging
            message = str(record.msg)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        for secret in self.secrets:
            message = message.replace(secret, "<token>")
            if record.exc_text:
                record.exc_text = record.exc_text.replace(secret, "<token>")
        record.msg, record.args = message, None
        return True


def install_token_filter(token: str, target: logging.Logger | None = None) -> None:
    """Mask ``token`` on every handler of ``target`` (the root logger by default).

    Handler filters see records from every logger (httpx, httpcore, telegram.*), whatever their
    level; call this after ``setup_logging`` so the handlers exist. Idempotent.
    """
    root = target or logging.getLogger()
    for handler in root.handlers:
        existing = next((f for f in handler.filters if isinstance(f, _SecretFilter)), None)
        if existing is None:
            handler.addFilter(_SecretFilter([token]))
        else:
            existing.secrets |= {token, quote(token)}
    # httpx logs every request URL at INFO; that URL carries the token.
    for name in ("httpx", "httpcore"):
        if logging.getLogger(name).getEffectiveLevel() < logging.WARNING:
            logging.getLogger(name).setLevel(logging.WARNING)


class ChatLocks:
    """One ``asyncio.Lock`` per chat, so one chat's updates are handled in order while different
    chats run in parallel. Locks nobody holds or waits for are dropped (weak references)."""

    def __init__(self) -> None:
        self._locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()

    def __call__(self, chat_id: int) -> asyncio.Lock:
        lock = self._locks.get(chat_id)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[chat_id] = lock
        return lock


class TelegramChannel:
    """The update handlers. Sender id towards Rasa is the chat id, as a string."""

    def __init__(self, rasa: RasaClient, transcriber: VoiceTranscriber) -> None:
        self._rasa = rasa
        self._voice = transcriber
        self._payloads = CallbackPayloads()
        self._locks = ChatLocks()

    def register(self, app: Application[Any, Any, Any, Any, Any, Any]) -> None:
        """Add every handler to ``app``. Edited messages are ignored (live locations edit theirs)."""
        new = filters.UpdateType.MESSAGE
        app.add_handler(CommandHandler("start", self.on_start, filters=new))
        app.add_handler(CommandHandler("help", self.on_help, filters=new))
        app.add_handler(CommandHandler("cancel", self.on_cancel, filters=new))
        app.add_handler(MessageHandler(new & filters.COMMAND, self.on_unknown_command))
        app.add_handler(MessageHandler(new & filters.TEXT, self.on_text))
        app.add_handler(MessageHandler(new & filters.VOICE, self.on_voice))
        app.add_handler(MessageHandler(new & filters.LOCATION, self.on_location))
        app.add_handler(CallbackQueryHandler(self.on_callback))
        app.add_handler(MessageHandler(new, self.on_unsupported))
        app.add_error_handler(self.on_error)

    # --- sending ---------------------------------------------------------------------------

    async def _send_text(
        self,
        ctx: ContextTypes.DEFAULT_TYPE,
        chat_id: int,
        text: str,
        buttons: Sequence[Button] = (),
    ) -> None:
        await self._deliver(ctx, chat_id, [BotMessage(text=text, buttons=tuple(buttons))])

    async def _deliver(
        self, ctx: ContextTypes.DEFAULT_TYPE, chat_id: int, replies: Iterable[BotMessage]
    ) -> None:
        for out in render_messages(chat_id, replies, self._payloads):
            if out.photo:
                try:
                    await ctx.bot.send_photo(
                        chat_id, out.photo, caption=out.text or None, reply_markup=out.keyboard
                    )
                    continue
                except BadRequest as exc:  # Telegram could not fetch the image: give the link
                    logger.warning("sendPhoto failed, sending the link instead: %s", exc)
                    text = "\n".join(t for t in (out.text, out.photo) if t)
                    await ctx.bot.send_message(chat_id, text, reply_markup=out.keyboard)
                    continue
            await ctx.bot.send_message(chat_id, out.text, reply_markup=out.keyboard)

    async def _forward(self, ctx: ContextTypes.DEFAULT_TYPE, chat_id: int, message: str) -> None:
        """Send one user message to Rasa and deliver its replies (call with the chat's lock held)."""
        try:
            replies = await self._rasa.send(str(chat_id), message)
        except RasaUnavailable as exc:
            logger.warning("Rasa unavailable for a Telegram chat: %s", exc)
            await ctx.bot.send_message(chat_id, RASA_DOWN_REPLY)
            return
        await self._deliver(ctx, chat_id, replies)

    # --- handlers --------------------------------------------------------------------------

    async def on_start(self, update: Update, ctx: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat
        assert chat is not None  # a message update always has a chat
        async with self._locks(chat.id):
            await self._send_text(ctx, chat.id, WELCOME, MAIN_MENU)

    async def on_help(self, update: Update, ctx: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat
        assert chat is not None
        async with self._locks(chat.id):
            await self._send_text(ctx, chat.id, HELP, MAIN_MENU)

    async def on_cancel(self, update: Update, ctx: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat
        assert chat is not None
        async with self._locks(chat.id):
            try:
                await self._rasa.restart(str(chat.id))
            except RasaUnavailable as exc:
                logger.warning("Rasa unavailable on /cancel: %s", exc)
                await ctx.bot.send_message(chat.id, RASA_DOWN_REPLY)
                return
            await self._send_text(ctx, chat.id, CANCELLED, MAIN_MENU)

    async def on_unknown_command(self, update: Update, ctx: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat
        assert chat is not None
        async with self._locks(chat.id):
            await self._send_text(ctx, chat.id, UNKNOWN_COMMAND)

    async def on_text(self, update: Update, ctx: ContextTypes.DEFAULT_TYPE) -> None:
        message, chat = update.effective_message, update.effective_chat
        assert message is not None and chat is not None
        async with self._locks(chat.id):
            await self._forward(ctx, chat.id, message.text or "")

    async def on_location(self, update: Update, ctx: ContextTypes.DEFAULT_TYPE) -> None:
        message, chat = update.effective_message, update.effective_chat
        assert message is not None and chat is not None and message.location is not None
        coords = {"latitude": message.location.latitude, "longitude": message.location.longitude}
        async with self._locks(chat.id):
            await self._forward(ctx, chat.id, "/share_location" + json.dumps(coords))

    async def on_voice(self, update: Update, ctx: ContextTypes.DEFAULT_TYPE) -> None:
        message, chat = update.effective_message, update.effective_chat
        assert message is not None and chat is not None and message.voice is not None
        async with self._locks(chat.id):
            if not self._voice.available:
                await ctx.bot.send_message(chat.id, VOICE_UNAVAILABLE)
                return
            # to_dict() gives plain seconds without PTB's int/timedelta migration warning.
            if float(message.voice.to_dict().get("duration") or 0) > MAX_VOICE_SECONDS:
                await ctx.bot.send_message(chat.id, VOICE_TOO_LONG)
                return
            await ctx.bot.send_chat_action(chat.id, ChatAction.TYPING)
            audio = bytes(await (await message.voice.get_file()).download_as_bytearray())
            try:
                heard = await self._voice.transcribe(audio)
            except VoiceUnavailable as exc:
                logger.warning("Voice note received but speech is unavailable: %s", exc)
                await ctx.bot.send_message(chat.id, VOICE_UNAVAILABLE)
                return
            except VoiceNotUnderstood as exc:
                logger.info("Voice note could not be decoded: %s", exc)
                await ctx.bot.send_message(chat.id, VOICE_BAD_AUDIO)
                return
            if not heard.text:
                await ctx.bot.send_message(chat.id, VOICE_UNCLEAR)
                return
            # The echo lets the person see what the bot understood; an unsure one says so, and
            # the text still goes on (the person can correct it by typing).
            echo = VOICE_HEARD.format(text=heard.text) + ("" if heard.reliable else VOICE_UNSURE)
            await ctx.bot.send_message(chat.id, echo)
            await self._forward(ctx, chat.id, heard.text)

    async def on_callback(self, update: Update, ctx: ContextTypes.DEFAULT_TYPE) -> None:
        query, chat = update.callback_query, update.effective_chat
        assert query is not None
        data = query.data or ""
        # Answer at once (outside the chat lock) so the button stops spinning. Telegram refuses
        # answers to old queries (say after a restart); the press itself still counts.
        try:
            await query.answer()
        except BadRequest as exc:
            logger.info("Could not answer a callback query: %s", exc)
        if chat is None or data == DONE_MARK:
            return
        if isinstance(query.message, Message) and query.message.reply_markup is not None:
            try:
                await query.edit_message_reply_markup(
                    mark_pressed(query.message.reply_markup, data)
                )
            except BadRequest as exc:  # e.g. message too old to edit; the press still counts
                logger.info("Could not mark the pressed keyboard: %s", exc)
        payload = self._payloads.resolve(chat.id, data)
        async with self._locks(chat.id):
            if payload is None:
                await ctx.bot.send_message(chat.id, BUTTON_EXPIRED)
                return
            await self._forward(ctx, chat.id, payload)

    async def on_unsupported(self, update: Update, ctx: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat
        if chat is None:
            return
        async with self._locks(chat.id):
            await ctx.bot.send_message(chat.id, UNSUPPORTED)

    async def on_error(self, update: object, ctx: ContextTypes.DEFAULT_TYPE) -> None:
        logger.error("Telegram update failed", exc_info=ctx.error)
        if isinstance(update, Update) and update.effective_chat is not None:
            try:
                await ctx.bot.send_message(update.effective_chat.id, SOMETHING_WENT_WRONG)
            except TelegramError:
                logger.warning("Could not tell the chat about the error either")


def build_application(
    settings: Settings,
    rasa: RasaClient,
    *,
    rate_limiter: BaseRateLimiter[Any] | None = None,
    transcriber: VoiceTranscriber | None = None,
) -> Application[Any, Any, Any, Any, Any, Any]:
    """The Telegram ``Application``: handlers, rate limiter, Bot API URLs from ``settings``.

    Args:
        settings: ``telegram_token`` (from ``JOBBOT_TELEGRAM_TOKEN`` only), ``telegram_base_url``,
            ``telegram_base_file_url`` and ``vosk_model_path`` are read.
        rasa: the client for Rasa's REST channel (owned by the caller).
        rate_limiter: defaults to ``AIORateLimiter`` with Telegram's published limits.
        transcriber: defaults to one for ``settings.vosk_model_path``.
    """
    token = settings.telegram_token.get_secret_value()
    if not token:
        raise ValueError(
            "No Telegram bot token: set the environment variable JOBBOT_TELEGRAM_TOKEN."
        )
    install_token_filter(token)
    app = (
        Application.builder()
        .token(token)
        .base_url(settings.telegram_base_url)
        .base_file_url(settings.telegram_base_file_url)
        .rate_limiter(rate_limiter or AIORateLimiter(max_retries=2))
        .concurrent_updates(MAX_CONCURRENT_UPDATES)
        .build()
    )
    TelegramChannel(rasa, transcriber or VoiceTranscriber(settings.vosk_model_path)).register(app)
    return app


async def set_commands(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Publish the command menu shown by Telegram clients; a failure is only logged."""
    try:
        await app.bot.set_my_commands(BOT_COMMANDS)
    except TelegramError as exc:
        logger.warning("setMyCommands failed: %s", exc)


def webhook_secret(token: str) -> str:
    """The secret Telegram echoes in ``X-Telegram-Bot-Api-Secret-Token``, derived from the token."""
    return hashlib.sha256(("jobbot-webhook:" + token).encode()).hexdigest()[:48]


def webhook_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for ``Updater.start_webhook`` (listen address, path, URL, secret)."""
    url = settings.telegram_webhook_url
    return {
        "listen": settings.telegram_webhook_listen,
        "port": settings.telegram_webhook_port,
        "url_path": urlsplit(url).path.lstrip("/"),
        "webhook_url": url,
        "secret_token": webhook_secret(settings.telegram_token.get_secret_value()),
        "allowed_updates": ALLOWED_UPDATES,
    }
