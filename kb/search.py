"""Ranking answers for a query: a cheap inverted-index pass to shortlist, a finer re-rank."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz

from frontdesk.kb.article import Article
from frontdesk.kb.index import FIELD_WEIGHTS, InvertedIndex
from frontdesk.kb.query import Query, parse_query, words

SHORTLIST = 40
# Terms in more than this share of articles carry no signal and cost the most to score.
MAX_DF_SHARE = 0.6


@dataclass(frozen=True, slots=True)
class Hit:
    """One ranked answer: which field matched best, and where, for highlighting."""

    article: Article
    score: float
    field: str
    spans: tuple[tuple[int, int], ...]

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.article.id,
            "path": self.article.path,
            "title": self.article.title,
            "score": round(self.score, 2),
            "field": self.field,
            "spans": [list(s) for s in self.spans],
        }


def search(
    index: InvertedIndex, raw: str, *, limit: int = 10, channel: str | None = None
) -> list[Hit]:
    """The best answers for `raw` (a customer message or what the operator typed)."""
    query = parse_query(raw)
    if query.empty or not index.docs:
        return []
    keys = _candidates(index, query)
    keys = [k for k in keys if _passes(index, k, query, channel)]
    if not query.fuzzy:
        ranked = sorted(keys, key=lambda k: index.docs[k].title)[:limit]
        return [_hit(index, k, 100.0, query) for k in ranked]
    coarse = _coarse_scores(index, query, keys)
    shortlist = sorted(coarse, key=lambda k: -coarse[k])[:SHORTLIST]
    best = max(coarse.values(), default=1.0) or 1.0
    text = " ".join(query.fuzzy)
    finals: dict[str, float] = {}
    for key in shortlist:
        doc = index.docs[key]
        # The finer pass compares the whole query with the article's phrasings, which
        # rewards word order and phrases that single words miss.
        phrase = max(
            [fuzz.token_set_ratio(text, doc.title)]
            + [fuzz.token_set_ratio(text, q) for q in doc.questions],
            default=0.0,
        )
        finals[key] = 70.0 * coarse[key] / best + 0.3 * phrase
    ranked = sorted(finals, key=lambda k: (-finals[k], k))[:limit]
    return [_hit(index, k, finals[k], query) for k in ranked]


def _candidates(index: InvertedIndex, query: Query) -> list[str]:
    if not query.fuzzy:
        return list(index.docs)
    found: set[str] = set()
    for word in query.fuzzy:
        for term, _ in index.expand(word):
            found.update(index.postings.get(term, ()))
    return list(found)


def _passes(index: InvertedIndex, key: str, query: Query, channel: str | None) -> bool:
    doc = index.docs[key]
    if channel and channel not in doc.article.channels:
        return False
    if any(term not in doc.haystack for term in query.exact):
        return False
    if any(term in doc.haystack for term in query.negate):
        return False
    ident = doc.article.id.casefold()
    if any(not (doc.title.startswith(p) or ident.startswith(p)) for p in query.prefix):
        return False
    return all(doc.title.endswith(s) or ident.endswith(s) for s in query.suffix)


def _coarse_scores(index: InvertedIndex, query: Query, keys: list[str]) -> dict[str, float]:
    allowed = set(keys)
    ceiling = MAX_DF_SHARE * len(index.docs)
    scores: dict[str, float] = dict.fromkeys(keys, 0.0)
    for word in dict.fromkeys(query.fuzzy):
        best: dict[str, float] = {}
        for term, similarity in index.expand(word):
            posting = index.postings.get(term, {})
            if len(posting) > ceiling and len(index.docs) > 20:
                continue
            weight = similarity * index.idf(term)
            for key, field_weight in posting.items():
                if key in allowed:
                    value = weight * field_weight
                    if value > best.get(key, 0.0):
                        best[key] = value
        for key, value in best.items():
            scores[key] += value
    return scores


def _hit(index: InvertedIndex, key: str, score: float, query: Query) -> Hit:
    """Find the field the query matches best and the character spans to highlight there."""
    doc = index.docs[key]
    article = doc.article
    terms = {t for w in query.fuzzy for t, _ in index.expand(w)} | set(query.exact)
    fields = {
        "title": article.title,
        "questions": "\n".join(article.questions),
        "tags": " ".join(article.tags),
        "body": article.body,
    }
    best_field, best_spans, best_value = "body", (), 0.0
    for name, original in fields.items():
        spans = _spans(original, terms)
        # Distinct words matched, weighted by the field: a title that names two of the
        # query's words says more than a body that repeats one of them ten times.
        distinct = {original[a:b].casefold() for a, b in spans}
        value = len(distinct) * FIELD_WEIGHTS[name]
        if value > best_value:
            best_field, best_spans, best_value = name, spans, value
    return Hit(article, score, best_field, best_spans)


def _spans(original: str, terms: set[str]) -> tuple[tuple[int, int], ...]:
    if not terms or not original:
        return ()
    pattern = re.compile(
        r"\b(" + "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)) + r")",
        re.IGNORECASE,
    )
    return tuple(m.span() for m in pattern.finditer(original))


def query_words(text: str) -> list[str]:
    """The words search would use from `text` (for callers showing what was searched)."""
    return words(text)
