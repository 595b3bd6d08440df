from django import forms
from django.contrib.auth import get_user_model

from .models import ApiToken, Scope


class ApiTokenCreateForm(forms.Form):
    """The admin's form for a new token. A superuser may pick any active user; others get a token of their own."""

    user = forms.ModelChoiceField(queryset=get_user_model().objects.none(), help_text="The account the token acts as.")
    name = forms.CharField(
        required=False, max_length=ApiToken._meta.get_field("name").max_length,
        help_text="A label that tells the token apart, such as the machine that uses it.",
    )
    scopes = forms.MultipleChoiceField(
        choices=Scope.choices, required=False, widget=forms.CheckboxSelectMultiple,
        help_text="Leave every box empty to give the token every scope the user's role allows.",
    )

    def __init__(self, *args, requester, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        users = get_user_model().objects.filter(is_active=True).order_by("username")
        if not requester.is_superuser:
            users = users.filter(pk=requester.pk)
        self.fields["user"].queryset = users
        self.fields["user"].initial = requester.pk
