"""warm_up loads the model, tokeniser and keyword background once and takes them out of the garbage
collector's full passes, so no request pays for either."""
import gc

import pytest

from portal.core import tagging

pytestmark = [pytest.mark.tagging]


def test_warm_up_loads_everything_and_freezes_it(app):
    gc.unfreeze()
    try:
        tagging.warm_up()
        assert str(tagging.model_path()) in tagging._taggers
        from nlp import keywords

        assert keywords._BACKGROUND is not None and keywords._BACKGROUND[0] > 0
        assert gc.get_freeze_count() > 100_000  # jieba's dictionary alone is several hundred thousand objects
    finally:
        gc.unfreeze()
