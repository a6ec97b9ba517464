"""Speech recognition shared by the kiosk and Telegram: decode any audio, recognise it with Vosk.

Typical use::

    model = SpeechModel.get(settings.vosk_model_path)   # once per process; SpeechUnavailable
    pcm = decode_audio(ogg_bytes)                       # AudioDecodeError on bad input
    transcript = recognize(model, pcm, phrases=["找工作", "政策咨询"])
    if not transcript.is_reliable: ask the person to repeat

Streaming (kiosk): ``Recognizer(model).feed(chunk)`` yields :class:`Partial` and
:class:`Final` events; ``finish()`` ends the stream.
"""

from connectors.speech._audio import (
    MAX_DURATION_S,
    MAX_INPUT_BYTES,
    SAMPLE_RATE,
    AudioDecodeError,
    AudioTooLong,
    decode_audio,
    pcm_level_dbfs,
    resample_pcm,
)
from connectors.speech._model import PRODUCTION_MODEL, SpeechModel, SpeechUnavailable
from connectors.speech._recognize import (
    Event,
    Final,
    Partial,
    Recognizer,
    Transcript,
    Word,
    join_words,
    recognize,
)

__all__ = [
    "MAX_DURATION_S",
    "MAX_INPUT_BYTES",
    "PRODUCTION_MODEL",
    "SAMPLE_RATE",
    "AudioDecodeError",
    "AudioTooLong",
    "Event",
    "Final",
    "Partial",
    "Recognizer",
    "SpeechModel",
    "SpeechUnavailable",
    "Transcript",
    "Word",
    "decode_audio",
    "join_words",
    "pcm_level_dbfs",
    "recognize",
    "resample_pcm",
]
