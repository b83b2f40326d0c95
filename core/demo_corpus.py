"""Word lists and message templates for the demo feed of the fictional Northwind Outfitters."""

# Templates read best whole, one per line, so long lines are allowed in this data file.
# ruff: noqa: E501

from __future__ import annotations

from typing import NamedTuple


class Topic(NamedTuple):
    """One kind of inbound message: an email subject, opening lines, extra detail for email."""

    kind: str
    weight: int
    subject: str
    lines: tuple[str, ...]
    details: tuple[str, ...] = ()
    follow_ups: tuple[str, ...] = ()
    lang: str = "en"


BRAND = "Northwind Outfitters"
BRAND_X = "@NorthwindOut"
BRAND_X_ID = "1012345678"
FB_PAGE = "NorthwindOutfitters"
FB_POSTS = ("104872231190_880011", "104872231190_880342", "104872231190_881207")

FIRST_NAMES = (
    "Alex", "Jordan", "Priyanka", "Mateo", "Aisha", "Liam", "Sofia", "Kenji", "Fatima", "Noah",
    "Chloe", "Diego", "Hannah", "Oluwaseun", "Mei", "Lucas", "Amara", "Ethan", "Zara", "Rafael",
    "Ingrid", "Tariq", "Nora", "Hiroshi", "Grace", "Samir", "Elena", "Kwame", "Maya", "Connor",
    "Yasmin", "Bjørn", "Lucía", "Dmitri", "Siobhan", "Ravi", "Camille", "Joon", "Ana", "Pete",
)  # fmt: skip
LAST_NAMES = (
    "Okafor", "Lindqvist", "Patel", "García", "Nguyen", "O'Brien", "Schmidt", "Haddad", "Kim",
    "Rossi", "Mensah", "Kowalski", "Tanaka", "Silva", "Murphy", "Cohen", "Ivanova", "Dubois",
    "Walker", "Fernández", "Brown", "Yilmaz", "Novak", "Reyes", "Chen", "Andersen", "Shah", "Moore",
)  # fmt: skip
HANDLE_WORDS = ("hikes", "outdoors", "trails", "camps", "climbs", "runs", "adventures", "wild")
INFLUENCERS = (
    ("@summit_sam", "Sam Reyes | Summit Sam"),
    ("@wildcampwendy", "Wendy Haddad 🏕️"),
    ("@thegearlab", "The Gear Lab"),
    ("@packraft_pat", "Pat Lindqvist"),
)
MAIL_HOSTS = ("gmail.com", "outlook.com", "yahoo.com", "proton.me", "icloud.com", "fastmail.com")
MAIL_OFFSETS = (-8, -7, -6, -5, 0, 1)  # email Date headers carry the sender's own zone

PRODUCTS = (
    "Ridgeline 45L backpack", "Kestrel 2-person tent", "Birch down jacket", "Cascade rain shell",
    "Tamarack sleeping bag", "Drift kayak paddle", "Lumen 400 headlamp", "Timberline camp stove",
    "Cinder insulated bottle", "Larch fleece hoodie", "Glacier 0° sleeping bag", "Cedar camp chair",
    "Pika ultralight tarp", "Rill 2L hydration pack", "Loft inflatable sleeping pad",
)  # fmt: skip
COLOURS = ("forest green", "slate", "rust", "black", "glacier blue", "sand")
SIZES = ("XS", "S", "M", "L", "XL", "XXL")
STAFF = ("Priya", "Marcus", "Dana", "Tomás", "Keiko", "Olu", "Grace", "Sven", "Leila", "Jonah")
CITIES = ("Seattle", "Portland", "Denver", "Boise", "Spokane", "Bend", "Missoula", "Bozeman")
COUNTRIES = ("Canada", "Iceland", "Norway", "New Zealand", "Ireland", "Japan", "Mexico", "Chile")
COMPETITORS = ("Peakway", "TrailHead", "Basecamp Depot", "Ridgeback Supply")
CARRIERS = ("UPS", "FedEx", "USPS", "the courier")
EMOJI = ("😡", "🙄", "😤", "🙏", "👍", "😭", "🤦", "📦", "⛺", "🥾")
GARMENTS = (
    "Birch down jacket", "Fjell merino base layer", "Cascade rain shell", "Larch fleece hoodie",
    "Talus softshell jacket", "Granite hiking shirt",
)  # fmt: skip
QUANTITIES = (12, 20, 25, 40, 60, 150)

