"""Words for the codes the member page shows, with the code itself kept for small type beside them."""

from django import template

from config.text import OFFER_ACTIVATION_WORDS, OFFER_VISIBILITY_WORDS

register = template.Library()


@register.filter
def visibility_words(code: str) -> str:
    return OFFER_VISIBILITY_WORDS.get(code, code)


@register.filter
def activation_words(code: str) -> str:
    return OFFER_ACTIVATION_WORDS.get(code, code)
