"""Lists every named URL pattern of the project, so access rules can be checked for each."""

from django.urls import URLPattern, URLResolver, get_resolver


def iter_url_names(resolver=None, namespace=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from iter_url_names(entry, inner)
        elif isinstance(entry, URLPattern):
            yield f"{namespace}{entry.name}" if entry.name else f"<unnamed {entry.pattern}>"


def project_url_names(urlconf=None) -> set[str]:
    return set(iter_url_names(get_resolver(urlconf)))


def missing_from_table(table: dict, urlconf=None) -> set[str]:
    return project_url_names(urlconf) - set(table)
