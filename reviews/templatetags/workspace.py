"""Template filters of the reviewer workspace."""

from django import template
from django.utils.safestring import SafeString

from ..safe_markdown import render_markdown

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(text: str | None) -> SafeString:
    """Render untrusted Markdown as sanitised HTML (see ``reviews.safe_markdown``)."""
    return render_markdown(text)
