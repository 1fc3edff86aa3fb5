"""``accu``: the operator's command line (DESIGN §7b). Today: ``accu migrate``."""
