"""Codes in words for the admin's own templates (the machine code follows in small type): see config/admin_display."""

from django import template

from config.admin_display import code_in_words, value_in_words

register = template.Library()


@register.filter
def in_words(code):
    return code_in_words(code)


@register.filter
def channel_in_words(channel):
    return code_in_words(channel, channel=True)


@register.filter(name="value_in_words")
def value_in_words_filter(value):
    return value_in_words(value)
