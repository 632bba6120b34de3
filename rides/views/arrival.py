"""After a completed ride: "Arrived safely" or "Report a problem" (with a note), from the
ride page (templates/rides/_arrival.html). Both call rides/pipeline/arrival.py."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cases.services import access_log_record
from rides.forms import ArrivalProblemForm
from rides.pipeline.arrival import ride_arrival_confirm, ride_arrival_problem
from rides.selectors import ride_get_for_user
from rides.views.common import require_booking_role, show_errors
from rides.views.ride import RIDE_PAGE_FIELDS, ride_context


@require_POST
def ride_arrival(request, reference):
    """`answer=arrived` confirms; `answer=problem` needs the note (the page again with
    what was typed and the error when it is missing)."""
    require_booking_role(request.user)
    ride = ride_get_for_user(user=request.user, reference=reference)
    try:
        if request.POST.get("answer") == "problem":
            form = ArrivalProblemForm(request.POST)
            if not form.is_valid():
                ride = ride_get_for_user(user=request.user, reference=reference, with_events=True)
                access_log_record(
                    user=request.user,
                    case=ride.case,
                    fields=RIDE_PAGE_FIELDS,
                    request=request,
                    view="rides:detail",
                )
                context = ride_context(request, ride, arrival_form=form)
                return render(request, "rides/detail.html", context, status=400)
            ride_arrival_problem(ride_id=ride.pk, user=request.user, note=form.cleaned_data["note"])
            messages.success(
                request, _("Thank you. The problem is recorded and the supervisors are alerted.")
            )
        else:
            ride_arrival_confirm(ride_id=ride.pk, user=request.user)
            messages.success(request, _("Thank you. The safe arrival is recorded."))
    except ValidationError as exc:
        show_errors(request, exc)
    return redirect("rides:detail", reference=ride.reference)
