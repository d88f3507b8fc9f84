"""`hrm`: the operators' command line (see hrm/cli.py)."""
