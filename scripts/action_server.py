"""Run the rasa-sdk action server over `actions/`.

Two things differ from `python -m rasa_sdk`: personal data is redacted from every log
line, and an action that raises still answers the user (`utter_action_failed`, in
Chinese) instead of leaving Rasa with a 500 and the user with silence.
"""

from __future__ import annotations

import logging
import threading
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


def warm_up_knowledge() -> None:
    """Load the embedding model, the policy index and the job search once, off the request path.

    Failures are only logged: the actions report a missing index to the user themselves.
    """
    from knowledge.jobs import warm_up as warm_up_jobs
    from knowledge.policy_index import get_policy_index

    for name, load in (("policy index", get_policy_index), ("job search", warm_up_jobs)):
        try:
            load()
            logger.info("%s ready", name)
        except Exception as exc:  # noqa: BLE001 - a warm-up must never stop the server
            logger.warning("%s not loaded at start-up: %s", name, exc)


def main() -> None:
    args = create_argument_parser().parse_args()
    setup_logging(get_settings().log_level)
    executor = SafeActionExecutor()
    executor.register_package(args.actions_module or args.actions or "actions")
    threading.Thread(target=warm_up_knowledge, name="warm-up", daemon=True).start()
    run(executor, args.port, args.cors, auto_reload=False, endpoints=args.endpoints)


if __name__ == "__main__":
    main()
