"""The token-count playground, one module per concern:

- `form`: the form, JSON parsing with line and column errors, the state rebuilt from a
  stored response;
- `local`: the local count's result, prices, the token view, copy-as-curl / Python (pure);
- `batch`: many requests at once, counted and priced per model, with the Batch API's price;
- `remote`: the API's count, attribution, count history, saved sessions (the client, the ORM);
- `page`: what the page and its fragments show, gathered once.

Views use the names below; everything else is imported from its module.
"""

from .batch import estimate as batch_estimate
from .form import EMPTY_STATE, BatchForm, PlaygroundForm, SaveForm, state_from_response
from .page import page
from .remote import (
    api_count,
    attribution,
    carried_tokens,
    input_bodies,
    save_session,
    stored_origin,
    with_origin,
)

__all__ = [
    "EMPTY_STATE",
    "BatchForm",
    "PlaygroundForm",
    "SaveForm",
    "api_count",
    "attribution",
    "batch_estimate",
    "carried_tokens",
    "input_bodies",
    "page",
    "save_session",
    "state_from_response",
    "stored_origin",
    "with_origin",
]
