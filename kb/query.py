"""Queries: fzf-style operators and the word normalisation shared by the index and search."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

import Stemmer

_WORD = re.compile(r"\w+")
# Customers write "hasn't" and "hasnt" alike, so an apostrophe inside a word is dropped
# rather than splitting it into "hasn" and a lost "t".
_APOSTROPHE = re.compile(r"(?<=\w)['\u2019](?=\w)")
# Except a pronoun's "'d" and "'ll", which would become other words: "we'll" is not "well",
# nor "I'd" the "ID" a return needs. Articles say "we'll" dozens of times.
_CONTRACTION = re.compile(r"\b(?:i|you|we|they|he|she|it|that|there|who)['\u2019](?:d|ll)\b")
# Words too common to tell answers apart; dropping them keeps long customer messages cheap.
# The contractions are here without their apostrophe, the form they take after _APOSTROPHE.
STOPWORDS = frozenset(
    """a an and are as at be been but by can could did do does for from had has have hi
    hello hey how i im if in is it its just me my no not of on or our please so that the
    their them then there they this to too up us was we were what when where which who why
    will with would you your yours am any all about again get got dont thanks thank
    cant couldnt wont wouldnt shouldnt doesnt didnt isnt arent wasnt werent hasnt havent
    hadnt ive youre youve theyre weve wheres whats hows whos thats theres heres lets""".split()
)


def fold(text: str) -> str:
    """Case- and accent-insensitive form of `text`, same length per character where possible."""
    if text.isascii():
        return text.lower()  # the common case, and a hundred times cheaper
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


_STEMMER = Stemmer.Stemmer("english")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The Snowball stem of a folded word ("refunded" and "refunds" both give "refund")."""
    stemmed: str = _STEMMER.stemWord(word)
    return stemmed


def words(text: str, *, keep_stopwords: bool = False) -> list[str]:
    """The searchable words of `text`: folded, at least two characters, stopwords dropped."""
    folded = fold(text)
    if "'" in folded or "\u2019" in folded:
        folded = _APOSTROPHE.sub("", _CONTRACTION.sub(" ", folded))
    found = _WORD.findall(folded)
    if keep_stopwords:
        return [w for w in found if len(w) > 1 or w.isdigit()]
    return [w for w in found if (len(w) > 1 or w.isdigit()) and w not in STOPWORDS]


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed query: fuzzy words plus the fzf operators' exact constraints."""

    fuzzy: tuple[str, ...] = ()
    exact: tuple[str, ...] = ()  # 'word: must appear as written (case-insensitive)
    prefix: tuple[str, ...] = ()  # ^word: the title or id starts with it
    suffix: tuple[str, ...] = ()  # word$: the title or id ends with it
    negate: tuple[str, ...] = ()  # !word: must not appear anywhere
    raw: str = field(default="", compare=False)
    # Every word of the fuzzy part in order, stopwords kept, for the synonym table's phrases
    # ("too small" says more than "small").
    sequence: tuple[str, ...] = field(default=(), compare=False)

    @property
    def empty(self) -> bool:
        return not (self.fuzzy or self.exact or self.prefix or self.suffix or self.negate)


def parse_query(raw: str) -> Query:
    """Split a query into fuzzy words and operator terms, as fzf's extended syntax does."""
    fuzzy: list[str] = []
    exact: list[str] = []
    prefix: list[str] = []
    suffix: list[str] = []
    negate: list[str] = []
    sequence: list[str] = []
    for token in raw.split():
        if token.startswith("!") and len(token) > 1:
            negate.append(fold(token[1:].strip("^$'")))
        elif token.startswith("'") and len(token) > 1:
            exact.append(fold(token[1:]))
        elif token.startswith("^") and len(token) > 1:
            prefix.append(fold(token[1:]))
        elif token.endswith("$") and len(token) > 1:
            suffix.append(fold(token[:-1]))
        else:
            fuzzy.extend(words(token))
            sequence.extend(words(token, keep_stopwords=True))
    return Query(
        tuple(fuzzy),
        tuple(exact),
        tuple(prefix),
        tuple(suffix),
        tuple(negate),
        raw,
        tuple(sequence),
    )
