"""The SOP settings form: one text field per value (and per unit for per-unit values),
named as sop.services.sop_change takes them. It only parses; the service checks."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from sop.registry import KEYS, unit_field


class SopForm(forms.Form):
    def __init__(self, *args, snapshot, units=(), **kwargs):
        """`snapshot`: the values now (sop.selectors.current()); a field holds what the
        portal set, empty for "the default", which its placeholder shows."""
        super().__init__(*args, **kwargs)
        self.unit_names = []
        for item in KEYS.values():
            self.fields[item.key] = self._field(
                item, item.label, snapshot.set_values.get(item.key), snapshot.defaults[item.key]
            )
            self.fields[item.key].help_text = item.help_text
        for unit in units:
            for item in (item for item in KEYS.values() if item.per_unit):
                name = unit_field(item.key, unit.pk)
                self.fields[name] = self._field(
                    item,
                    f"{item.label} · {unit.name}",
                    snapshot.unit_value_set(item.key, unit),
                    snapshot.value(item.key),
                )
                self.unit_names.append(name)

    @staticmethod
    def _field(item, label, value, default):
        return forms.CharField(
            label=label,
            required=False,
            max_length=40,
            initial="" if value is None else value,
            widget=forms.TextInput(
                attrs={
                    "placeholder": _("Default: %(value)s") % {"value": item.display(default)},
                    "autocomplete": "off",
                }
            ),
        )

    def global_fields(self):
        return [self[name] for name in self.fields if name not in self.unit_names]

    def unit_fields(self):
        return [self[name] for name in self.unit_names]
