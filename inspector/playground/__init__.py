"""The token-count playground, one module per concern:

- `form`: the form, JSON parsing with line and column errors, the state rebuilt from a
  stored response;
- `local`: the local count's result, prices, the token view, copy-as-curl / Python (pure);
- `remote`: the API's count, attribution, count history, saved sessions (the client, the ORM);
- `page`: what the page and its fragments show, gathered once.

Views use the names below; everything else is imported from its module.
"""

from .form import EMPTY_STATE, PlaygroundForm, SaveForm, state_from_response
from .page import page
from .remote import api_count, attribution, input_bodies, save_session, with_origin

__all__ = [
    "EMPTY_STATE",
    "PlaygroundForm",
    "SaveForm",
    "api_count",
    "attribution",
    "input_bodies",
    "page",
    "save_session",
    "state_from_response",
    "with_origin",
]
