"""``{% load scores %}``: ``{{ value|score }}`` and ``{{ delta|score_delta }}`` show a Digital-Check score in the
page's language with :func:`digifit.assessment.display.format_score` (the one rounding rule)."""

from __future__ import annotations

from django import template
from django.utils.translation import get_language

from digifit.assessment.display import format_score

register = template.Library()


@register.filter
def score(value):
    """``58.333…`` → ``'58,3'`` (German), ``'58.3'`` (English); ``'–'`` for None."""
    return format_score(value, get_language())


@register.filter
def score_delta(value):
    """A change: ``12.5`` → ``'+12,5'``; ``'–'`` for None."""
    return format_score(value, get_language(), sign=True)
