"""The inverted index behind search: words to articles, updated one article at a time."""

from __future__ import annotations

import bisect
import math
from collections import Counter
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from frontdesk.kb.article import Article
from frontdesk.kb.query import fold, words

# How much a word counts by where it appears: the phrasings customers use and the title
# say most about what an article answers; the body says more, less precisely.
FIELD_WEIGHTS = {"title": 3.0, "questions": 2.5, "tags": 2.0, "body": 1.0}
FUZZY_CUTOFF = 78.0


@dataclass(frozen=True, slots=True)
class Document:
    """An article's searchable text, folded once when it is indexed."""

    key: str
    article: Article
    title: str
    questions: tuple[str, ...]
    tags: str
    body: str
    haystack: str  # everything, for the exact and negation operators

    def field_text(self, name: str) -> str:
        if name == "questions":
            return "\n".join(self.questions)
        text: str = getattr(self, name)
        return text


def document_of(article: Article) -> Document:
    """Fold an article's fields for searching."""
    body = "\n".join([article.body, *article.variants.values()])
    title = fold(article.title)
    questions = tuple(fold(q) for q in article.questions)
    tags = fold(" ".join(article.tags))
    folded_body = fold(body)
    haystack = "\n".join([title, *questions, tags, folded_body, fold(article.id)])
    return Document(article.path, article, title, questions, tags, folded_body, haystack)


class InvertedIndex:
    """Word -> {article key: weight}, with a length-bucketed vocabulary for typo matching."""

    def __init__(self) -> None:
        self.docs: dict[str, Document] = {}
        self.postings: dict[str, dict[str, float]] = {}
        self._terms_of: dict[str, tuple[str, ...]] = {}
        self._by_length: dict[int, list[str]] = {}
        self._sorted: list[str] = []
        self._expansions: dict[str, tuple[tuple[str, float], ...]] = {}

    def __len__(self) -> int:
        return len(self.docs)

    def add(self, article: Article) -> None:
        """Index (or re-index) one article."""
        self.remove(article.path)
        doc = document_of(article)
        weights: dict[str, float] = {}
        for name, weight in FIELD_WEIGHTS.items():
            counts = Counter(words(doc.field_text(name)))
            for term, n in counts.items():
                # Repeats help a little, with diminishing returns, so long bodies don't win.
                score = weight * (1.0 + math.log(n))
                weights[term] = max(weights.get(term, 0.0), score)
        for term, weight in weights.items():
            posting = self.postings.get(term)
            if posting is None:
                posting = self.postings[term] = {}
                self._add_term(term)
            posting[doc.key] = weight
        self.docs[doc.key] = doc
        self._terms_of[doc.key] = tuple(weights)

    def remove(self, key: str) -> None:
        """Drop one article from the index, if present."""
        if key not in self.docs:
            return
        for term in self._terms_of.pop(key):
            posting = self.postings[term]
            posting.pop(key, None)
            if not posting:
                del self.postings[term]
                self._drop_term(term)
        del self.docs[key]

    def _add_term(self, term: str) -> None:
        bisect.insort(self._by_length.setdefault(len(term), []), term)
        bisect.insort(self._sorted, term)
        self._expansions.clear()

    def _drop_term(self, term: str) -> None:
        bucket = self._by_length[len(term)]
        bucket.pop(bisect.bisect_left(bucket, term))
        self._sorted.pop(bisect.bisect_left(self._sorted, term))
        self._expansions.clear()

    def idf(self, term: str) -> float:
        df = len(self.postings.get(term, ()))
        return math.log(1.0 + (len(self.docs) + 1) / (df + 0.5))

    def expand(self, word: str) -> tuple[tuple[str, float], ...]:
        """Vocabulary terms a query word may mean, with a similarity in (0, 1].

        The exact word scores 1; words it begins (the operator is still typing) 0.9; close
        misspellings by edit ratio. Cached until the vocabulary changes, since the same
        words come back with every keystroke.
        """
        cached = self._expansions.get(word)
        if cached is not None:
            return cached
        found: dict[str, float] = {}
        if word in self.postings:
            found[word] = 1.0
        if len(word) >= 3:
            start = bisect.bisect_left(self._sorted, word)
            for term in self._sorted[start : start + 8]:
                if not term.startswith(word):
                    break
                found.setdefault(term, 0.9)
        if len(word) >= 4:
            # An edit ratio of 78 or more needs lengths within about a fifth of each other.
            spread = max(1, len(word) // 4)
            candidates: list[str] = []
            for length in range(len(word) - spread, len(word) + spread + 1):
                candidates.extend(self._by_length.get(length, ()))
            for term, score, _ in process.extract(
                word, candidates, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF, limit=4
            ):
                found.setdefault(term, (score / 100.0) ** 2)
        result = tuple(sorted(found.items(), key=lambda kv: -kv[1]))
        if len(self._expansions) > 20_000:
            self._expansions.clear()
        self._expansions[word] = result
        return result
