"""The train/validation split: a stable hash of the conversation's opening picks each row's side.

An example's bucket is the first six bytes of its ``conversation_key`` read
as a fraction in [0, 1), and the example goes to validation when the bucket
is below the ratio. The bucket depends on the conversation alone, so every item of one
conversation lands on the same side, a re-export keeps every row on its
side, and raising the ratio only moves rows from train to validation.
"""

SPLITS = ("train", "validation")
# Six bytes (48 bits) fit a float's 53-bit mantissa, so the largest bucket stays below 1.
BUCKET_BYTES = 6


def split_bucket(conversation_key: str) -> float:
    """Return the bucket of a conversation key (a SHA-256 hex digest), a number in [0, 1)."""
    return int(conversation_key[: BUCKET_BYTES * 2], 16) / 2 ** (BUCKET_BYTES * 8)


def split_of(conversation_key: str, *, ratio: float) -> str:
    """Return ``"validation"`` for a bucket below ``ratio``, else ``"train"``."""
    return SPLITS[1] if ratio and split_bucket(conversation_key) < ratio else SPLITS[0]
