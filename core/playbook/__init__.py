"""The engagement playbook: SLA clocks, triage, routing, escalation, tone check and sign-off."""
