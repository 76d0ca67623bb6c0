"""Minsheng (民声) theme-tagging engine: plain Python (jieba + scikit-learn), no Flask.

Used by the portal and from the command line (``python -m nlp ...``). Importing ``nlp`` is cheap: each
sub-module is imported only when used.

Public API
----------
``nlp.themes``
    ``THEMES`` – ordered list of :class:`~nlp.themes.Theme` (``.code``, ``.name`` Chinese, ``.description``,
    ``.keywords``), loaded from ``nlp/data/themes.csv`` (matches THEMES.md); ``THEME_CODES``;
    ``theme_name(code)``; ``OTHER`` (``"other"``, always alone); ``MAX_THEMES`` (3).
``nlp.tagger``
    ``load_model(path=None) -> Tagger`` (cached per path and mtime); ``default_model_path()`` →
    ``nlp/models/default.joblib`` unless ``$MINSHENG_MODEL`` is set.
    ``Tagger.tag(text) -> TagResult``; ``Tagger.tag_batch(texts, n_jobs=None) -> list[TagResult]``
    (a process pool over every core for ≥ ``PARALLEL_MIN_TEXTS`` texts, the model loaded once per worker;
    in-process below that); ``Tagger.version``; ``Tagger.metadata`` (``data_hash``, ``scores``,
    ``created``, ``labels``, ``label_counts``, ``params`` …).
    ``TagResult``: ``themes: list[tuple[str, float]]`` (code, probability; 1–3, ``other`` alone),
    ``urgent: bool``, ``needs_review: bool`` (待复核: no theme is confident), ``model_version: str``;
    ``.codes``, ``.to_dict()``.
``nlp.training``
    ``train(records, extra=None, params=None) -> Tagger`` (``extra``: staff corrections on top of the
    corpus; they replace corpus rows with the same text and weigh double); ``evaluate(tagger, records) ->
    dict`` (``n``, ``micro_f1``, ``macro_f1``, ``accuracy``, ``per_label``, ``seconds``, ``urgent`` …);
    ``load_labelled_csv(paths, split=None) -> list[Record]``; ``corpus_paths()``; ``Record``.
``nlp.urgent``
    ``is_urgent(text) -> bool`` – rules on THEMES.md severity, negation-aware; ``urgent_reasons(text)``.
``nlp.keywords``
    ``extract_keywords(texts, top_k=10) -> list[tuple[str, float]]`` – TF-IDF against the corpus.
``nlp.dedup``
    ``NearDuplicateFinder().fit([(id, text), ...])``; ``.similar(text, threshold=0.5, limit=10) ->
    [(id, score)]``; ``.pairs(threshold)``; ``.groups(threshold)`` (merge suggestions).
``nlp.mask``
    ``mask_text(text)``, ``mask_name(name)`` (``张三`` → ``张*``), ``mask_phone(phone)``
    (``13812345678`` → ``138****5678``), ``mask_id_card(number)``.
``nlp.tokenize``
    ``normalize(text)``, ``strip_boilerplate(text)``, ``tokenize(text) -> list[str]``.

Command line
------------
``python -m nlp train --out MODEL [--data CSV ...] [--split NAME] [--extra CSV ...]``
    without ``--data``: the shipped default model from ``nlp/corpus/*.csv``
    (``python -m nlp train --out nlp/models/default.joblib``).
``python -m nlp evaluate --model MODEL --data CSV [--split NAME] --json``
``python -m nlp tag --model MODEL "文本"``
``python -m nlp keywords "文本" ...`` and ``python -m nlp mask "文本"``.
"""

__version__ = "1.0"
