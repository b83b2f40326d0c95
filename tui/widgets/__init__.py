"""The workstation's panes."""
