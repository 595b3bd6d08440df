"""The set of row digests that a bundle keeps to drop exact duplicates, in 8 bytes a row.

A Python set of digests costs about 100 bytes a row (an object per digest
and a sparse table), which at a million rows is most of an export's
memory. This set stores the 64-bit digests themselves in one array with
open addressing, so it takes 12 to 24 bytes a row. The digests are hash
outputs, so their low bits spread evenly over the slots.
"""

from array import array

# The table doubles when more than two thirds of its slots are taken.
MAX_LOAD_NUMERATOR, MAX_LOAD_DENOMINATOR = 2, 3
INITIAL_SLOTS_BITS = 12
EMPTY = 0


class DigestSet:
    """A set of 64-bit integers that only grows; ``add`` tells whether a value is new."""

    def __init__(self) -> None:
        self.slots = array("Q", bytes(8 << INITIAL_SLOTS_BITS))
        self.mask = (1 << INITIAL_SLOTS_BITS) - 1
        self.size = 0
        # The value 0 marks an empty slot, so a digest of 0 is recorded here instead.
        self.has_zero = False

    def __len__(self) -> int:
        return self.size + self.has_zero

    def add(self, value: int) -> bool:
        """Add ``value`` (0 to 2**64 - 1) and return True, or return False when it is already in the set."""
        if value == EMPTY:
            added = not self.has_zero
            self.has_zero = True
            return added
        if not self._insert(self.slots, self.mask, value):
            return False
        self.size += 1
        if self.size * MAX_LOAD_DENOMINATOR > len(self.slots) * MAX_LOAD_NUMERATOR:
            self._grow()
        return True

    @staticmethod
    def _insert(slots: array, mask: int, value: int) -> bool:
        index = value & mask
        while True:
            current = slots[index]
            if current == EMPTY:
                slots[index] = value
                return True
            if current == value:
                return False
            index = (index + 1) & mask

    def _grow(self) -> None:
        old = self.slots
        self.slots = array("Q", bytes(16 * len(old)))
        self.mask = len(self.slots) - 1
        for value in old:
            if value != EMPTY:
                self._insert(self.slots, self.mask, value)
