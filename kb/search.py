"""Ranking answers for a query: a cheap inverted-index pass to shortlist, a finer re-rank."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz, process

from frontdesk.kb.article import Article
from frontdesk.kb.index import FIELD_WEIGHTS, Document, InvertedIndex
from frontdesk.kb.query import STOPWORDS, Query, parse_query, stem, words

Mask = npt.NDArray[np.bool_]
Scores = npt.NDArray[np.float64]
SHORTLIST = 40
# Terms in more than this share of articles carry little signal and cost the most to score.
# (At 0.6 a small KB lost words such as "store", in 33 of the demo's 52 articles.)
MAX_DF_SHARE = 0.8
# What an article word found through the synonym table counts for, against 1 for the word
# the customer wrote: the table says "may mean", and a literal match is the surer sign.
# (0.5 to 0.9 were tried; recall rose with the weight on both labelled sets alike.)
SYNONYM_WEIGHT = 0.8


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
    allowed = _filter(index, query, channel)
    if not query.fuzzy:
        keys = [k for k in index.docs if allowed is None or allowed[index.slot_of[k]]]
        ranked = sorted(keys, key=lambda k: index.docs[k].title)[:limit]
        pattern = _highlighter(index, query, [])
        return [_hit(index, k, 100.0, pattern) for k in ranked]
    partial = query.fuzzy[-1] if raw[-1:].isalnum() else None
    units = _units(index, query, partial)
    scores = _coarse_scores(index, units)
    if allowed is not None:
        scores[~allowed] = 0.0
    matched = int(np.count_nonzero(scores))
    if matched == 0:
        return []
    pattern = _highlighter(index, query, units)
    take = min(SHORTLIST, matched)
    top = np.argpartition(-scores, take - 1)[:take]
    best = float(scores[top].max())
    text = " ".join(query.fuzzy)
    keys = [k for slot in top.tolist() if (k := index.keys[slot]) is not None and scores[slot] > 0]
    phrase = _phrase_scores(index, text, keys)
    finals = {
        key: 70.0 * float(scores[index.slot_of[key]]) / best + 0.3 * float(similarity)
        for key, similarity in zip(keys, phrase, strict=True)
    }
    ranked = sorted(finals, key=lambda k: (-finals[k], k))[:limit]
    return [_hit(index, k, finals[k], pattern) for k in ranked]


def _phrase_scores(index: InvertedIndex, text: str, keys: list[str]) -> Scores:
    """The finer pass: per article, the best match of the whole query against its title and
    questions, which rewards word order and phrases that single words miss. One batched
    rapidfuzz call, since the shortlist holds a few hundred phrasings."""
    phrasings: list[str] = []
    starts: list[int] = []
    for key in keys:
        doc = index.docs[key]
        starts.append(len(phrasings))
        phrasings.append(doc.title)
        phrasings.extend(doc.questions)
    if not phrasings:
        return np.zeros(0)
    row = process.cdist([text], phrasings, scorer=fuzz.token_set_ratio, dtype=np.float32)[0]
    return np.maximum.reduceat(row, starts).astype(np.float64)


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


def _units(index: InvertedIndex, query: Query, partial: str | None) -> list[dict[str, float]]:
    """What the query asks for, as units scored independently: one per distinct word, then
    one per article word that a customer phrasing in the query stands for according to the
    synonym table. Each unit maps the stems it may mean to similarity x idf."""
    units: dict[str, dict[str, float]] = {}
    for word in query.fuzzy:
        if word in units:
            continue
        root = stem(word)
        readings = index.expand(word, partial=word == partial)
        # A prefix or typo reading may not weigh more than the word the customer wrote,
        # when that word is ours too: "new" must not count as the rarer "newsletter". And
        # the words a prefix may complete to share the weight of the commonest one, since
        # "refu" says "refund" as much as the rarer "refused".
        cap = index.idf(root) if root in index.postings else float("inf")
        completions = [index.idf(t) for t, _ in readings if t != root and t.startswith(word)]
        if completions:
            cap = min(cap, *completions)
        units[word] = {
            term: similarity * (index.idf(term) if term == root else min(index.idf(term), cap))
            for term, similarity in readings
        }
    sequence = query.sequence
    literal = {stem(w) for w in query.fuzzy}
    extra: dict[str, float] = {}
    for match in index.synonyms.matches([stem(w) for w in sequence]):
        word = sequence[match.start]
        if match.end - match.start == 1 and word in STOPWORDS:
            # A lone stopword never stands for anything ("up" is not the courier "UPS",
            # though both stem to "up"); inside a phrase ("turn up") it may.
            continue
        one_word = match.end - match.start == 1 and len(match.target) == 1 and word in units
        for term in match.target:
            if term not in index.postings or (term in literal and not one_word):
                continue
            value = SYNONYM_WEIGHT * index.idf(term)
            # A one-word synonym is another reading of that word: the better reading
            # counts, so a word that matches literally is not counted twice.
            unit = units[word] if one_word else extra
            unit[term] = max(unit.get(term, 0.0), value)
    return [*units.values(), *({term: value} for term, value in extra.items())]


def _coarse_scores(index: InvertedIndex, units: list[dict[str, float]]) -> Scores:
    """Per slot: the sum over units of the best (field weight x similarity x idf) among the
    stems each unit may mean."""
    ceiling = MAX_DF_SHARE * len(index.docs)
    scores = np.zeros(index.size)
    for unit in units:
        best = np.zeros(index.size)
        for term, value in unit.items():
            slots, weights = index.arrays(term)
            if len(slots) == 0 or (len(slots) > ceiling and len(index.docs) > 20):
                continue
            best[slots] = np.maximum(best[slots], weights * value)
        scores += best
    return scores


def _highlighter(
    index: InvertedIndex, query: Query, units: list[dict[str, float]]
) -> re.Pattern[str] | None:
    """One pattern for every word form the query matched, synonyms included, compiled once
    per search."""
    stems = {t for unit in units for t in unit}
    terms = {s for t in stems for s in index.surface.get(t, ())} | set(query.fuzzy)
    terms |= set(query.exact)
    if not terms:
        return None
    alternatives = "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True))
    # The look-ahead on first letters lets the scan skip most words without trying every
    # alternative at each one: half the time on an article's body.
    initials = "".join(sorted({re.escape(t[0]) for t in terms}))
    return re.compile(rf"\b(?=[{initials}])({alternatives})", re.IGNORECASE)


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
        spans = tuple([m.span() for m in pattern.finditer(original)])
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
