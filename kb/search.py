"""Ranking answers for a query: a cheap inverted-index pass to shortlist, a finer re-rank."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz

from frontdesk.kb.article import Article
from frontdesk.kb.index import FIELD_WEIGHTS, Document, InvertedIndex
from frontdesk.kb.query import Query, parse_query, words

Mask = npt.NDArray[np.bool_]
Scores = npt.NDArray[np.float64]
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
    pattern = _highlighter(index, query)
    allowed = _filter(index, query, channel)
    if not query.fuzzy:
        keys = [k for k in index.docs if allowed is None or allowed[index.slot_of[k]]]
        ranked = sorted(keys, key=lambda k: index.docs[k].title)[:limit]
        return [_hit(index, k, 100.0, pattern) for k in ranked]
    partial = query.fuzzy[-1] if raw[-1:].isalnum() else None
    scores = _coarse_scores(index, query, partial)
    if allowed is not None:
        scores[~allowed] = 0.0
    matched = int(np.count_nonzero(scores))
    if matched == 0:
        return []
    take = min(SHORTLIST, matched)
    top = np.argpartition(-scores, take - 1)[:take]
    best = float(scores[top].max())
    text = " ".join(query.fuzzy)
    finals: dict[str, float] = {}
    for slot in top.tolist():
        key = index.keys[slot]
        if key is None or scores[slot] <= 0.0:
            continue
        doc = index.docs[key]
        # The finer pass compares the whole query with the article's phrasings, which
        # rewards word order and phrases that single words miss.
        phrase = max(
            [fuzz.token_set_ratio(text, doc.title)]
            + [fuzz.token_set_ratio(text, q) for q in doc.questions]
        )
        finals[key] = 70.0 * float(scores[slot]) / best + 0.3 * phrase
    ranked = sorted(finals, key=lambda k: (-finals[k], k))[:limit]
    return [_hit(index, k, finals[k], pattern) for k in ranked]


def _filter(index: InvertedIndex, query: Query, channel: str | None) -> Mask | None:
    """Which slots the operators and the channel allow; None when nothing is filtered."""
    if not (channel or query.exact or query.negate or query.prefix or query.suffix):
        return None
    mask = np.zeros(index.size, dtype=bool)
    for key, doc in index.docs.items():
        mask[index.slot_of[key]] = _passes(doc, query, channel)
    return mask


def _passes(doc: Document, query: Query, channel: str | None) -> bool:
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


def _coarse_scores(index: InvertedIndex, query: Query, partial: str | None) -> Scores:
    """Per slot: the sum over query words of the best (similarity x idf x field weight)
    among the stems each word may mean."""
    ceiling = MAX_DF_SHARE * len(index.docs)
    scores = np.zeros(index.size)
    for word in dict.fromkeys(query.fuzzy):
        best = np.zeros(index.size)
        for term, similarity in index.expand(word, partial=word == partial):
            slots, weights = index.arrays(term)
            if len(slots) > ceiling and len(index.docs) > 20:
                continue
            best[slots] = np.maximum(best[slots], weights * (similarity * index.idf(term)))
        scores += best
    return scores


def _highlighter(index: InvertedIndex, query: Query) -> re.Pattern[str] | None:
    """One pattern for every word form the query matched, compiled once per search."""
    stems = {t for w in query.fuzzy for t, _ in index.expand(w)}
    terms = {s for t in stems for s in index.surface.get(t, ())} | set(query.fuzzy)
    terms |= set(query.exact)
    if not terms:
        return None
    alternatives = "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True))
    return re.compile(rf"\b({alternatives})", re.IGNORECASE)


def _hit(index: InvertedIndex, key: str, score: float, pattern: re.Pattern[str] | None) -> Hit:
    """Find the field the query matches best and the character spans to highlight there."""
    article = index.docs[key].article
    fields = {
        "title": article.title,
        "questions": "\n".join(article.questions),
        "tags": " ".join(article.tags),
        "body": article.body,
    }
    best_field: str = "body"
    best_spans: tuple[tuple[int, int], ...] = ()
    best_value = 0.0
    if pattern is None:
        return Hit(article, score, best_field, best_spans)
    for name, original in fields.items():
        spans = tuple(m.span() for m in pattern.finditer(original))
        # Distinct words matched, weighted by the field: a title that names two of the
        # query's words says more than a body that repeats one of them ten times.
        distinct = {original[a:b].casefold() for a, b in spans}
        value = len(distinct) * FIELD_WEIGHTS[name]
        if value > best_value:
            best_field, best_spans, best_value = name, spans, value
    return Hit(article, score, best_field, best_spans)


def query_words(text: str) -> list[str]:
    """The words search would use from `text` (for callers showing what was searched)."""
    return words(text)
