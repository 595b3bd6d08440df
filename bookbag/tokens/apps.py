from django.apps import AppConfig


class TokensConfig(AppConfig):
    name = "bookbag.tokens"
    label = "tokens"
    verbose_name = "API tokens"
