"""Word-level distance between two rewrites of a reply, shared by settling, gold accuracy and metrics."""

import difflib
import re

# Words and punctuation marks are separate tokens, so "cable." and "cable" differ by one token.
TOKEN = re.compile(r"\w+|[^\w\s]")


def rewrite_tokens(text: str) -> list[str]:
    """Split ``text`` into lower-cased word and punctuation tokens; whitespace carries no weight."""
    return TOKEN.findall(text.lower())


def rewrite_distance(first: str, second: str) -> float:
    """Return 1 − difflib's similarity ratio of the two texts' word tokens, from 0 (same) to 1.

    Two empty texts are the same (0.0). ``autojunk`` is off so that common
    words in long rewrites still count.
    """
    matcher = difflib.SequenceMatcher(None, rewrite_tokens(first), rewrite_tokens(second), autojunk=False)
    return 1.0 - matcher.ratio()
