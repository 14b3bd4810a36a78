"""`jimoku eval`: the gold set through the same graph the service uses, and its report."""
