"""The inverted index behind search: word stems to articles, one article updated at a time,
with each posting list kept as numpy arrays so scoring a query is vectorised."""

from __future__ import annotations

import bisect
import math
import re
from collections import Counter
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz, process

from frontdesk.kb.article import PLACEHOLDER_RE, Article
from frontdesk.kb.query import fold, stem, words
from frontdesk.kb.synonyms import Synonyms

# How much a word counts by where it appears: the phrasings customers use and the title
# say most about what an article answers; the body says more, less precisely.
FIELD_WEIGHTS = {"title": 3.0, "questions": 2.5, "tags": 2.0, "body": 1.0}
FUZZY_CUTOFF = 78.0
# Links and placeholders are in every variant ("https", "northwind", "{name}") and say
# nothing about what an article answers; left in, they make a customer's "name" match all.
_NOISE = re.compile(rf"https?://\S+|{PLACEHOLDER_RE.pattern}")

Slots = npt.NDArray[np.int64]
Weights = npt.NDArray[np.float64]


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
    """Stem -> {article slot: weight}. Articles live in integer slots (reused when freed) so
    a query's scores are one float array; the vocabulary is kept sorted and bucketed by
    length for prefix and typo matching, with the surface words seen for each stem."""

    def __init__(self) -> None:
        self.docs: dict[str, Document] = {}
        self.slot_of: dict[str, int] = {}
        self.keys: list[str | None] = []
        self._free: list[int] = []
        self.postings: dict[str, dict[int, float]] = {}
        self._arrays: dict[str, tuple[Slots, Weights]] = {}
        self._terms_of: dict[str, tuple[str, ...]] = {}
        self._by_length: dict[int, list[str]] = {}
        self._sorted: list[str] = []
        self._expansions: dict[str, tuple[tuple[str, float], ...]] = {}
        self.surface: dict[str, set[str]] = {}
        self.synonyms = Synonyms()
        self.version = 0

    def __len__(self) -> int:
        return len(self.docs)

    @property
    def size(self) -> int:
        """The number of slots, free ones included (the length of a score array)."""
        return len(self.keys)

    def add(self, article: Article) -> None:
        """Index (or re-index) one article."""
        self.remove(article.path)
        doc = document_of(article)
        weights: dict[str, float] = {}
        for name, weight in FIELD_WEIGHTS.items():
            found = words(_NOISE.sub(" ", doc.field_text(name)))
            for word, n in Counter(found).items():
                term = stem(word)
                self.surface.setdefault(term, set()).add(word)
                # The best field counts, and repeats only a little, so a long body that
                # says a word ten times does not outrank a title.
                score = weight * (1.0 + math.log(n))
                if score > weights.get(term, 0.0):
                    weights[term] = score
        slot = self._free.pop() if self._free else len(self.keys)
        if slot == len(self.keys):
            self.keys.append(doc.key)
        else:
            self.keys[slot] = doc.key
        for term, weight in weights.items():
            posting = self.postings.get(term)
            if posting is None:
                posting = self.postings[term] = {}
                self._add_term(term)
            posting[slot] = weight
            self._arrays.pop(term, None)
        self.docs[doc.key] = doc
        self.slot_of[doc.key] = slot
        self._terms_of[doc.key] = tuple(weights)
        self.version += 1

    def set_synonyms(self, synonyms: Synonyms) -> None:
        """Replace the gatekeeper's synonym table (search reads it on every query)."""
        self.synonyms = synonyms
        self.version += 1

    def remove(self, key: str) -> None:
        """Drop one article from the index, if present."""
        if key not in self.docs:
            return
        slot = self.slot_of.pop(key)
        for term in self._terms_of.pop(key):
            posting = self.postings[term]
            posting.pop(slot, None)
            self._arrays.pop(term, None)
            if not posting:
                del self.postings[term]
                self.surface.pop(term, None)
                self._drop_term(term)
        del self.docs[key]
        self.keys[slot] = None
        self._free.append(slot)
        self.version += 1

    def arrays(self, term: str) -> tuple[Slots, Weights]:
        """A term's posting list as (slots, weights) arrays, built on first use after a change."""
        cached = self._arrays.get(term)
        if cached is None:
            posting = self.postings.get(term, {})
            cached = (
                np.fromiter(posting.keys(), dtype=np.int64, count=len(posting)),
                np.fromiter(posting.values(), dtype=np.float64, count=len(posting)),
            )
            self._arrays[term] = cached
        return cached

    def _add_term(self, term: str) -> None:
        # Numbers (order numbers, prices, years) are never a misspelling of a word, nor one
        # number of another, so they stay out of the typo buckets: in a large KB they are
        # most of the four-letter ones.
        if not term.isdigit():
            bisect.insort(self._by_length.setdefault(len(term), []), term)
        bisect.insort(self._sorted, term)
        self._expansions.clear()

    def _drop_term(self, term: str) -> None:
        if not term.isdigit():
            bucket = self._by_length[len(term)]
            bucket.pop(bisect.bisect_left(bucket, term))
        self._sorted.pop(bisect.bisect_left(self._sorted, term))
        self._expansions.clear()

    def idf(self, term: str) -> float:
        df = len(self.postings.get(term, ()))
        return math.log(1.0 + (len(self.docs) + 1) / (df + 0.5))

    def expand(self, word: str, *, partial: bool = False) -> tuple[tuple[str, float], ...]:
        """Vocabulary stems a query word may mean, with a similarity in (0, 1].

        The word's own stem scores 1; stems it begins 0.9, when the operator is still typing
        it or it is not ours; close misspellings by edit ratio. A `partial` word (the one
        still being typed) is matched by prefix only, unless nothing starts with it: every
        keystroke changes it, so its typo search would never be reused. Cached until the
        vocabulary changes, since the same words come back with every keystroke.
        """
        cache_key = f"{word}\x00" if partial else word
        cached = self._expansions.get(cache_key)
        if cached is not None:
            return cached
        found: dict[str, float] = {}
        root = stem(word)
        if root in self.postings:
            found[root] = 1.0
        # A finished word that is ours means itself: "every" is not also "everything", nor
        # "new" "newsletter". Only a word still being typed may be the start of another.
        if len(word) >= 3 and (partial or root not in self.postings):
            start = bisect.bisect_left(self._sorted, word)
            for term in self._sorted[start : start + 8]:
                if not term.startswith(word):
                    break
                found.setdefault(term, 0.9)
        if len(root) >= 4 and not (partial and found) and not root.isdigit():
            # An edit ratio of 78 or more needs lengths within about a fifth of each other.
            spread = max(1, len(root) // 4)
            candidates: list[str] = []
            for length in range(len(root) - spread, len(root) + spread + 1):
                candidates.extend(self._by_length.get(length, ()))
            for term, score, _ in process.extract(
                root, candidates, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF, limit=4
            ):
                found.setdefault(term, (score / 100.0) ** 2)
        result = tuple(sorted(found.items(), key=lambda kv: -kv[1]))
        if len(self._expansions) > 20_000:
            self._expansions.clear()
        self._expansions[cache_key] = result
        return result
