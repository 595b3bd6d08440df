from rest_framework.pagination import CursorPagination


class CreatedCursorPagination(CursorPagination):
    """Cursor pagination on creation order, stable while rows are added."""

    ordering = ("-created_at", "-id")
    page_size_query_param = "page_size"
    max_page_size = 500


class SubmittedCursorPagination(CreatedCursorPagination):
    """Cursor pagination on submission order, for reviews, which have no creation time."""

    ordering = ("-submitted_at", "-id")
