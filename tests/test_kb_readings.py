"""What a query word may mean: contractions, finished and half-typed words, numbers, and a
one-word synonym against a common word."""

from __future__ import annotations

from frontdesk.kb.index import InvertedIndex
from frontdesk.kb.query import words
from frontdesk.kb.synonyms import parse_synonyms
from tests.test_kb_search import article, ids


def test_a_pronoun_contraction_is_not_another_word() -> None:
    """ "we'll" is not "well", nor "I'd" the "ID" a return without a receipt asks for."""
    assert words("We'll send it, I'd say") == ["send", "say"]
    assert words("you\u2019ll get it") == []
    assert words("bring your ID") == ["bring", "id"]
    # Other apostrophes still join the word, as customers also write it without one.
    assert words("Sam's parcel hasn't come") == ["sams", "parcel", "come"]
    index = InvertedIndex()
    index.add(article("a/reply.md", "# Reply\n\nWe'll look into it. I'd check the label.\n"))
    assert "well" not in index.postings
    assert "id" not in index.postings


def test_only_a_word_being_typed_reads_as_the_start_of_a_longer_one() -> None:
    index = InvertedIndex()
    index.add(article("a/every.md", "# Every order\n\nShips from the warehouse.\n"))
    index.add(article("b/everything.md", "# Everything else\n\nAsk us.\n"))
    assert [t for t, _ in index.expand("every")] == ["everi"]
    assert "everyth" in [t for t, _ in index.expand("every", partial=True)]
    assert ids(index, "every order?") == ["a/every"]
    # An unknown word still may: "ware" is no word of ours, "warehouse" is.
    assert [t for t, _ in index.expand("wareh")] == ["warehous"]


def test_numbers_are_never_read_as_misspellings() -> None:
    """An order number one digit off is another order, and in a large KB numbers are most of
    the short words the typo search would otherwise scan."""
    index = InvertedIndex()
    index.add(article("a/recall.md", "# Recall\n\nCall 08081570177 about batch 40215.\n"))
    index.add(article("b/batch.md", "# Batches\n\nThe batch code is on the base.\n"))
    assert index.expand("40216") == ()
    assert ids(index, "40216") == []
    assert ids(index, "40215") == ["a/recall"]
    assert ids(index, "402")[0] == "a/recall"  # a number being typed still completes
    assert ids(index, "bacth")[0] == "b/batch"  # and words still tolerate typos


def test_a_one_word_synonym_never_fires_on_a_common_word() -> None:
    """ "UPS" the courier and "up" both stem to "up"; "can I just turn up" is no courier."""
    index = InvertedIndex()
    index.add(article("orders/courier.md", "# Our courier\n\nParcels go by courier.\n"))
    index.add(article("stores/walk-in.md", "# Walk-in visits\n\nJust turn up.\n"))
    table = 'courier = ["ups", "royal mail"]\nvisits = ["turn up"]\n'
    index.set_synonyms(parse_synonyms(table.encode(), "_synonyms.toml"))
    assert ids(index, "can I turn up?") == ["stores/walk-in"]
    assert ids(index, "ups lost it") == ["orders/courier"]
    # Inside a phrase a common word counts as usual.
    assert ids(index, "sent by royal mail") == ["orders/courier"]
