"""The shells over core and kb: the Textual workstation and the scriptable CLI."""
