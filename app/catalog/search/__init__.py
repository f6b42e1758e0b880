"""Product search: words, pinyin, synonyms, ranking, facets, suggestions (see service.py)."""
