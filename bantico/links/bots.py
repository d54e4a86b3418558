"""Who is not a person: crawlers, link unfurlers and preview fetchers, by User-Agent."""

from __future__ import annotations

import re

# Unfurlers fetch a link the moment it is pasted; counting them would invent clicks.
_BOT_PATTERN = re.compile(
    r"bot\b|bot/|crawler|spider|slurp|facebookexternalhit|facebookcatalog|meta-externalagent|"
    r"slack-imgproxy|slackbot|slack/|twitterbot|linkedinbot|discordbot|whatsapp|telegrambot|"
    r"skypeuripreview|microsoftpreview|teams/|pinterest|redditbot|embedly|iframely|"
    r"googlebot|google-inspectiontool|adsbot-google|mediapartners-google|feedfetcher|bingbot|"
    r"bingpreview|duckduckbot|yandex|baiduspider|applebot|petalbot|semrush|ahrefs|mj12bot|"
    r"headlesschrome|phantomjs|python-requests|python-httpx|curl/|wget/|"
    r"go-http-client|okhttp|java/|libwww|httpclient|axios/|node-fetch|vkshare|w3c_validator|"
    r"mastodon|bluesky|cardyb|snapchat|viber|line/|kakaotalk-scrap|zoominfobot|preview",
    re.IGNORECASE,
)


def is_bot(user_agent: str | None) -> bool:
    """A missing User-Agent is a script, not a browser."""
    if not user_agent or not user_agent.strip():
        return True
    return _BOT_PATTERN.search(user_agent) is not None
