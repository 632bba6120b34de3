"""`{% fragment key %}…{% endfragment %}`: a part of a page rendered once for every request
that shows it the same, and kept in this process (the "fragments" cache,
portal/settings_monitoring.py).

The key is a string that names everything the part shows, made by the view that knows
it (the board's rows and alert cards, supervision/monitoring/views.py): two requests with
the same key get the same markup, so nothing a key does not name may be inside, and
nothing per request or per session either (a CSRF token stays outside). An empty key
renders the part every time (a form showing what was typed and its errors).

Parts are kept in process memory only, never in Redis: the board's rows and alerts name
rides by reference and carry no survivor's data, and a process that restarts renders
them again."""

from __future__ import annotations

import hashlib

from django import template
from django.core.cache import caches

register = template.Library()

CACHE = "fragments"


class FragmentNode(template.Node):
    def __init__(self, nodelist, key):
        self.nodelist = nodelist
        self.key = key

    def render(self, context):
        key = self.key.resolve(context)
        if not key:
            return self.nodelist.render(context)
        name = "fragment:" + hashlib.blake2b(str(key).encode(), digest_size=16).hexdigest()
        cache = caches[CACHE]
        markup = cache.get(name)
        if markup is None:
            markup = self.nodelist.render(context)
            cache.set(name, markup)
        return markup


@register.tag
def fragment(parser, token):
    bits = token.split_contents()
    if len(bits) != 2:
        raise template.TemplateSyntaxError("{% fragment %} takes one argument, its key.")
    nodelist = parser.parse(("endfragment",))
    parser.delete_first_token()
    return FragmentNode(nodelist, parser.compile_filter(bits[1]))
