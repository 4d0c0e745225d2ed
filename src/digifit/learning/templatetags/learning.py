"""``{{ thing|title_in:LANGUAGE_CODE }}``: a training's, module's or lesson's title in the page's language."""

from django import template

register = template.Library()


@register.filter
def title_in(thing, language: str) -> str:
    return thing.title_in(language or "de")
