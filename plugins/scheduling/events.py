"""What the scheduling plugin tells tenants, with shipped e-mail templates."""
from __future__ import annotations

from backhaul.plugins.notifications.api import EventType, Variable

VARIABLES = (Variable("job.number", "Job number", 42),
             Variable("job.type", "What the visit is", "Installation"),
             Variable("job.date", "Day of the visit", "Tuesday 08 December 2026"),
             Variable("job.time", "Time of the visit", "09:00"),
             Variable("job.technician", "Who comes", "Alex Fielder"))


def _email(subject: str, first: str) -> dict:
    return {"email": (subject, "Hello {{ contact.name }},\n\n" + first + "\n\n"
                      "{{ company.name }}\n", None)}


EVENT_TYPES = [
    EventType("scheduling.job_booked", "Visit booked", category="service",
              variables=VARIABLES, defaults=_email(
                  "Your {{ job.type }} visit: {{ job.date }} at {{ job.time }}",
                  "{{ job.technician }} will come for your {{ job.type }} on {{ job.date }} "
                  "at {{ job.time }} (job {{ job.number }}).")),
    EventType("scheduling.job_rescheduled", "Visit moved", category="service",
              variables=VARIABLES, defaults=_email(
                  "Your {{ job.type }} visit moved: {{ job.date }} at {{ job.time }}",
                  "Your {{ job.type }} visit is now on {{ job.date }} at {{ job.time }} "
                  "with {{ job.technician }}.")),
    EventType("scheduling.job_reminder", "Visit tomorrow", category="service",
              variables=VARIABLES, defaults=_email(
                  "Reminder: {{ job.type }} tomorrow at {{ job.time }}",
                  "A reminder: {{ job.technician }} comes tomorrow, {{ job.date }}, at "
                  "{{ job.time }} for your {{ job.type }}.")),
]
