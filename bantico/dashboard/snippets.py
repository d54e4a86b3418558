"""The install page's copy-paste code: the loader (plain and consent-gated) and checkout
examples that pass `bantico.context()` into Dodo payment metadata with the official SDKs
(Python `dodopayments` 1.x: `client.checkout_sessions.create`; TypeScript `dodopayments` 2.x:
`client.checkoutSessions.create`). Empty strings stand for missing values (docs/product.md §2)."""

from __future__ import annotations

import json
from dataclasses import dataclass

CONTEXT_FIELDS = (
    "linkId",
    "campaignId",
    "source",
    "medium",
    "content",
    "leadId",
    "visitorId",
    "sessionId",
)


@dataclass(frozen=True)
class Snippets:
    loader: str
    consent: str
    browser: str
    python: str
    typescript: str


def loader(token: str, base: str) -> str:
    return (
        f"<script>window.BANTICO_TOKEN = {json.dumps(token)};</script>\n"
        f'<script src="{base}/bantico.js" defer></script>'
    )


def consent(token: str, base: str) -> str:
    return f"""<script>
  // Nothing is stored in the browser until this runs: call loadBantico() from your
  // consent banner once the visitor accepts analytics (and on later visits if they did).
  function loadBantico() {{
    if (window.bantico && window.bantico.v) return;
    window.BANTICO_TOKEN = {json.dumps(token)};
    var script = document.createElement("script");
    script.src = "{base}/bantico.js";
    document.head.appendChild(script);
  }}
</script>"""


BROWSER = """// In the browser, when the visitor clicks "Buy": send the context to your server.
// Without the loader (no consent yet) the context is empty and the metadata stays blank.
const context = window.bantico && window.bantico.context ? window.bantico.context() : {};
const response = await fetch("/api/checkout", {
  method: "POST",
  headers: { "Content-Type": "application/json" },
  body: JSON.stringify({ product_id: "pdt_YOUR_PRODUCT", email, context }),
});
window.location.href = (await response.json()).checkout_url;"""

_QUOTED = [f'"{field}"' for field in CONTEXT_FIELDS]
_FIELDS_PY = ", ".join(_QUOTED[:4]) + ",\n    " + ", ".join(_QUOTED[4:])
_FIELDS_TS = ", ".join(_QUOTED[:4]) + ",\n  " + ", ".join(_QUOTED[4:])

PYTHON = f"""# pip install dodopayments fastapi
import os

from dodopayments import DodoPayments
from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()
dodo = DodoPayments(
    bearer_token=os.environ["DODO_PAYMENTS_API_KEY"],
    environment="test_mode",  # "live_mode" for real payments
)

BANTICO_FIELDS = (
    {_FIELDS_PY},
)


class CheckoutRequest(BaseModel):
    product_id: str
    email: str
    name: str | None = None
    context: dict[str, str | None] = {{}}  # what bantico.context() returned in the browser


@app.post("/api/checkout")
def create_checkout(body: CheckoutRequest) -> dict[str, str | None]:
    session = dodo.checkout_sessions.create(
        product_cart=[{{"product_id": body.product_id, "quantity": 1}}],
        customer={{"email": body.email, "name": body.name}},
        return_url="https://YOUR-SITE.example/thanks",
        # Every field, with "" for a missing one, so Bantico can attribute the payment.
        metadata={{field: str(body.context.get(field) or "") for field in BANTICO_FIELDS}},
    )
    return {{"checkout_url": session.checkout_url}}
"""

TYPESCRIPT = f"""// npm install dodopayments
import DodoPayments from "dodopayments";

const client = new DodoPayments({{
  bearerToken: process.env["DODO_PAYMENTS_API_KEY"],
  environment: "test_mode", // "live_mode" for real payments
}});

const BANTICO_FIELDS = [
  {_FIELDS_TS},
] as const;
type BanticoContext = Partial<Record<(typeof BANTICO_FIELDS)[number], string | null>>;

// Call from your server's POST /api/checkout route with what the browser sent.
export async function createCheckout(body: {{
  product_id: string;
  email: string;
  name?: string;
  context?: BanticoContext;
}}): Promise<{{ checkout_url: string | null | undefined }}> {{
  const metadata: Record<string, string> = {{}};
  // Every field, with "" for a missing one, so Bantico can attribute the payment.
  for (const field of BANTICO_FIELDS) metadata[field] = body.context?.[field] ?? "";
  const session = await client.checkoutSessions.create({{
    product_cart: [{{ product_id: body.product_id, quantity: 1 }}],
    customer: {{ email: body.email, name: body.name }},
    return_url: "https://YOUR-SITE.example/thanks",
    metadata,
  }});
  return {{ checkout_url: session.checkout_url }};
}}
"""


def for_project(token: str, base: str) -> Snippets:
    return Snippets(
        loader=loader(token, base),
        consent=consent(token, base),
        browser=BROWSER,
        python=PYTHON,
        typescript=TYPESCRIPT,
    )
