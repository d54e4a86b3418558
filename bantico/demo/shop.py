"""The demo shop: where its visitors come from, what it sells, and who buys. Only data."""

from __future__ import annotations

from dataclasses import dataclass, field

from bantico_emulators.dodo.state import MONTHLY_PRODUCT_ID, ONE_TIME_PRODUCT_ID

SITE = "https://demo-shop.example"
PROJECT_NAME = "Demo shop"
TEAM_PRODUCT_ID = "pdt_0DemoTeamMonthly00000"
TEAM_PRICE = 7900
RECURRING = frozenset({MONTHLY_PRODUCT_ID, TEAM_PRODUCT_ID})
PRICES = {ONE_TIME_PRODUCT_ID: 4900, MONTHLY_PRODUCT_ID: 1900, TEAM_PRODUCT_ID: TEAM_PRICE}


# A tracked link's campaign, source, medium, content and lead.
Labels = tuple[str, str, str, str, str | None]


@dataclass(frozen=True, slots=True, kw_only=True)
class Channel:
    """One way visitors arrive: a tracked link (`labels`), or a landing without one (UTM tags,
    a referring site, or nothing at all)."""

    name: str = field(kw_only=False)
    share: float  # of all visitors
    quality: float  # how likely its visitors are to buy, relative to the others
    window: tuple[float, float] = (0.0, 1.0)  # when it brings visitors, as parts of the history
    burst: float = 1.0  # above 1, most visitors come early in the window (a send, a post)
    referrer: str | None = None
    path: str = "/"
    labels: Labels | None = None
    utm: dict[str, str] = field(default_factory=dict)
    unfurls: float = 0.0  # link previews fetched by bots, per click

    @property
    def traceable(self) -> bool:
        """Whether its visitors arrive with anything to attribute to."""
        return bool(self.labels or self.utm or self.referrer)

    @property
    def destination(self) -> str:
        return SITE + self.path


X = "https://t.co/"
REDDIT = "https://www.reddit.com/r/SaaS/"
LINKEDIN = "https://www.linkedin.com/"

CHANNELS = (
    Channel(
        "launch",
        share=0.13,
        quality=0.6,
        window=(0.05, 0.25),
        burst=2,
        referrer=X,
        unfurls=0.3,
        labels=("launch-week", "x", "social", "launch-thread", None),
    ),
    Channel(
        "x-pricing",
        share=0.05,
        quality=1.0,
        window=(0.10, 0.45),
        referrer=X,
        unfurls=0.3,
        path="/pricing",
        labels=("launch-week", "x", "social", "pricing-tweet", None),
    ),
    Channel(
        "ama",
        share=0.14,
        quality=0.45,
        window=(0.62, 0.75),
        burst=3,
        referrer=REDDIT,
        unfurls=0.1,
        labels=("reddit-ama", "reddit", "community", "ama-post", None),
    ),
    Channel(
        "ama-reply",
        share=0.04,
        quality=0.9,
        window=(0.62, 0.85),
        burst=2,
        referrer=REDDIT,
        path="/pricing",
        labels=("reddit-ama", "reddit", "community", "comment-reply", None),
    ),
    # A DM to one lead: a few clicks (the lead, a colleague or two), and often a sale.
    Channel(
        "li-acme",
        share=0.006,
        quality=5.0,
        window=(0.08, 0.9),
        referrer=LINKEDIN,
        unfurls=0.5,
        path="/pricing",
        labels=("founder-outreach", "linkedin", "dm", "intro", "lead_acme"),
    ),
    Channel(
        "li-globex",
        share=0.006,
        quality=5.0,
        window=(0.2, 0.9),
        referrer=LINKEDIN,
        unfurls=0.5,
        path="/pricing",
        labels=("founder-outreach", "linkedin", "dm", "intro", "lead_globex"),
    ),
    Channel(
        "li-initech",
        share=0.005,
        quality=4.0,
        window=(0.4, 0.95),
        referrer=LINKEDIN,
        unfurls=0.5,
        path="/pricing",
        labels=("founder-outreach", "linkedin", "dm", "follow-up", "lead_initech"),
    ),
    Channel(
        "nl-header",
        share=0.14,
        quality=1.4,
        window=(0.76, 0.92),
        burst=4,
        path="/pricing",
        labels=("newsletter-nov", "newsletter", "email", "header-cta", None),
    ),
    Channel(
        "nl-footer",
        share=0.04,
        quality=1.1,
        window=(0.76, 0.92),
        burst=4,
        labels=("newsletter-nov", "newsletter", "email", "footer-link", None),
    ),
    # Read out on air: people type the short link, so no referrer.
    Channel(
        "ep42",
        share=0.08,
        quality=1.6,
        window=(0.45, 1.0),
        burst=1.5,
        labels=("indie-podcast", "podcast", "audio", "ep-42", None),
    ),
    # Arrivals without a tracked link.
    Channel("google", share=0.12, quality=0.8, referrer="https://www.google.com/"),
    Channel(
        "hn",
        share=0.035,
        quality=0.4,
        window=(0.3, 0.4),
        burst=3,
        referrer="https://news.ycombinator.com/",
    ),
    Channel(
        "producthunt",
        share=0.04,
        quality=0.7,
        window=(0.05, 0.15),
        burst=2,
        referrer="https://www.producthunt.com/",
        utm={"source": "producthunt", "medium": "launch", "campaign": "ph-launch"},
    ),
    Channel("direct", share=0.08, quality=0.7),
)
LINKS = tuple(c for c in CHANNELS if c.labels)

PAGES = ("/features", "/blog/attribution-for-founders", "/changelog", "/docs/install")
UNFURLERS = (
    "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
    "Twitterbot/1.0",
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
)
BROWSERS = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
)

FIRST_NAMES = (
    "Ada", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kemi",
    "Liam", "Mei", "Nora", "Omar", "Priya", "Rosa", "Sami", "Tara", "Victor", "Yara", "Zoe",
)  # fmt: skip
LAST_NAMES = (
    "Adeyemi", "Berg", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Haddad", "Ito",
    "Jensen", "Kowalski", "Larsen", "Moreau", "Nakamura", "Okafor", "Patel", "Silva", "Novak",
)  # fmt: skip
# Made-up addresses on reserved domains: the demo never mails anyone.
HOME_DOMAINS = ("example.com", "example.net", "example.org", "mail.example")
WORK_DOMAINS = ("acme.example", "globex.example", "initech.example", "umbrella.example")
FOUNDER_EMAIL = "founder@demo-shop.example"
# A customer paying in their own currency; the merchant is settled in USD (rates are made up).
FOREIGN = (("EUR", 0.93), ("GBP", 0.79))
