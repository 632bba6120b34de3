"""The SOP settings page for administrators: the values now with their defaults, the
form to change them (every error at once, what was typed kept) and the change history."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.models import Role, Unit
from sop.forms import SopForm
from sop.registry import KEYS
from sop.selectors import current, sop_history_page
from sop.services import sop_change


def _query(name: str, cursor: str | None) -> str:
    if not cursor:
        return ""
    values = QueryDict(mutable=True)
    values[name] = cursor
    return values.urlencode()


def _history(request) -> dict:
    page = sop_history_page(after=request.GET.get("after"), before=request.GET.get("before"))
    rows = []
    for change in page.rows:
        item = KEYS.get(change.key)
        rows.append(
            {
                "change": change,
                "label": item.label if item else change.key,
                "old": item.display(change.old_value) if item else change.old_value,
                "new": item.display(change.new_value) if item else change.new_value,
            }
        )
    return {
        "history": rows,
        "previous_query": _query("before", page.previous_cursor),
        "next_query": _query("after", page.next_cursor),
    }


def _values(snapshot, units) -> list[dict]:
    rows = [
        {
            "label": item.label,
            "now": item.display(snapshot.value(item.key)),
            "default": item.display(snapshot.defaults[item.key]),
            "set": snapshot.is_set(item.key),
        }
        for item in KEYS.values()
    ]
    for unit in units:
        for item in (item for item in KEYS.values() if item.per_unit):
            own = snapshot.unit_value_set(item.key, unit)
            rows.append(
                {
                    "label": f"{item.label} · {unit.name}",
                    "now": item.display(snapshot.for_unit(item.key, unit)),
                    "default": item.display(snapshot.value(item.key)),
                    "set": own is not None,
                }
            )
    return rows


@require_http_methods(["GET", "POST"])
def sop_settings(request):
    if request.user.role != Role.ADMIN:
        raise PermissionDenied
    units = list(Unit.objects.filter(is_active=True).order_by("code"))
    snapshot = current()
    status = 200
    if request.method == "POST":
        form = SopForm(request.POST, snapshot=snapshot, units=units)
        if form.is_valid():
            try:
                changed = sop_change(user=request.user, **form.cleaned_data)
            except ValidationError as exc:
                for name, texts in exc.message_dict.items():
                    form.add_error(name if name in form.fields else None, texts)
            else:
                if changed:
                    messages.success(request, _("The SOP settings were saved."))
                else:
                    messages.info(request, _("Nothing was changed."))
                return redirect("sop:settings")
        status = 400
    else:
        form = SopForm(snapshot=snapshot, units=units)
    context = {"form": form, "values": _values(snapshot, units), **_history(request)}
    return render(request, "sop/settings.html", context, status=status)