GREETINGS = ("Hi,", "Hello Northwind team,", "Dear Customer Service,", "Hi there,", "To whom it may concern,")  # fmt: skip
SIGNOFFS = ("Thanks,", "Best regards,", "Cheers,", "Kind regards,", "Regards,")

# Nags fit any unanswered English complaint or question; topics add their own details.
NAGS = (
    "hello?? anyone there",
    "Any update on this?",
    "Still waiting…",
    "it's been HOURS. is anyone actually reading these?",
    "ok now I'm getting annoyed 😤",
    "also the chat on your website just disconnects me",
)
PUBLIC_NAGS = ("Sent you a DM with the details", "Why is nobody answering this publicly?")
EMAIL_NAGS = (
    "Just following up on my email below — I haven't heard anything back yet.",
    "Could someone please at least confirm you received this?",
    "I'm still waiting for a reply. Is this inbox monitored?",
    "My phone number is on the account if calling is easier.",
)
ORDER = ("order number is {order} btw", "Here's a photo: https://pics.example.net/{order}.jpg")
GARMENT = ("Forgot to say: it's the {colour} one, size {size}.",)

TOPICS: dict[str, Topic] = {
    "late_delivery": Topic("complaint", 10, "Order {order} still hasn't arrived", (
        "ordered a {product} {days} days ago, tracking hasn't moved since {carrier} picked it up. order {order}",
        "Where is my order?? {order} was meant to arrive Tuesday. Still nothing.",
        "Paid for 2-day shipping on my {product} and it's day {days}. Not impressed.",
        "tracking for {order} has said 'label created' for {days} days now. is it even shipped?",
    ), (
        "The tracking page says 'in transit' but has not updated since last week.",
        "I need it before a trip to {city} on Saturday, so this is getting urgent.",
        "I paid ${price} extra for express shipping.",
    ), ORDER),
    "damaged": Topic("complaint", 7, "Damaged item received – order {order}", (
        "My {product} arrived damaged. Box looked like it fell off a truck.",
        "just opened my {product} and it's broken. brand new. order {order}",
        "{product} came today visibly damaged, scuffed and split. Can't use it this weekend now.",
        "My {garment} arrived with a huge tear in the side and the zipper snapped off.",
    ), (
        "I have photos of the box and the item and can send them.",
        "I'd prefer a replacement rather than a refund if you have one in stock.",
    ), ORDER),
    "refund_missing": Topic("complaint", 7, "Refund not received for return {order}", (
        "Returned my {product} to your {city} store {days} days ago and still no refund on my card.",
        "Still waiting on my ${price} refund for {order}. Email said 3-5 business days. It's been {days}.",
    ), (
        "The return tracking shows it was delivered to your warehouse.",
        "My bank says nothing is pending from you.",
    ), ("order number is {order} btw",)),
    "rude_staff": Topic("complaint", 4, "Complaint about staff at your {city} store", (
        "Really disappointed with how I was treated at the {city} store today. The guy at the till walked off mid-sentence.",
        "Asked for help finding a {product} in {city} and got told to 'look it up on the app'. Great service.",
        "Staff member at your {city} location was incredibly rude when I tried to return a {product} WITH the receipt.",
    ), (
        "This was around {hour} pm at the checkout near the door.",
        "I've been a member for years and never had this happen.",
    )),
    "app_login": Topic("complaint", 6, "Can't log in to the app", (
        "Your app keeps logging me out every time I open the cart. iPhone, latest version. Lost my basket twice.",
        "app crashes when I hit checkout. tried 3 times. Android 14",
        "Trying to log in to the Northwind app and it just spins forever 🙄",
        "Getting 'something went wrong (error 503)' whenever I open My Orders in the app.",
    ), ("I've reinstalled it and cleared the cache, same thing.",)),
    "outage": Topic("complaint", 4, "Website not working", (
        "is the website down?? blank page on checkout",
        "{brand_x} site is down for me, can't even load the homepage",
        "Anyone else getting errors on northwindoutfitters.com? Tried to buy a {product} and it times out",
        "checkout threw an error after I entered my card. did it charge me or not??",
    ), ("I tried two browsers and my phone.",)),
    "where_order": Topic("question", 9, "Where is my order {order}?", (
        "Hi! Any idea when order {order} will ship? It's a birthday present 🎁",
        "Quick one — how do I track my order? Got a confirmation ({order}) but no tracking link.",
        "Can you tell me where my {product} is? Order {order}. Thanks",
    ), ("The confirmation email came through fine, just nothing since.",), ORDER),
    "hours": Topic("question", 5, "Store opening hours", (
        "What time does the {city} store open on Sunday?",
        "Are you open on the holiday Monday in {city}?",
        "Hi, what are your hours at the {city} store this week? Want to pick up a {product}.",
    ), ("I'm driving in from out of town so want to be sure.",)),
    "returns": Topic("question", 6, "Question about your returns policy", (
        "Can I return a {garment} I've worn once? It just doesn't fit right.",
        "What's your returns window? Bought a {product} {days} days ago, tags still on.",
        "Can I return an online order to the {city} store or does it have to go back by post?",
    ), ("I have the receipt and the original box.",)),
    "sizing": Topic("question", 5, "Sizing question – {garment}", (
        "Does the {garment} run small? I'm normally size {size}.",
        "Between size {size} and the next one up for the {garment} — which works for layering?",
    ), ("Your size chart and the reviews seem to disagree.",), GARMENT),
    "price_match": Topic("question", 4, "Price match request", (
        "Do you price match? {competitor} has the {product} for ${price} 👀",
        "Saw the {product} cheaper at {competitor}. Will you match it in store in {city}?",
    ), ("Here is the link to their listing: https://shop.example.com/p/{order}",)),
    "password_reset": Topic("question", 4, "Password reset email not arriving", (
        "Requested a password reset three times and no email has come through. Checked spam.",
        "How do I reset my password? The link in the email says it has expired.",
    ), ("The account is under this email address.",), (
        "nvm, found the email in my spam folder. sorry! 🙈",
    )),
    "account_locked": Topic("question", 3, "Account locked", (
        "My account got locked after I mistyped my password. How do I unlock it? I have points to use!",
        "It says my account is locked for 'security reasons'. I haven't done anything. Please help.",
    ), ("I have about 4,000 reward points on it.",)),
    "praise": Topic("praise", 7, "Thank you to {staff} at {city}", (
        "Huge shout-out to {staff} at the {city} store who spent 40 minutes helping me pick a {product}. Legend! 🙌",
        "Just wanted to say thank you to {staff} on your chat team, sorted my exchange in 5 minutes ❤️",
        "My {product} survived a week of rain in {country}. Bone dry. Thanks {brand}!",
        "{staff} in {city} went above and beyond today — found the last {product} in my size. Thank you!",
    ), ("Please pass this on to their manager.",), (
        "Seriously, give {staff} a raise 😄",
        "(and no, I don't need a reply, just wanted to say it!)",
    )),
    "bulk_order": Topic("lead", 3, "Corporate order enquiry – {qty} units", (
        "Hi, we're looking to order {qty} of the {product} for our company retreat. Do you offer bulk discounts?",
        "Do you do team/club pricing? Our hiking club needs {qty} branded fleeces.",
        "Who do I talk to about a corporate account? We outfit {qty} field staff every season.",
    ), ("We would need invoicing rather than card payment.", "Delivery would be to {city}."), (
        "We'd need them within three weeks if possible.",
    )),
    "ship_to": Topic("lead", 4, "Do you ship to {country}?", (
        "Do you ship to {country}? Would love to order the {product} 🙏",
        "Any plans to ship to {country}? Your gear is so much better than what we get here.",
        "How much is shipping to {country} for a {product} and how long does it take?",
    ), ("I'd be happy to pay import duties.",)),
    # Never drawn on its own: reserved for returning customers whose history contradicts it.
    "exaggerated": Topic("complaint", 0, "Still no answer after months", (
        "I've waited {months} MONTHS for a reply about my {product}!! Nobody at {brand} cares.",
        "This is ridiculous. I have contacted you {times} times about order {order} and NEVER heard back.",
        "{months} months and still no refund. I'm telling everyone I know not to shop here.",
    ), ("I am considering a chargeback.",)),
    "angry": Topic("complaint", 4, "UNACCEPTABLE", (
        "WHERE IS MY F***ING ORDER {order}??? THIRD TIME ASKING",
        "absolute s***show. {product} broke on day one and your chat bot just loops me back to the start",
        "what the h*** {brand_x}?? charged me TWICE for the same {product}. FIX IT",
        "DO NOT BUY FROM THESE PEOPLE. total c**p service, I want my ${price} back NOW",
    ), ("I want a call from a manager today.",)),
    "competitor": Topic("mention", 3, "Thinking of switching to {competitor}", (
        "{competitor} delivered my tent in 2 days. Northwind: {days} days and counting. Guess where I'm shopping next",
        "honestly {competitor}'s return process is way easier than yours. why do I have to print a label?",
        "Torn between your {product} and the one from {competitor}. Why should I pick yours?",
    ), ("Convince me.",)),
    "es": Topic("question", 1, "Pedido {order}", (
        "Hola, hice el pedido {order} hace {days} días y todavía no ha llegado. ¿Me pueden ayudar?",
    ), follow_ups=("¿Hola? ¿Alguien me puede responder?",), lang="es"),
    "fr": Topic("lead", 1, "Livraison en France ?", (
        "Bonjour, est-ce que vous livrez en France ? Je voudrais commander le {product}. Merci !",
    ), follow_ups=("Toujours pas de réponse… 😕",), lang="fr"),
    "de": Topic("complaint", 1, "Bestellung {order} beschädigt", (
        "Hallo, meine Bestellung {order} ist beschädigt angekommen. Wie kann ich sie zurückschicken?",
    ), follow_ups=("Hallo? Ich warte noch auf eine Antwort.",), lang="de"),
    "ar": Topic("question", 1, "طلب رقم {order}", (
        "مرحبا، طلبي رقم {order} لم يصل بعد. متى سيصل؟ 📦",
    ), follow_ups=("هل من أحد هنا؟",), lang="ar"),
    "he": Topic("complaint", 1, "הזמנה {order}", (
        "שלום, הזמנתי {product} לפני {days} ימים ועדיין לא קיבלתי. מספר הזמנה {order}",
    ), follow_ups=("שלום?? מישהו כאן?",), lang="he"),
    "ja": Topic("question", 1, "サイズについて", (
        "こんにちは。{garment}のサイズについて質問があります。普段は{size}です。🙇",
    ), follow_ups=("お返事お待ちしております。",), lang="ja"),
    "pl": Topic("question", 1, "Zwrot zamówienia {order}", (
        "Dzień dobry, czy mogę zwrócić kurtkę w sklepie w {city}? Zamówienie {order}.",
    ), follow_ups=("Halo? Czy ktoś tu jest?",), lang="pl"),
}  # fmt: skip

# Hostile on purpose: the desk must show these inertly, never interpret them.
HOSTILE = (
    "[bold red]FREE[/] gift cards for everyone who retweets this!! [blink]CLAIM NOW[/blink]",
    "[@click=app.quit]tap here for your refund[/] — support team",
    "ok this is weird \x1b[2J\x1b[31mYOUR ACCOUNT HAS BEEN SUSPENDED\x1b[0m call +1 555 0100",
    "\x1b]52;c;ZWNobyBoZWxsbyBmcm9tIHRoZSBkZW1v\x07 just checking my order status thanks",
    "refund for order \u202e321987-WN\u202c please, [link=https://evil.example]northwind.com/refund[/link]",
    "my order \x1b]8;;https://evil.example\x1b\\NW-123456\x1b]8;;\x1b\\ is late",
)
