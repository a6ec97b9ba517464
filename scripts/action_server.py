"""Run the rasa-sdk action server over `actions/`.

Two things differ from `python -m rasa_sdk`: personal data is redacted from every log
line, and an action that raises still answers the user (`utter_action_failed`, in
Chinese) instead of leaving Rasa with a 500 and the user with silence.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk.endpoint import create_argument_parser, run
from rasa_sdk.executor import ActionExecutor, CollectingDispatcher
from rasa_sdk.interfaces import (
    ActionExecutionRejection,
    ActionMissingDomainException,
    ActionNotFoundException,
)

from knowledge.logs import setup_logging
from knowledge.settings import get_settings

logger = logging.getLogger(__name__)

FAILED_RESPONSE = "utter_action_failed"


class SafeActionExecutor(ActionExecutor):
    """An executor that turns an action's crash into a polite reply and a logged traceback."""

    async def run(self, action_call: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return await super().run(action_call, *args, **kwargs)
        except (ActionExecutionRejection, ActionNotFoundException, ActionMissingDomainException):
            raise  # part of the protocol: Rasa handles these itself
        except Exception:
            logger.exception("Action %s failed", action_call.get("next_action"))
            dispatcher = CollectingDispatcher()
            dispatcher.utter_message(response=FAILED_RESPONSE)
            return self._create_api_response([], dispatcher.messages)


def main() -> None:
    args = create_argument_parser().parse_args()
    setup_logging(get_settings().log_level)
    executor = SafeActionExecutor()
    executor.register_package(args.actions_module or args.actions or "actions")
    run(executor, args.port, args.cors, auto_reload=False, endpoints=args.endpoints)


if __name__ == "__main__":
    main()
