"""The scriptable command line: a thin shell over frontdesk.core."""
