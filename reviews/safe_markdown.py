"""Render untrusted Markdown (AI messages, rewrites, rubric guidance) as sanitised HTML.

Two layers keep a payload out of the page. markdown-it-py runs with raw
HTML disabled, so ``<script>`` in the source comes out as escaped text, and
its link validator drops ``javascript:``, ``vbscript:`` and ``data:`` URLs.
nh3 (the Rust ``ammonia`` sanitiser) then keeps only the tags and
attributes listed below and only http, https and mailto links. Images are
not rendered: a remote image in an AI reply would make the reviewer's
browser fetch an address the AI chose.
"""

import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

ALLOWED_TAGS = {
    "a", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
    "li", "ol", "p", "pre", "s", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "td": {"style"}, "th": {"style"}}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}
# markdown-it aligns table cells with a style attribute; keep that property only.
ALLOWED_STYLE_PROPERTIES = {"text-align"}


def _parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"html": False, "linkify": False, "breaks": True})
    parser.enable(["table", "strikethrough"])
    parser.disable("image")
    return parser


_PARSER = _parser()


def render_markdown(text: str | None) -> SafeString:
    """Return ``text`` rendered from CommonMark (with tables and strikethrough) as sanitised HTML."""
    if not text:
        return mark_safe("")
    html = _PARSER.render(str(text))
    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        filter_style_properties=ALLOWED_STYLE_PROPERTIES,
        link_rel="noopener noreferrer nofollow",
    )
    return mark_safe(cleaned)  # noqa: S308 - nh3 has sanitised it above
