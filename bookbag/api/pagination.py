from django.utils.dateparse import parse_datetime
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import Cursor, CursorPagination


def _is_datetime(text: str) -> bool:
    # A cursor's position is a created_at value; any other text would fail later, inside the query.
    try:
        return parse_datetime(text) is not None
    except ValueError:
        return False


class CreatedCursorPagination(CursorPagination):
    """Cursor pagination on creation order, stable while rows are added.

    An invalid ``cursor`` or ``page_size`` returns 400 naming the parameter;
    DRF's own class returns 404 for the cursor and ignores a bad page size.
    """

    ordering = ("-created_at", "-id")
    page_size_query_param = "page_size"
    max_page_size = 500
    invalid_cursor_message = "Invalid cursor; use the next or previous link of an earlier page as it is."

    def decode_cursor(self, request) -> Cursor | None:
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            cursor = None
            valid = False
        else:
            valid = cursor is None or cursor.position is None or self.position_is_valid(cursor.position)
        if not valid:
            raise ValidationError({self.cursor_query_param: [self.invalid_cursor_message]}, code="invalid")
        return cursor

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None or raw == "":
            return self.page_size
        if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= self.max_page_size:
            raise ValidationError(
                {self.page_size_query_param: [f"Enter a whole number from 1 to {self.max_page_size}."]},
                code="invalid",
            )
        return int(raw)

    def position_is_valid(self, position: str) -> bool:
        """Tell whether ``position``, taken from a cursor, is a value of the first ordering field."""
        return _is_datetime(position)


class SubmittedCursorPagination(CreatedCursorPagination):
    """Cursor pagination on submission order, for reviews, which have no creation time."""

    ordering = ("-submitted_at", "-id")


class IdCursorPagination(CreatedCursorPagination):
    """Cursor pagination on descending id, for rows whose ids follow their order, such as audit events."""

    ordering = ("-id",)

    def position_is_valid(self, position: str) -> bool:
        return position.isascii() and position.isdigit()
