"""Search: typo and word-order tolerance, highlight spans, fzf operators, channels, updates."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from frontdesk.kb.article import Article, parse_text
from frontdesk.kb.index import InvertedIndex
from frontdesk.kb.query import parse_query
from frontdesk.kb.search import search
from frontdesk.kb.store import KnowledgeBase

ARTICLES = {
    "account/password-reset.md": """\
        ---
        title: Resetting your password
        tags: [account, login]
        questions:
          - I forgot my password
          - cannot log in to my account
        channels: [x, email]
        ---
        # Resetting your password

        Use the reset link on the sign-in page; it is valid for one hour.

        ## x
        Hi {name}, use the reset link on the sign-in page.
        """,
    "returns/refund-status.md": """\
        ---
        title: Where is my refund?
        tags: [refund, returns, money]
        questions:
          - where is my refund
          - still no money back after returning my boots
        ---
        # Where is my refund?

        Refunds go back to the original payment method within 5 working days.
        """,
    "shipping/delivery-times.md": """\
        ---
        title: Delivery times
        tags: [shipping, delivery]
        questions:
          - when will my order arrive
          - how long does shipping take
        channels: [facebook, email]
        ---
        # Delivery times

        Standard delivery takes 3 to 5 working days; express arrives the next day.
        """,
    "shipping/lost-parcel.md": """\
        # Lost parcel

        If tracking has not moved for 5 working days we send a replacement or a refund.
        """,
}


def article(rel: str, text: str) -> Article:
    return parse_text(textwrap.dedent(text).encode(), rel)


@pytest.fixture
def index() -> InvertedIndex:
    idx = InvertedIndex()
    for rel, text in ARTICLES.items():
        idx.add(article(rel, text))
    return idx


def ids(index: InvertedIndex, query: str, **kwargs: object) -> list[str]:
    return [hit.article.id for hit in search(index, query, **kwargs)]  # type: ignore[arg-type]


def test_exact_words_find_the_article(index: InvertedIndex) -> None:
    assert ids(index, "password")[0] == "account/password-reset"
    assert ids(index, "where is my refund")[0] == "returns/refund-status"
    assert ids(index, "shipping")[0] == "shipping/delivery-times"


@pytest.mark.parametrize(
    ("typo", "expected"),
    [
        ("pasword", "account/password-reset"),
        ("passwrod", "account/password-reset"),
        ("refnud", "returns/refund-status"),
        ("shiping", "shipping/delivery-times"),
        ("delivry tmes", "shipping/delivery-times"),
    ],
)
def test_typos_are_tolerated(index: InvertedIndex, typo: str, expected: str) -> None:
    assert ids(index, typo)[0] == expected


def test_a_word_being_typed_matches_as_a_prefix(index: InvertedIndex) -> None:
    assert ids(index, "passw")[0] == "account/password-reset"
    assert ids(index, "parc")[0] == "shipping/lost-parcel"


def test_word_order_does_not_matter(index: InvertedIndex) -> None:
    forward = search(index, "forgot password")
    backward = search(index, "password forgot")
    assert forward[0].article.id == backward[0].article.id == "account/password-reset"
    assert forward[0].score == pytest.approx(backward[0].score)
    assert ids(index, "boots returning money")[0] == "returns/refund-status"


def test_spans_point_at_the_query_words_in_the_matched_field(index: InvertedIndex) -> None:
    hit = search(index, "forgot password")[0]
    assert hit.field == "questions"
    text = "\n".join(hit.article.questions)
    assert {text[a:b].casefold() for a, b in hit.spans} == {"forgot", "password"}
    assert all(0 <= a < b <= len(text) for a, b in hit.spans)

    hit = search(index, "pasword")[0]  # a typo highlights the word it was taken for
    assert hit.field == "title"
    assert [hit.article.title[a:b] for a, b in hit.spans] == ["password"]

    hit = search(index, "REFUND")[0]
    assert hit.field == "title"
    assert [hit.article.title[a:b] for a, b in hit.spans] == ["refund"]

    hit = search(index, "original payment method")[0]
    assert hit.article.id == "returns/refund-status"
    assert hit.field == "body"
    body = hit.article.body
    assert [body[a:b] for a, b in hit.spans] == ["original", "payment", "method"]


def test_as_json_carries_the_spans(index: InvertedIndex) -> None:
    data = search(index, "pasword")[0].as_json()
    assert data["id"] == "account/password-reset"
    assert data["path"] == "account/password-reset.md"
    assert data["field"] == "title"
    assert data["spans"] == [[15, 23]]


def test_a_prefix_does_not_favour_the_rarest_word_it_could_become() -> None:
    """Typing "refu" in a KB that says "refund" everywhere and "refused" once: the rare
    completion must not outweigh the common one just for being rare."""
    index = InvertedIndex()
    for n in range(10):
        index.add(article(f"notes/{n}.md", f"# Note {n}\n\nA refund note.\n"))
    index.add(article("a/refund.md", "# Refund\n\nMoney back.\n"))
    index.add(article("b/refused.md", "# Refused\n\nThe bank said no.\n"))
    assert ids(index, "refu")[0] == "a/refund"
    assert ids(index, "refus")[0] == "b/refused"
    assert ids(index, "refused card")[0] == "b/refused"


def test_a_known_word_is_not_outweighed_by_its_rarer_neighbours() -> None:
    """ "new" is not "newsletter", even though "newsletter" is the rarer word."""
    index = InvertedIndex()
    for n in range(6):
        index.add(article(f"new/{n}.md", f"# Item {n}\n\nA new thing.\n"))
    index.add(article("news/letter.md", "# Newsletter\n\nMonthly.\n"))
    index.add(article("new/arrivals.md", "# New arrivals\n\nFresh in.\n"))
    assert ids(index, "new arrivals?")[0] == "new/arrivals"
    assert ids(index, "anything new?")[0] == "new/arrivals"


def test_exact_operator(index: InvertedIndex) -> None:
    assert set(ids(index, "'refund")) == {"returns/refund-status", "shipping/lost-parcel"}
    # A misspelling is no exact match, while the fuzzy word would find it.
    assert ids(index, "'refnud") == []
    assert ids(index, "refnud") != []
    # Combined with a fuzzy word: only articles holding the exact text qualify.
    assert ids(index, "working days 'replacement") == ["shipping/lost-parcel"]


def test_prefix_operator_matches_title_or_id(index: InvertedIndex) -> None:
    assert ids(index, "^deliv") == ["shipping/delivery-times"]  # by title
    assert set(ids(index, "^shipping")) == {"shipping/delivery-times", "shipping/lost-parcel"}
    assert ids(index, "^times") == []  # in the title, but not at its start


def test_suffix_operator_matches_title_or_id(index: InvertedIndex) -> None:
    assert ids(index, "times$") == ["shipping/delivery-times"]
    assert ids(index, "refund?$") == ["returns/refund-status"]  # the title's end
    assert ids(index, "status$") == ["returns/refund-status"]  # the id's end
    assert ids(index, "delivery$") == []


def test_negation_operator(index: InvertedIndex) -> None:
    everything = set(ids(index, "working days"))
    assert {"returns/refund-status", "shipping/lost-parcel"} <= everything
    assert set(ids(index, "working days !refund")) == {"shipping/delivery-times"}
    assert "account/password-reset" not in ids(index, "reset !password")


def test_operators_alone_list_matches_by_title(index: InvertedIndex) -> None:
    hits = search(index, "!password")
    assert [h.article.title for h in hits] == [
        "Delivery times",
        "Lost parcel",
        "Where is my refund?",
    ]


def test_query_parsing() -> None:
    query = parse_query("Where's my CAFÉ REFUND 'exact ^pre suf$ !neg the")
    assert query.fuzzy == ("cafe", "refund")  # folded; stopwords and 1-letter words dropped
    assert (query.exact, query.prefix, query.suffix, query.negate) == (
        ("exact",),
        ("pre",),
        ("suf",),
        ("neg",),
    )
    # A lone operator character is a fuzzy token, not an operator.
    assert parse_query("' ^ $ !").empty


def test_an_apostrophe_inside_a_word_is_dropped_not_a_split() -> None:
    """Customers write "hasn't" and "hasnt" alike; both are the same (common) word."""
    for text in ("parcel hasn't moved", "parcel hasnt moved", "parcel hasn\u2019t moved"):
        query = parse_query(text)
        assert query.fuzzy == ("parcel", "moved")
        assert query.sequence == ("parcel", "hasnt", "moved")  # kept for synonym phrases
    assert parse_query("the customer's boots").fuzzy == ("customers", "boots")


def test_channel_filter(index: InvertedIndex) -> None:
    everywhere = ids(index, "working days")
    assert "shipping/delivery-times" in everywhere
    on_x = ids(index, "working days", channel="x")
    assert "shipping/delivery-times" not in on_x  # channels: [facebook, email]
    assert set(on_x) == {"returns/refund-status", "shipping/lost-parcel"}
    assert ids(index, "password", channel="facebook") == []  # channels: [x, email]
    assert ids(index, "password", channel="email") == ["account/password-reset"]


def test_empty_and_stopword_only_queries_return_nothing(index: InvertedIndex) -> None:
    assert search(index, "") == []
    assert search(index, "   ") == []
    assert search(index, "the and of you") == []
    assert search(InvertedIndex(), "password") == []


def test_limit(index: InvertedIndex) -> None:
    assert len(search(index, "working days")) == 3
    assert len(search(index, "working days", limit=1)) == 1


def test_incremental_add_and_remove_change_results(index: InvertedIndex) -> None:
    assert ids(index, "voucher") == []
    assert ids(index, "vouchr") == []  # cached as "no such word" before the add

    index.add(article("payments/vouchers.md", "# Gift vouchers\n\nVouchers never expire.\n"))
    assert ids(index, "voucher")[0] == "payments/vouchers"
    assert ids(index, "vouchr")[0] == "payments/vouchers"  # the typo cache was refreshed
    assert len(index) == 5

    index.remove("payments/vouchers.md")
    assert ids(index, "voucher") == []
    assert ids(index, "vouchr") == []
    assert [t for t in index.postings if t.startswith("vouch")] == []  # no term left behind
    assert len(index) == 4
    index.remove("payments/vouchers.md")  # removing twice is harmless
    assert len(index) == 4


def test_reindexing_an_article_replaces_its_words(index: InvertedIndex) -> None:
    rel = "shipping/lost-parcel.md"
    index.add(article(rel, "# Lost parcel\n\nWe open a courier investigation.\n"))
    assert len(index) == 4
    assert ids(index, "investigation") == ["shipping/lost-parcel"]
    assert ids(index, "replacement") == []
    assert [t for t in index.postings if t.startswith("replac")] == []


def test_knowledge_base_search_follows_refresh(tmp_path: Path) -> None:
    for rel, text in ARTICLES.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    kb = KnowledgeBase.load(tmp_path)
    assert [h.article.id for h in kb.search("pasword")][:1] == ["account/password-reset"]
    (tmp_path / "account" / "password-reset.md").unlink()
    kb.refresh([tmp_path / "account" / "password-reset.md"])
    assert kb.search("pasword") == []
    assert [h.article.id for h in kb.search("lost parcel", channel="x")] == ["shipping/lost-parcel"]
